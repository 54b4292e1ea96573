"""Graph API plumbing shared by the Facebook and Instagram connectors (Meta's facebook-business
SDK): an API instance per account token, the error outcomes, the usage headers and the insights
edge read with a per-metric fallback."""

import datetime as dt
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookError, FacebookRequestError
from facebook_business.session import FacebookSession

from comadvisor.connectors import (
    ConnectorError,
    NeedsReconnect,
    Permanent,
    RateLimited,
    RetryLater,
)
from social import quotas
from social.metrics import GRAPH_VERSION
from social.providers import ContentRefused

# Seconds before a Graph request is given up (then RetryLater).
TIMEOUT = 30
# At or above this share (percent) of a usage quota, callers are asked to slow down.
USAGE_HIGH = 90
# Pages of one paged edge read at most (a safety net against a paging loop).
MAX_PAGES = 50

RECONNECT_CODES = {190, 102, 463, 467}
# 9: Instagram's publishing limit (50 posts per rolling 24 h).
RATE_LIMIT_CODES = {4, 9, 17, 32, 613, *range(80000, 80015)}
# -1, -2: Instagram's own "server error, try again" codes (given with HTTP 400).
RETRY_CODES = {-2, -1, 1, 2}
PERMANENT_CODES = {10, 100, 368, 506, *range(200, 300)}
# Codes that refuse the post itself when publishing: an invalid parameter (a caption, a link, an
# image Meta cannot use), a missing upload, a duplicate status, media it cannot fetch. Subcode 33
# of #100 (an object that does not exist or cannot be reached) is the account's, not the post's.
CONTENT_CODES = {100, 324, 506, 9004}
NOT_CONTENT_SUBCODES = {33}
USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-ad-account-usage")
BUC_HEADER = "x-business-use-case-usage"
# Shared pauses (social.quotas): the app's quota, and one business use case (a Page, an
# Instagram account) by its id.
APP_QUOTA = "meta-app"
BUSINESS_QUOTA = "meta-business"
# How long a quota at USAGE_HIGH pauses when Meta does not say when access comes back.
USAGE_PAUSE = dt.timedelta(minutes=5)


def _short(text: object, limit: int = 200) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_header(headers, name: str):
    try:
        raw = headers.get(name) if headers else None
        return json.loads(raw) if raw else None
    except (TypeError, ValueError):
        return None


def _buc_entries(headers) -> list[dict]:
    usage = _json_header(headers, BUC_HEADER)
    if not isinstance(usage, dict):
        return []
    return [
        entry
        for entries in usage.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]


def usage_percent(headers) -> float:
    """The highest share of any quota the usage headers report (0 when there are none)."""
    figures: list[float] = []
    for name in USAGE_HEADERS:
        usage = _json_header(headers, name)
        if isinstance(usage, dict):
            figures += [value for value in usage.values() if isinstance(value, int | float)]
    for entry in _buc_entries(headers):
        figures += [
            entry[key]
            for key in ("call_count", "total_cputime", "total_time")
            if isinstance(entry.get(key), int | float)
        ]
    return max(figures, default=0)


def _usage_figures(values) -> list[float]:
    return [value for value in values if isinstance(value, int | float)]


def share_pauses(headers, node_id: str | None, *, now: dt.datetime | None = None) -> None:
    """Pause, for every worker, the quotas the usage headers report at USAGE_HIGH or above: the
    app's (X-App-Usage), the Page's (X-Page-Usage, for the node called) and each business use
    case (X-Business-Use-Case-Usage, until its estimated time to regain access)."""
    now = now or timezone.now()
    app = _json_header(headers, "x-app-usage")
    if isinstance(app, dict) and max(_usage_figures(app.values()), default=0) >= USAGE_HIGH:
        quotas.pause(APP_QUOTA, now + USAGE_PAUSE)
    page = _json_header(headers, "x-page-usage")
    if (
        node_id
        and isinstance(page, dict)
        and max(_usage_figures(page.values()), default=0) >= USAGE_HIGH
    ):
        quotas.pause(f"{BUSINESS_QUOTA}:{node_id}", now + USAGE_PAUSE)
    usage = _json_header(headers, BUC_HEADER)
    if not isinstance(usage, dict):
        return
    for business_id, entries in usage.items():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            figures = [entry.get(key) for key in ("call_count", "total_cputime", "total_time")]
            regain = entry.get("estimated_time_to_regain_access")
            if max(_usage_figures(figures), default=0) < USAGE_HIGH and not regain:
                continue
            wait = dt.timedelta(minutes=regain) if isinstance(regain, int | float) else None
            quotas.pause(
                f"{BUSINESS_QUOTA}:{business_id}", now + max(wait or USAGE_PAUSE, USAGE_PAUSE)
            )


