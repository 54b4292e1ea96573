"""A stand-in for the Graph API, the two Google Business Profile APIs and the TripAdvisor Content
API, served on loopback for the benchmark: the paths, parameters and response shapes the
connectors use (SOCIAL_APIS.md), a fixed latency per call, deterministic data per account, and
the platforms' quotas enforced as they are:

- Google answers 429 past 300 calls in any minute per API (the project's quota);
- TripAdvisor answers 429 past 50 calls in any second;
- Graph, called with Page tokens, applies its business-use-case limit per Page: 4,800 calls in 24
  hours per engaged user of the Page (Instagram: per impression of the account), reported in
  X-Business-Use-Case-Usage and answered with #80001 (#80002 for Instagram) once spent. Page
  tokens are not under the app-level limit, so no X-App-Usage is sent.

The data lies on a fixed timeline: reviews were written at moments before the server's start
(`now`), and only those written (or edited, or answered) `hold_back` before the moment of the
call are served. The benchmark serves the first fetch a day held back, then serves everything:
the daily fetch finds a day of new and edited reviews, as a real daily run would.

It counts every call per API, so the benchmark can show the quotas were kept.
"""

import datetime as dt
import json
import random
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GRAPH = "graph"
GOOGLE_PERFORMANCE = "google-performance"
GOOGLE_BUSINESS = "google-business"
TRIPADVISOR = "tripadvisor"
TRIPADVISOR_PREFIX = "/tripadvisor/api/v1"

# (calls, seconds) the platforms allow per API.
QUOTAS = {GOOGLE_PERFORMANCE: (300, 60.0), GOOGLE_BUSINESS: (300, 60.0), TRIPADVISOR: (50, 1.0)}
# Graph's business-use-case limit of a Page token: calls in 24 hours per engaged user of the Page
# (per impression for an Instagram account).
META_CALLS_PER_UNIT = 4800
META_WINDOW = 24 * 3600.0
# A small restaurant's Page: this many engaged users a day; its Instagram account: impressions.
PAGE_ENGAGED_USERS = (5, 150)
INSTAGRAM_IMPRESSIONS = (200, 5000)
# The benchmark numbers Instagram accounts 4..., Pages 3... (a real Graph knows the node's type).
INSTAGRAM_PREFIX = "4"
# Reviews per Google location, written over the last HISTORY_DAYS days; the share of locations
# where one review was edited during the last day.
GOOGLE_REVIEWS = (5, 60)
HISTORY_DAYS = 700
EDITED_SHARE = 0.03

NAMES = ["Camille", "Julien", "Sophie", "Lucas", "Emma", "Hugo", "Chloé", "Nathan", "Olivia", "Tom"]
COMMENTS = {
    5: ["Excellent repas, service parfait.", "Wonderful dinner, friendly staff."],
    4: ["Très bon, un peu d'attente.", "Good food, slightly slow service."],
    3: ["Correct sans plus.", "Average, nothing special."],
    2: ["Déçu par le plat du jour.", "Disappointing, cold dishes."],
    1: ["Service désagréable, à éviter.", "Rude staff, would not return."],
}
STARS = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}


@dataclass
class Traffic:
    """Every call's time per API, the answers refused for quota, the server errors, the highest
    share of a Page's 24-hour budget used, the peak of parallel calls."""

    calls: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    meta_usage_peak: float = 0.0
    in_flight: int = 0
    peak_in_flight: int = 0

    def busiest(self, api: str, seconds: float) -> int:
        """The most calls to `api` inside any sliding window of `seconds`."""
        times = sorted(self.calls.get(api, []))
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best


