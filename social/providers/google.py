"""Google Business Profile through google-api-python-client: daily metrics from the Business
Profile Performance API (bundled discovery), reviews, replies and local posts from the v4 API
(built from the discovery document kept next to this module, so nothing is fetched at run time).

The account's credentials are google.oauth2.credentials.Credentials.to_json() (authorized user
info); external_id is "accounts/X/locations/Y" (reviews and posts need the account), "locations/Y"
or "Y" being enough for metrics.
"""

import datetime as dt
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import httplib2
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build, build_from_document
from googleapiclient.errors import HttpError

from comadvisor.google_errors import error_details, google_outcome
from sales.enums import Network
from social import quotas
from social.metrics import GOOGLE_PERFORMANCE_VERSION, api_metrics
from social.providers import (
    ContentRefused,
    MetricsResult,
    MetricValue,
    NeedsReconnect,
    Permanent,
    PostContent,
    Provider,
    Published,
    RateLimited,
    RemoteReview,
    RetryLater,
)

SCOPES = ["https://www.googleapis.com/auth/business.manage"]
DISCOVERY_V4 = Path(__file__).parent / "discovery" / "mybusiness_v4.json"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
REPLY_MAX_BYTES = 4096
SUMMARY_MAX_CHARS = 1500
REVIEWS_PAGE_SIZE = 50
POSTS_PAGE_SIZE = 100
# Why a metric name google-api-python-client refuses before any call is listed as refused.
UNKNOWN_METRIC = "not a metric of the bundled Business Profile Performance discovery document"
LOCATION_RE = re.compile(r"^(?:accounts/(?P<account>[^/]+)/)?(?:locations/)?(?P<location>[^/]+)$")


@cache
def _v4_document() -> dict:
    return json.loads(DISCOVERY_V4.read_text())


def client_options() -> dict | None:
    """settings.GOOGLE_API_URL, when set, replaces the root URL of every Google service."""
    if not settings.GOOGLE_API_URL:
        return None
    return {"api_endpoint": settings.GOOGLE_API_URL.rstrip("/") + "/"}


def credentials_from(credentials_json: str):
    from google.oauth2.credentials import Credentials

    try:
        info = json.loads(credentials_json or "")
        return Credentials.from_authorized_user_info(info, SCOPES)
    except (TypeError, ValueError, KeyError) as error:
        raise NeedsReconnect("the Google credentials are missing or unreadable") from error


def build_service(name: str, version: str, *, credentials=None, http=None):
    """A bundled-discovery service; `http` (tests) replaces the authorised transport."""
    auth = {"http": http} if http is not None else {"credentials": credentials}
    return build(
        name,
        version,
        static_discovery=True,
        cache_discovery=False,
        client_options=client_options(),
        **auth,
    )


def build_v4(*, credentials=None, http=None):
    auth = {"http": http} if http is not None else {"credentials": credentials}
    return build_from_document(_v4_document(), client_options=client_options(), **auth)


def execute(request, *budgets: str):
    """Run one request once the call budgets `budgets` (social.quotas) allow it; every failure
    comes out as a connector outcome. When Google refuses it for quota all the same (429), the
    budgets are paused for every worker until Google's retry time: the quota is the project's,
    so the next account would be refused too."""
    for budget in budgets:
        quotas.acquire(budget)
    try:
        return request.execute(num_retries=0)
    except HttpError as error:
        outcome = google_outcome(error)
        if isinstance(outcome, RateLimited):
            for budget in budgets:
                quotas.pause(budget, outcome.until)
        raise outcome from error
    except RefreshError as error:
        raise NeedsReconnect("Google refused to refresh the access token") from error
    except (TransportError, httplib2.HttpLib2Error, OSError) as error:
        raise RetryLater(f"network error: {type(error).__name__}") from error


def invalid_argument(error: Permanent) -> str | None:
    """Google's words when it refused a request's arguments (HTTP 400), None for any other
    permanent refusal (a permission, a missing location...)."""
    cause = error.__cause__
    if not isinstance(cause, HttpError) or int(cause.resp.status) != 400:
        return None
    status, reason, message = error_details(cause)
    return " ".join(part for part in (status or reason, message) if part) or "HTTP 400"


def location_names(external_id: str) -> tuple[str, str | None]:
    """("locations/Y", "accounts/X/locations/Y" or None) from any of the accepted forms."""
    match = LOCATION_RE.match((external_id or "").strip().strip("/"))
    if not match:
        raise Permanent(f"not a Google location id: {external_id}")
    location = f"locations/{match['location']}"
    account = match["account"]
    return location, (f"accounts/{account}/{location}" if account else None)


def parse_time(value: str | None) -> dt.datetime | None:
    parsed = parse_datetime(value) if value else None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