def regain_minutes(headers) -> float | None:
    """X-Business-Use-Case-Usage's estimated_time_to_regain_access (minutes), when given."""
    minutes = [
        entry["estimated_time_to_regain_access"]
        for entry in _buc_entries(headers)
        if isinstance(entry.get("estimated_time_to_regain_access"), int | float)
    ]
    return max(minutes) if minutes else None


def classify(error: Exception, *, now: dt.datetime | None = None) -> ConnectorError:
    """Map a Graph or network failure to one of the four connector outcomes."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, requests.RequestException):
        return RetryLater(f"network error: {type(error).__name__}")
    if not isinstance(error, FacebookRequestError):
        return Permanent(f"Graph SDK error: {_short(error)}")
    now = now or timezone.now()
    code = error.api_error_code()
    subcode = error.api_error_subcode()
    status = error.http_status() or 0
    message = _short(error.api_error_message())
    detail = f": {message}" if message else ""
    where = f"#{code}, HTTP {status}" if code is not None else f"HTTP {status}"
    if code in RECONNECT_CODES or subcode in (463, 467):
        return NeedsReconnect(f"Meta refused the access token (#{code}){detail}")
    if code in RATE_LIMIT_CODES or (code is None and status == 429):
        minutes = regain_minutes(error.http_headers())
        wait = dt.timedelta(minutes=minutes) if minutes else dt.timedelta(hours=1)
        return RateLimited(f"Meta rate limit ({where}){detail}", now + wait)
    if code in PERMANENT_CODES:
        return Permanent(f"Meta refused the request (#{code}){detail}")
    if code in RETRY_CODES or status >= 500 or error.api_transient_error():
        return RetryLater(f"Meta error ({where}){detail}")
    return Permanent(f"Meta refused the request ({where}){detail}")


@contextmanager
def publishing() -> Iterator[None]:
    """Around a publication: a permanent refusal of the post itself (CONTENT_CODES) comes out as
    ContentRefused, so the desk keeps it on the publication and leaves the account alone; a
    refusal of the token or a permission stays the account's."""
    try:
        yield
    except Permanent as error:
        cause = error.__cause__
        if (
            isinstance(error, ContentRefused)
            or not isinstance(cause, FacebookRequestError)
            or cause.api_error_code() not in CONTENT_CODES
            or cause.api_error_subcode() in NOT_CONTENT_SUBCODES
        ):
            raise
        raise ContentRefused(str(error)) from cause