class FakePlatforms:
    def __init__(self, *, latency: float = 0.15, now: dt.datetime | None = None) -> None:
        self.latency = latency
        self.now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        self.today = self.now.date()
        self._started = time.monotonic()
        # What was written, edited or answered less than this before a call is not served yet.
        self.hold_back = dt.timedelta()
        self.traffic = Traffic()
        self._lock = threading.Lock()
        self._recent: dict[str, deque] = defaultdict(deque)
        self._node_calls: dict[str, deque] = defaultdict(deque)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- Life --------------------------------------------------------------------------------

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"platforms": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def urls(self) -> dict[str, str]:
        """Settings (environment variables) pointing the connectors here."""
        base = f"http://127.0.0.1:{self._server.server_address[1]}"
        return {
            "GRAPH_API_URL": base,
            "GOOGLE_API_URL": base,
            "TRIPADVISOR_API_URL": base + TRIPADVISOR_PREFIX,
        }

    # --- Bookkeeping -------------------------------------------------------------------------

    def enter(self, api: str) -> bool:
        """Count a call; False when it is over the platform's quota (then it is refused)."""
        now = time.time()
        with self._lock:
            self.traffic.calls[api].append(now)
            self.traffic.in_flight += 1
            self.traffic.peak_in_flight = max(self.traffic.peak_in_flight, self.traffic.in_flight)
            if api not in QUOTAS:
                return True
            limit, window = QUOTAS[api]
            recent = self._recent[api]
            while recent and now - recent[0] >= window:
                recent.popleft()
            if len(recent) >= limit:
                self.traffic.refused[api] += 1
                return False
            recent.append(now)
            return True

    def leave(self) -> None:
        with self._lock:
            self.traffic.in_flight -= 1

    def meta_budget(self, node: str) -> int:
        """The node's calls in 24 hours: 4,800 per engaged user (Page) or impression
        (Instagram)."""
        if node.startswith(INSTAGRAM_PREFIX):
            low, high = INSTAGRAM_IMPRESSIONS
        else:
            low, high = PAGE_ENGAGED_USERS
        return META_CALLS_PER_UNIT * self.number(node, "engaged", low=low, high=high)

    def meta_usage(self, node: str) -> tuple[bool, float]:
        """(allowed, the node's share in percent of its 24-hour budget after this call): once
        the budget is spent, calls are refused."""
        now = time.time()
        with self._lock:
            calls = self._node_calls[node]
            while calls and now - calls[0] >= META_WINDOW:
                calls.popleft()
            budget = self.meta_budget(node)
            if len(calls) >= budget:
                self.traffic.refused[GRAPH] += 1
                return False, 100.0
            calls.append(now)
            usage = 100.0 * len(calls) / budget
            self.traffic.meta_usage_peak = max(self.traffic.meta_usage_peak, usage)
        return True, usage

    def error(self, api: str) -> None:
        with self._lock:
            self.traffic.errors[api] += 1

    # --- Data --------------------------------------------------------------------------------

    @staticmethod
    def number(*key: object, low: int, high: int) -> int:
        return random.Random(":".join(map(str, key))).randint(low, high)

    def clock(self) -> dt.datetime:
        """The platforms' time: `now` at the start, then running."""
        return self.now + dt.timedelta(seconds=time.monotonic() - self._started)

    def _served(self, moment: dt.datetime) -> bool:
        return moment <= self.clock() - self.hold_back

    @staticmethod
    def _stamp(moment: dt.datetime) -> str:
        return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

    def google_reviews(self, location: str) -> list[dict]:
        """The location's reviews served now, newest change first (Google's default order)."""
        low, high = GOOGLE_REVIEWS
        count = self.number(location, "reviews", low=low, high=high)
        edited = random.Random(f"{location}:edited").random() < EDITED_SHARE
        reviews = []
        for index in range(count):
            rng = random.Random(f"{location}:{index}")
            rating = rng.choices([5, 4, 3, 2, 1], weights=[50, 25, 10, 8, 7])[0]
            written = self.now - dt.timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86400))
            if not self._served(written):
                continue
            updated = written
            comment = rng.choice(COMMENTS[rating])
            if edited and index == 0:
                # The reviewer changed their mind during the last day.
                edit = self.now - dt.timedelta(seconds=rng.uniform(0, 86400))
                if edit > written and self._served(edit):
                    rating = max(1, rating - 2)
                    comment = rng.choice(COMMENTS[rating])
                    updated = edit
            review = {
                "name": f"{location}/reviews/r{index}",
                "reviewId": f"r{index}",
                "reviewer": {"displayName": rng.choice(NAMES), "isAnonymous": False},
                "starRating": STARS[rating],
                "comment": comment,
                "createTime": self._stamp(written),
                "updateTime": self._stamp(updated),
            }
            replied = written + dt.timedelta(hours=rng.randint(2, 48))
            if rng.random() < 0.6 and self._served(replied):
                review["reviewReply"] = {
                    "comment": "Merci pour votre avis !",
                    "updateTime": self._stamp(replied),
                }
            reviews.append(review)
        return sorted(reviews, key=lambda review: review["updateTime"], reverse=True)

    def tripadvisor_reviews(self, location_id: str, language: str) -> list[dict]:
        reviews = []
        for index in range(5):
            rng = random.Random(f"ta:{location_id}:{language}:{index}")
            rating = rng.choices([5, 4, 3, 2, 1], weights=[45, 30, 10, 8, 7])[0]
            written = self.today - dt.timedelta(days=rng.randint(1, 300))
            reviews.append(
                {
                    "id": int(f"{location_id[-6:]}{1 if language == 'fr' else 2}{index}"),
                    "lang": language,
                    "location_id": location_id,
                    "published_date": f"{written.isoformat()}T10:00:00Z",
                    "rating": rating,
                    "text": COMMENTS[rating][0 if language == "fr" else 1],
                    "title": "Avis" if language == "fr" else "Review",
                    "user": {"username": rng.choice(NAMES)},
                    "url": f"https://www.tripadvisor.com/ShowUserReviews-d{location_id}-r{index}",
                }
            )
        return reviews


