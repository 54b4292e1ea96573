"""Google API errors (google-api-python-client's HttpError) as the four connector outcomes, for
every Google connector (Calendar, Business Profile)."""

import datetime as dt
import json

from django.utils import timezone
from googleapiclient.errors import HttpError

from comadvisor.connectors import ConnectorError, NeedsReconnect, Permanent, RateLimited, RetryLater

# Quota reasons of the v3-style APIs (errors[].reason) and the status of the newer ones.
RATE_LIMIT_REASONS = {
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
    "RATE_LIMIT_EXCEEDED",
    "RESOURCE_EXHAUSTED",
}


def error_details(error: HttpError) -> tuple[str, str, str]:
    """(status, reason, message) of a Google error body, each possibly empty."""
    try:
        payload = json.loads(error.content.decode() or "{}")["error"]
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return "", "", ""
    if not isinstance(payload, dict):
        return "", "", str(payload)[:200]
    reasons = [item.get("reason", "") for item in payload.get("errors") or []]
    reasons += [item.get("reason", "") for item in payload.get("details") or []]
    reason = next((item for item in reasons if item), "")
    return payload.get("status", "") or "", reason, str(payload.get("message", ""))[:200]


def google_outcome(error: HttpError, *, now: dt.datetime | None = None) -> ConnectorError:
    """401: reconnect; 429, or 403 for a quota: wait (Retry-After, at least a minute); 5xx: retry;
    any other refusal: permanent."""
    status = int(error.resp.status)
    api_status, reason, message = error_details(error)
    now = now or timezone.now()
    if status == 401:
        return NeedsReconnect("Google refused the credentials (401)")
    if status == 429 or (
        status == 403 and (reason in RATE_LIMIT_REASONS or api_status in RATE_LIMIT_REASONS)
    ):
        try:
            retry_after = int(error.resp.get("retry-after", 0) or 0)
        except (TypeError, ValueError):
            retry_after = 0
        return RateLimited(
            f"Google rate limit ({reason or api_status or status})",
            now + dt.timedelta(seconds=max(retry_after, 60)),
        )
    if status >= 500:
        return RetryLater(f"Google error {status}")
    detail = " ".join(part for part in (api_status or reason, message) if part)
    return Permanent(f"Google refused the request ({status} {detail})".strip()[:300])