@contextmanager
def translated() -> Iterator[None]:
    """Run SDK calls: failures come out as connector outcomes, the SDK's parameter warnings
    (its enums lag behind the API) are silenced."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except (FacebookError, requests.RequestException) as error:
        raise classify(error) from error


class GraphApi(FacebookAdsApi):
    """FacebookAdsApi that also fails on an HTTP error status (the SDK alone takes a non-JSON
    5xx body for a success), reports every response's usage headers to `observer`, shares the
    quotas they say are nearly spent with the other workers, and makes no call under a paused
    quota (RateLimited until it resumes)."""

    def __init__(self, session, api_version=None, observer: Callable[[float], None] | None = None):
        super().__init__(session, api_version)
        self.observer = observer

    def _observe(self, headers, node_id: str | None) -> None:
        share_pauses(headers, node_id)
        if self.observer is not None:
            self.observer(usage_percent(headers))

    def call(self, method, path, params=None, headers=None, files=None, **kwargs):
        node_id = None
        if isinstance(path, list | tuple) and path:
            node_id = str(path[0])
            quotas.check_paused(APP_QUOTA, f"{BUSINESS_QUOTA}:{node_id}")
        else:
            quotas.check_paused(APP_QUOTA)
        try:
            response = super().call(method, path, params, headers, files, **kwargs)
        except FacebookRequestError as error:
            self._observe(error.http_headers(), node_id)
            raise
        self._observe(response.headers(), node_id)
        if (response.status() or 200) >= 400:
            raise FacebookRequestError(
                "Call was not successful",
                {
                    "method": method,
                    "path": path if isinstance(path, str) else "/".join(map(str, path)),
                    "params": params,
                },
                response.status(),
                response.headers(),
                response.body(),
            )
        return response


def token_of(credentials: str) -> str:
    try:
        token = json.loads(credentials or "{}").get("access_token")
    except (TypeError, ValueError, AttributeError):
        token = None
    if not token:
        raise NeedsReconnect("no Meta access token in the account's credentials")
    return token


def graph_api(
    access_token: str | None, *, observer: Callable[[float], None] | None = None
) -> GraphApi:
    """An API instance of its own (not the SDK's process-wide default) for one token, speaking
    social.metrics.GRAPH_VERSION to settings.GRAPH_API_URL."""
    app_secret = settings.META_APP_SECRET if access_token else None
    session = FacebookSession(
        app_id=settings.META_APP_ID or None,
        app_secret=app_secret or None,
        access_token=access_token,
        timeout=TIMEOUT,
    )
    base = settings.GRAPH_API_URL.rstrip("/")
    if base != FacebookSession.GRAPH:
        session.GRAPH = base
        # The SDK pins Meta's own certificate chain; another host uses the system's.
        session.requests.verify = True
    return GraphApi(session, GRAPH_VERSION, observer=observer)


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def day_of(end_time: str) -> dt.date | None:
    """The day a daily insights value covers: the one before its end_time (which is the
    midnight, Pacific time, closing that day)."""
    parsed = parse_time(end_time)
    if parsed is None:
        return None
    return parsed.astimezone(dt.UTC).date() - dt.timedelta(days=1)


def number(value) -> float | None:
    """A numeric insights value; dict values (breakdowns) add up."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    if isinstance(value, dict):
        parts = [number(part) for part in value.values()]
        return sum(part for part in parts if part is not None)
    return None


def _as_date(value: str) -> dt.date | None:
    try:
        if value.isdigit():
            return dt.datetime.fromtimestamp(int(value), tz=dt.UTC).date()
        return dt.date.fromisoformat(value[:10])
    except (ValueError, OverflowError):
        return None


def _insights_pages(api: GraphApi, node_id: str, metrics: list[str], params: dict) -> list[dict]:
    """Every `data` item of /{node}/insights, following `paging.next`. Insights page by time
    (next carries since/until), which the SDK's Cursor does not follow; the next page is asked
    again through this API instance (its host and token), and not beyond the asked `until`."""
    query = {**params, "metric": ",".join(metrics)}
    end = _as_date(str(params["until"])) if params.get("until") else None
    items: list[dict] = []
    for _page in range(MAX_PAGES):
        body = api.call("GET", (node_id, "insights"), params=query).json()
        if not isinstance(body, dict):
            raise RetryLater("Graph answered insights with no JSON body")
        data = body.get("data") or []
        items += data
        next_url = (body.get("paging") or {}).get("next")
        if not next_url or not data:
            break
        following = {
            key: values[-1]
            for key, values in parse_qs(urlsplit(next_url).query).items()
            if key not in ("access_token", "appsecret_proof")
        }
        following["metric"] = query["metric"]
        next_since = _as_date(following.get("since", ""))
        if end and next_since and next_since >= end:
            break
        if following == query:
            break
        query = following
    return items


def read_insights(
    api: GraphApi, node_id: str, metrics: list[str], params: dict, refused: dict[str, str]
) -> list[dict]:
    """The insights items of `metrics` (those not already in `refused`). One invalid metric fails
    the whole call with #100: then each metric is asked alone, the ones Graph refuses are added
    to `refused` (API name -> reason) and the others come back."""
    wanted = [metric for metric in metrics if metric not in refused]
    if not wanted:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _insights_pages(api, node_id, wanted, params)
    except FacebookRequestError as error:
        if error.api_error_code() != 100:
            raise classify(error) from error
        if len(wanted) == 1:
            refused[wanted[0]] = _short(error.api_error_message() or "invalid metric")
            return []
    except requests.RequestException as error:
        raise classify(error) from error
    items: list[dict] = []
    for metric in wanted:
        try:
            items += _insights_pages(api, node_id, [metric], params)
        except FacebookRequestError as error:
            if error.api_error_code() != 100:
                raise classify(error) from error
            refused[metric] = _short(error.api_error_message() or "invalid metric")
        except requests.RequestException as error:
            raise classify(error) from error
    return items


def same_text(left: str | None, right: str | None) -> bool:
    return " ".join((left or "").split()) == " ".join((right or "").split())


class GraphProvider:
    """Mixin of the two Meta providers: the API instance of the account's token, built on first
    use, and the usage flag."""

    # True once a response reported a usage quota at or above USAGE_HIGH percent: callers may
    # slow down (nothing is refused because of it).
    usage_high = False

    def _note_usage(self, percent: float) -> None:
        self.usage_percent = max(getattr(self, "usage_percent", 0), percent)
        if percent >= USAGE_HIGH:
            self.usage_high = True

    @property
    def api(self) -> GraphApi:
        if getattr(self, "_api", None) is None:
            self._api = graph_api(token_of(self.account.credentials), observer=self._note_usage)
        return self._api
