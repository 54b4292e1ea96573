"""TripAdvisor Content API through requests: the latest reviews of a location (the API gives at
most 5 per language), read in French and English.

external_id is the TripAdvisor location_id; the key is the company's (settings.TRIPADVISOR_API_KEY),
no per-account credentials. The terms forbid storing review content: reviews come back with
storable=False, the caller keeps only the id, rating, dates, link and a digest. There is no reply
endpoint: replies are written on TripAdvisor.
"""

import datetime as dt

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from comadvisor.connectors import ConnectorError
from sales.enums import Network
from social import quotas
from social.providers import (
    NeedsReconnect,
    Permanent,
    Provider,
    RateLimited,
    RemoteReview,
    RetryLater,
)

LANGUAGES = ("fr", "en")
# Calls one location's review fetch makes (one per language).
CALLS_PER_FETCH = len(LANGUAGES)
TIMEOUT = 30
RATE_LIMIT_WAIT = dt.timedelta(minutes=1)


def monthly_calls() -> int:
    """The plan's calls per month (admin setting)."""
    from social.models import SocialSettings

    return SocialSettings.load().tripadvisor_monthly_calls


def _parse_time(value: str | None) -> dt.datetime | None:
    parsed = parse_datetime(value) if value else None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def _message(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))[:200]
    if isinstance(payload, dict) and payload.get("message"):
        return str(payload["message"])[:200]
    return ""


def classify(response: requests.Response, *, now: dt.datetime | None = None) -> ConnectorError:
    status = response.status_code
    now = now or timezone.now()
    if status in (401, 403):
        return NeedsReconnect(f"TripAdvisor refused the API key ({status})")
    if status == 429:
        try:
            seconds = int(response.headers.get("Retry-After", 0) or 0)
        except ValueError:
            seconds = 0
        wait = dt.timedelta(seconds=seconds) if seconds else RATE_LIMIT_WAIT
        return RateLimited("TripAdvisor rate limit (429)", now + wait)
    if status >= 500:
        return RetryLater(f"TripAdvisor error {status}")
    detail = _message(response)
    return Permanent(f"TripAdvisor refused the request ({status}{': ' + detail if detail else ''})")


class TripadvisorProvider(Provider):
    network = Network.TRIPADVISOR
    reviews_note = _(
        "TripAdvisor's Content API gives only the latest five reviews in each language and has "
        "no reply endpoint: answer on TripAdvisor, then mark the review answered here. Its terms "
        "do not allow keeping the text of the reviews."
    )

    def __init__(self, account, *, session: requests.Session | None = None):
        super().__init__(account)
        self.session = session or requests.Session()

    def _get(self, path: str, params: dict) -> dict:
        key = settings.TRIPADVISOR_API_KEY
        if not key:
            raise NeedsReconnect("no TripAdvisor API key configured")
        url = f"{settings.TRIPADVISOR_API_URL.rstrip('/')}{path}"
        quotas.acquire(quotas.TRIPADVISOR)
        quotas.monthly_take(quotas.TRIPADVISOR_MONTH, limit=monthly_calls())
        try:
            response = self.session.get(
                url,
                params={**params, "key": key},
                headers={"Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as error:
            raise RetryLater(f"network error: {type(error).__name__}") from error
        if response.status_code >= 400:
            error = classify(response)
            if isinstance(error, RateLimited):
                # The key's rate is the company's: every worker waits, not only this account.
                quotas.pause(quotas.TRIPADVISOR, error.until)
            raise error
        try:
            body = response.json()
        except ValueError as error:
            raise RetryLater("TripAdvisor answered with no JSON body") from error
        if not isinstance(body, dict):
            raise RetryLater("TripAdvisor answered with an unexpected body")
        return body

    def fetch_reviews(self, since: dt.datetime | None) -> list[RemoteReview]:
        """The latest reviews in each language, merged by id, newest first. All of them whatever
        `since`: the API gives at most five per language, and an edited review keeps its
        published date (there is no update time), so only reading them again notices the edit.
        Not storable (TripAdvisor's terms)."""
        location_id = self.account.external_id
        reviews: dict[str, RemoteReview] = {}
        for language in LANGUAGES:
            body = self._get(f"/location/{location_id}/reviews", {"language": language})
            for item in body.get("data") or []:
                review_id = str(item.get("id") or "")
                written = _parse_time(item.get("published_date"))
                if not review_id or written is None or review_id in reviews:
                    continue
                rating = item.get("rating")
                reviews[review_id] = RemoteReview(
                    external_id=review_id,
                    author=(item.get("user") or {}).get("username") or "",
                    rating=int(rating) if isinstance(rating, int | float) and rating else None,
                    text=item.get("text") or "",
                    written_at=written,
                    updated_at=written,
                    url=item.get("url") or "",
                    language=item.get("lang") or language,
                    storable=False,
                )
        return sorted(reviews.values(), key=lambda review: review.written_at, reverse=True)