def _day(value: str) -> dt.date:
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC).date()
    return dt.date.fromisoformat(value[:10])


class _Handler(BaseHTTPRequestHandler):
    platforms: FakePlatforms
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:
        return

    def _answer(self, status: int, body: object, headers: dict | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = parts.path
        if path.startswith(TRIPADVISOR_PREFIX):
            api = TRIPADVISOR
        elif path.startswith("/v1/locations/"):
            api = GOOGLE_PERFORMANCE
        elif path.startswith("/v4/"):
            api = GOOGLE_BUSINESS
        else:
            api = GRAPH
        allowed = self.platforms.enter(api)
        try:
            time.sleep(self.platforms.latency)
            if not allowed:
                self._refuse(api)
                return
            handler = {
                GRAPH: self._graph,
                GOOGLE_PERFORMANCE: self._performance,
                GOOGLE_BUSINESS: self._business,
                TRIPADVISOR: self._tripadvisor,
            }[api]
            handler(path, query)
        finally:
            self.platforms.leave()

    def _refuse(self, api: str) -> None:
        if api == TRIPADVISOR:
            self._answer(429, {"message": "Too Many Requests"}, {"Retry-After": "1"})
            return
        self._answer(
            429,
            {
                "error": {
                    "code": 429,
                    "message": "Quota exceeded for quota metric 'Requests' per minute.",
                    "status": "RESOURCE_EXHAUSTED",
                }
            },
        )

    def _missing(self, api: str) -> None:
        self.platforms.error(api)
        self._answer(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})

    # --- Graph -------------------------------------------------------------------------------

    def _graph(self, path: str, query: dict) -> None:
        parts = [part for part in path.split("/") if part]
        if len(parts) < 2 or not parts[0].startswith("v"):
            self._missing(GRAPH)
            return
        if not query.get("access_token"):
            self.platforms.error(GRAPH)
            self._answer(
                400,
                {"error": {"message": "An active access token must be used", "code": 2500}},
            )
            return
        node, edge = parts[1], (parts[2] if len(parts) > 2 else "")
        allowed, usage = self.platforms.meta_usage(node)
        instagram = node.startswith(INSTAGRAM_PREFIX)
        headers = {
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    node: [
                        {
                            "type": "instagram" if instagram else "pages",
                            "call_count": round(usage),
                            "total_cputime": round(usage),
                            "total_time": round(usage),
                            "estimated_time_to_regain_access": 0 if allowed else 60,
                        }
                    ]
                }
            ),
        }
        if not allowed:
            code = 80002 if instagram else 80001
            self._answer(
                400,
                {
                    "error": {
                        "message": "There have been too many calls to this account.",
                        "type": "OAuthException",
                        "code": code,
                    }
                },
                headers,
            )
            return
        if edge == "insights":
            self._answer(200, self._insights(node, query), headers)
        elif edge == "ratings":
            self._answer(
                400,
                {
                    "error": {
                        "message": "(#12) ratings is deprecated for versions v22.0 and higher",
                        "type": "OAuthException",
                        "code": 12,
                    }
                },
                headers,
            )
        elif edge == "":
            fields = (query.get("fields") or [""])[0].split(",")
            body = {"id": node}
            for name in filter(None, fields):
                body[name] = self.platforms.number(node, name, low=800, high=20000)
            self._answer(200, body, headers)
        else:
            self._missing(GRAPH)

    def _insights(self, node: str, query: dict) -> dict:
        metrics = (query.get("metric") or [""])[0].split(",")
        since = _day(query["since"][0])
        until = _day(query["until"][0])
        data = []
        for metric in filter(None, metrics):
            if query.get("metric_type") == ["total_value"]:
                value = self.platforms.number(node, metric, since, low=10, high=900)
                data.append(
                    {
                        "name": metric,
                        "period": "day",
                        "total_value": {"value": value},
                        "id": f"{node}/insights/{metric}/day",
                    }
                )
                continue
            values = []
            day = since
            while day < until:
                end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8), dt.UTC)
                values.append(
                    {
                        "value": self.platforms.number(node, metric, day, low=5, high=1500),
                        "end_time": end.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    }
                )
                day += dt.timedelta(days=1)
            data.append(
                {
                    "name": metric,
                    "period": "day",
                    "values": values,
                    "id": f"{node}/insights/{metric}/day",
                }
            )
        return {"data": data}

    # --- Google ------------------------------------------------------------------------------

    def _authorised(self, api: str) -> bool:
        if (self.headers.get("Authorization") or "").startswith("Bearer "):
            return True
        self.platforms.error(api)
        self._answer(
            401,
            {"error": {"code": 401, "message": "Invalid Credentials", "status": "UNAUTHENTICATED"}},
        )
        return False

    def _performance(self, path: str, query: dict) -> None:
        if not self._authorised(GOOGLE_PERFORMANCE):
            return
        location, _, method = path.removeprefix("/v1/").partition(":")
        if method != "fetchMultiDailyMetricsTimeSeries":
            self._missing(GOOGLE_PERFORMANCE)
            return

        def date(prefix: str) -> dt.date:
            return dt.date(
                int(query[f"{prefix}.year"][0]),
                int(query[f"{prefix}.month"][0]),
                int(query[f"{prefix}.day"][0]),
            )

        start, end = date("dailyRange.startDate"), date("dailyRange.endDate")
        series = []
        for metric in query.get("dailyMetrics") or []:
            points = []
            day = start
            while day <= end:
                value = self.platforms.number(location, metric, day, low=0, high=60)
                point: dict = {"date": {"year": day.year, "month": day.month, "day": day.day}}
                if value:
                    # Google leaves the value out when it is zero.
                    point["value"] = str(value)
                points.append(point)
                day += dt.timedelta(days=1)
            series.append({"dailyMetric": metric, "timeSeries": {"datedValues": points}})
        self._answer(200, {"multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": series}]})

    def _business(self, path: str, query: dict) -> None:
        if not self._authorised(GOOGLE_BUSINESS):
            return
        parent = path.removeprefix("/v4/")
        if not parent.endswith("/reviews"):
            self._missing(GOOGLE_BUSINESS)
            return
        reviews = self.platforms.google_reviews(parent.removesuffix("/reviews"))
        size = min(50, int((query.get("pageSize") or ["50"])[0]))
        offset = int((query.get("pageToken") or ["0"])[0])
        body: dict = {
            "reviews": reviews[offset : offset + size],
            "averageRating": round(
                sum(int(list(STARS.values()).index(review["starRating"]) + 1) for review in reviews)
                / len(reviews),
                1,
            ),
            "totalReviewCount": len(reviews),
        }
        if offset + size < len(reviews):
            body["nextPageToken"] = str(offset + size)
        self._answer(200, body)

    # --- TripAdvisor -------------------------------------------------------------------------

    def _tripadvisor(self, path: str, query: dict) -> None:
        if not query.get("key"):
            self.platforms.error(TRIPADVISOR)
            self._answer(401, {"message": "Unauthorized"})
            return
        parts = path.removeprefix(TRIPADVISOR_PREFIX).strip("/").split("/")
        if len(parts) != 3 or parts[0] != "location" or parts[2] != "reviews":
            self._missing(TRIPADVISOR)
            return
        language = (query.get("language") or ["en"])[0]
        self._answer(200, {"data": self.platforms.tripadvisor_reviews(parts[1], language)})