class GoogleProvider(Provider):
    network = Network.GOOGLE
    can_reply = True
    replies_in_reviews = True
    can_publish = True

    def __init__(self, account, *, http=None):
        """`http`: an httplib2-like object used instead of the authorised transport (tests)."""
        super().__init__(account)
        self.http = http
        self.location_name, self.v4_name = location_names(account.external_id)
        self._credentials = None
        self._performance = None
        self._v4 = None

    @property
    def credentials(self):
        if self._credentials is None and self.http is None:
            self._credentials = credentials_from(self.account.credentials)
        return self._credentials

    @property
    def performance(self):
        if self._performance is None:
            self._performance = build_service(
                "businessprofileperformance",
                GOOGLE_PERFORMANCE_VERSION,
                credentials=self.credentials,
                http=self.http,
            )
        return self._performance

    @property
    def v4(self):
        if self._v4 is None:
            self._v4 = build_v4(credentials=self.credentials, http=self.http)
        return self._v4

    def _v4_location(self) -> str:
        if not self.v4_name:
            raise Permanent("the Google location id lacks its account (accounts/X/locations/Y)")
        return self.v4_name

    # --- Metrics ---------------------------------------------------------------------------------

    def fetch_metrics(self, since: dt.date, until: dt.date) -> MetricsResult:
        """Every registry metric over the range, in one fetchMultiDailyMetricsTimeSeries call when
        Google takes them all; metrics mapped to the same desk name (the impression counters) are
        added up. A metric Google refuses, or one the bundled discovery document does not know,
        is listed in `refused` and the others are kept (see _series); when Google refuses every
        one the fetch is a permanent error."""
        mapping = api_metrics(Network.GOOGLE, GOOGLE_PERFORMANCE_VERSION)
        result = MetricsResult()
        seen: dict[tuple[str, dt.date], float] = {}
        for series in self._series(list(mapping), since, until, result.refused):
            name = series.get("dailyMetric")
            if name not in mapping or name in result.refused:
                continue
            for point in (series.get("timeSeries") or {}).get("datedValues") or []:
                date = point.get("date") or {}
                try:
                    day = dt.date(date["year"], date["month"], date["day"])
                    # The value is left out when it is zero.
                    value = float(point.get("value") or 0)
                except (KeyError, TypeError, ValueError):
                    continue
                if since <= day <= until:
                    seen[(name, day)] = value
        if mapping and len(result.refused) == len(mapping):
            reasons = "; ".join(f"{name}: {why}" for name, why in sorted(result.refused.items()))
            raise Permanent(f"Google refused every metric ({reasons})"[:500])
        totals: dict[tuple[str, dt.date], float] = {}
        for (name, day), value in seen.items():
            key = (mapping[name], day)
            totals[key] = totals.get(key, 0.0) + value
        result.values = [MetricValue(metric, day, value) for (metric, day), value in totals.items()]
        return result

    def _series(
        self, names: list[str], since: dt.date, until: dt.date, refused: dict[str, str]
    ) -> list[dict]:
        """The dailyMetricTimeSeries items of `names` (those not already in `refused`), the way
        social.providers.meta.read_insights reads Graph insights. google-api-python-client checks
        each name against the bundled discovery document before any call (TypeError): names it
        does not know are refused and the others asked together. Google answers the whole call
        with HTTP 400 (INVALID_ARGUMENT) when it refuses one metric: then each is asked alone,
        the ones it refuses are added to `refused` (API name -> Google's words), the others come
        back. Any other failure is the fetch's outcome."""
        wanted = [name for name in names if name not in refused]
        if not wanted:
            return []
        try:
            request = self._metrics_request(wanted, since, until)
        except (TypeError, ValueError):
            known = []
            for name in wanted:
                try:
                    self._metrics_request([name], since, until)
                except (TypeError, ValueError):
                    refused[name] = UNKNOWN_METRIC
                else:
                    known.append(name)
            return self._series(known, since, until, refused)
        try:
            body = execute(request, quotas.GOOGLE_PERFORMANCE)
        except Permanent as error:
            reason = invalid_argument(error)
            if reason is None:
                raise
            if len(wanted) == 1:
                refused[wanted[0]] = reason
                return []
            items: list[dict] = []
            for name in wanted:
                items += self._series([name], since, until, refused)
            return items
        return [
            series
            for group in body.get("multiDailyMetricTimeSeries") or []
            for series in group.get("dailyMetricTimeSeries") or []
            if series.get("dailyMetric") in wanted
        ]

    def _metrics_request(self, names: list[str], since: dt.date, until: dt.date):
        return self.performance.locations().fetchMultiDailyMetricsTimeSeries(
            location=self.location_name,
            dailyMetrics=names,
            dailyRange_startDate_year=since.year,
            dailyRange_startDate_month=since.month,
            dailyRange_startDate_day=since.day,
            dailyRange_endDate_year=until.year,
            dailyRange_endDate_month=until.month,
            dailyRange_endDate_day=until.day,
        )

    # --- Reviews ---------------------------------------------------------------------------------

    def fetch_reviews(self, since: dt.datetime | None) -> list[RemoteReview]:
        """Pages of 50 in Google's default order (updateTime desc), stopping at the first review
        last changed before `since`."""
        reviews_api = self.v4.accounts().locations().reviews()
        parent = self._v4_location()
        reviews: list[RemoteReview] = []
        page_token = None
        while True:
            params = {"parent": parent, "pageSize": REVIEWS_PAGE_SIZE}
            if page_token:
                params["pageToken"] = page_token
            page = execute(reviews_api.list(**params), quotas.GOOGLE_BUSINESS)
            for item in page.get("reviews") or []:
                review = self._review(item)
                if review is None:
                    continue
                if since and review.updated_at < since:
                    return reviews
                reviews.append(review)
            page_token = page.get("nextPageToken")
            if not page_token:
                return reviews

    @staticmethod
    def _review(item: dict) -> RemoteReview | None:
        written = parse_time(item.get("createTime"))
        updated = parse_time(item.get("updateTime")) or written
        if written is None or not item.get("name"):
            return None
        reviewer = item.get("reviewer") or {}
        reply = item.get("reviewReply") or {}
        return RemoteReview(
            external_id=item["name"],
            author="" if reviewer.get("isAnonymous") else reviewer.get("displayName") or "",
            rating=STARS.get(item.get("starRating") or ""),
            text=item.get("comment") or "",
            written_at=written,
            updated_at=updated,
            reply_text=reply.get("comment") or "",
            replied_at=parse_time(reply.get("updateTime")) if reply else None,
        )

    def reply(self, review_external_id: str, text: str) -> None:
        if len(text.encode()) > REPLY_MAX_BYTES:
            raise Permanent(f"reply longer than Google's {REPLY_MAX_BYTES} bytes")
        name = review_external_id
        if not name.startswith("accounts/"):
            name = f"{self._v4_location()}/reviews/{review_external_id}"
        execute(
            self.v4.accounts().locations().reviews().updateReply(name=name, body={"comment": text}),
            quotas.GOOGLE_BUSINESS,
            f"{quotas.GOOGLE_EDITS}:{self._v4_location()}",
        )

    # --- Publishing ------------------------------------------------------------------------------

    def publish(
        self, content: PostContent, *, state: dict, checkpoint: Callable[[dict], None]
    ) -> Published:
        """A STANDARD local post. state["post_sent_at"] is checkpointed before the create; a later
        attempt first looks among the location's posts since then for the same summary."""
        parent = self._v4_location()
        summary = content.text.strip()
        if not summary:
            raise ContentRefused("nothing to publish")
        if len(summary) > SUMMARY_MAX_CHARS:
            raise ContentRefused(f"Google posts take at most {SUMMARY_MAX_CHARS} characters")
        sent_at = parse_time(state.get("post_sent_at"))
        if sent_at is not None:
            found = self._find_post(parent, summary, since=sent_at - dt.timedelta(minutes=1))
            if found is not None:
                return found
        body: dict = {
            "languageCode": settings.LANGUAGE_CODE.split("-")[0],
            "summary": summary,
            "topicType": "STANDARD",
        }
        if content.link:
            body["callToAction"] = {"actionType": "LEARN_MORE", "url": content.link}
        if content.image_urls:
            # A local post shows one photo; the composer warns that only the first is sent.
            body["media"] = [{"mediaFormat": "PHOTO", "sourceUrl": content.image_urls[0]}]
        if sent_at is None:
            state["post_sent_at"] = timezone.now().isoformat()
        checkpoint(state)
        try:
            post = execute(
                self.v4.accounts().locations().localPosts().create(parent=parent, body=body),
                quotas.GOOGLE_BUSINESS,
                f"{quotas.GOOGLE_EDITS}:{parent}",
            )
        except Permanent as error:
            if invalid_argument(error) is None:
                raise
            # HTTP 400 (INVALID_ARGUMENT): Google refuses the post itself (its text, link or
            # photo), not the account.
            raise ContentRefused(str(error)) from error.__cause__
        return Published(external_id=post["name"], url=post.get("searchUrl") or "")

    def _find_post(self, parent: str, summary: str, *, since: dt.datetime) -> Published | None:
        posts_api = self.v4.accounts().locations().localPosts()
        page_token = None
        while True:
            params = {"parent": parent, "pageSize": POSTS_PAGE_SIZE}
            if page_token:
                params["pageToken"] = page_token
            page = execute(posts_api.list(**params), quotas.GOOGLE_BUSINESS)
            for post in page.get("localPosts") or []:
                created = parse_time(post.get("createTime"))
                if created is not None and created < since:
                    return None
                if " ".join((post.get("summary") or "").split()) == " ".join(summary.split()):
                    return Published(external_id=post["name"], url=post.get("searchUrl") or "")
            page_token = page.get("nextPageToken")
            if not page_token:
                return None
