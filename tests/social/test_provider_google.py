"""The Google Business Profile connector on recorded responses, replayed through
googleapiclient's HttpMockSequence (never the network)."""

import datetime as dt
import json
from urllib.parse import urlsplit

import httplib2
import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.http import HttpMockSequence

from sales.enums import Network
from social.models import SocialAccount
from social.providers import (
    MetricValue,
    NeedsReconnect,
    Permanent,
    PostContent,
    Published,
    RateLimited,
    RemoteReview,
    RetryLater,
    provider_for,
)
from social.providers.google import DISCOVERY_V4, GoogleProvider, build_v4
from tests.social.recorded import RecordingHttp, google_answer

ACCOUNT = "accounts/106433017228011234567"
LOCATION = f"{ACCOUNT}/locations/4563819901457381234"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CREDENTIALS = json.dumps(
    {
        "token": "ya29.a0AfB_byC",
        "refresh_token": "1//0gLk7q",
        "token_uri": "https://oauth2.googleapis.com/token",
        "client_id": "1234-abc.apps.googleusercontent.com",
        "client_secret": "GOCSPX-secret",
        "scopes": ["https://www.googleapis.com/auth/business.manage"],
        "universe_domain": "googleapis.com",
        "account": "",
        "expiry": "2026-03-02T10:00:00.000000Z",
    }
)


@pytest.fixture(autouse=True)
def _google_settings(settings):
    settings.GOOGLE_API_URL = ""


@pytest.fixture
def account(restaurant_factory):
    return SocialAccount.objects.create(
        restaurant=restaurant_factory(),
        network=Network.GOOGLE,
        external_id=LOCATION,
        name="Chez Paul",
        credentials=CREDENTIALS,
    )


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


def provider(account, *responses) -> tuple[GoogleProvider, RecordingHttp]:
    http = RecordingHttp(list(responses))
    return GoogleProvider(account, http=http), http


class Checkpoints(list):
    def __call__(self, state: dict) -> None:
        self.append(dict(state))


# --- Building ---------------------------------------------------------------------------------------


def test_provider_for_builds_both_services_from_the_credentials(account):
    google = provider_for(account)

    assert isinstance(google, GoogleProvider)
    assert google.credentials.refresh_token == "1//0gLk7q"
    assert google.performance._baseUrl == "https://businessprofileperformance.googleapis.com/"
    assert google.v4._baseUrl == "https://mybusiness.googleapis.com/"


def test_google_api_url_replaces_the_root_of_both_services(account, settings):
    settings.GOOGLE_API_URL = "http://127.0.0.1:8766"
    google = GoogleProvider(account)

    assert google.performance._baseUrl == "http://127.0.0.1:8766/"
    assert google.v4._baseUrl == "http://127.0.0.1:8766/"


def test_unreadable_credentials_need_reconnect(account):
    account.credentials = "not json"

    with pytest.raises(NeedsReconnect):
        GoogleProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))


def test_v4_discovery_document_is_shipped_with_the_methods_used():
    document = json.loads(DISCOVERY_V4.read_text())
    service = build_v4(http=HttpMockSequence([]))

    assert (document["rootUrl"], document["servicePath"], document["version"]) == (
        "https://mybusiness.googleapis.com/",
        "",
        "v4",
    )
    reviews = service.accounts().locations().reviews()
    posts = service.accounts().locations().localPosts()
    for method in ("list", "get", "updateReply", "deleteReply"):
        assert callable(getattr(reviews, method))
    for method in ("create", "list"):
        assert callable(getattr(posts, method))
    request = reviews.updateReply(name=f"{LOCATION}/reviews/abc", body={"comment": "x"})
    assert (request.method, urlsplit(request.uri).path) == (
        "PUT",
        f"/v4/{LOCATION}/reviews/abc/reply",
    )


# --- Metrics ---------------------------------------------------------------------------------------


def test_fetch_metrics_one_call_for_all_daily_metrics(account):
    google, http = provider(account, google_answer("performance_two_days"))

    result = google.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    first, second = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    assert sorted(result.values, key=lambda v: (v.metric, v.day)) == [
        MetricValue("bookings", first, 2.0),
        MetricValue("bookings", second, 0.0),
        MetricValue("calls", first, 5.0),
        MetricValue("calls", second, 7.0),
        MetricValue("directions", first, 19.0),
        MetricValue("directions", second, 23.0),
        MetricValue("food_orders", first, 0.0),
        MetricValue("food_orders", second, 1.0),
        MetricValue("menu_clicks", first, 31.0),
        MetricValue("menu_clicks", second, 27.0),
        # The four impression counters add up.
        MetricValue("views", first, 1425.0),
        MetricValue("views", second, 1418.0),
        MetricValue("website_clicks", first, 14.0),
        MetricValue("website_clicks", second, 11.0),
    ]
    assert len(http.requests) == 1
    method, path, query, _body, _uri = http.requests[0]
    assert (method, path) == (
        "GET",
        "/v1/locations/4563819901457381234:fetchMultiDailyMetricsTimeSeries",
    )
    assert len(query["dailyMetrics"]) == 10
    assert {key: value for key, value in query.items() if key.startswith("dailyRange")} == {
        "dailyRange.startDate.year": ["2026"],
        "dailyRange.startDate.month": ["3"],
        "dailyRange.startDate.day": ["1"],
        "dailyRange.endDate.year": ["2026"],
        "dailyRange.endDate.month": ["3"],
        "dailyRange.endDate.day": ["2"],
    }


def test_fetch_metrics_accepts_a_bare_location_id(account):
    account.external_id = "4563819901457381234"
    google, http = provider(account, google_answer("performance_two_days"))

    google.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert http.requests[0][1] == (
        "/v1/locations/4563819901457381234:fetchMultiDailyMetricsTimeSeries"
    )


def test_fetch_metrics_goes_to_the_configured_google_url(account, settings):
    settings.GOOGLE_API_URL = "http://127.0.0.1:8766/"
    google, http = provider(account, google_answer("performance_two_days"))

    google.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert http.requests[0][4].startswith(
        "http://127.0.0.1:8766/v1/locations/4563819901457381234:fetchMultiDailyMetricsTimeSeries?"
    )


# --- Errors -----------------------------------------------------------------------------------------


def test_unauthorised_needs_reconnect(account):
    google, _http = provider(account, google_answer("error_401"))

    with pytest.raises(NeedsReconnect) as raised:
        google.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert str(raised.value) == "Google refused the credentials (401)"


def test_refresh_error_needs_reconnect(account):
    google, _http = provider(
        account, RefreshError("invalid_grant: Token has been expired or revoked.")
    )

    with pytest.raises(NeedsReconnect):
        google.fetch_reviews(None)


def test_too_many_requests_waits_for_retry_after(account, now):
    google, _http = provider(account, google_answer("error_429"))

    with pytest.raises(RateLimited) as raised:
        google.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert raised.value.until == NOW + dt.timedelta(seconds=120)
    assert str(raised.value) == "Google rate limit (RATE_LIMIT_EXCEEDED)"


def test_quota_exceeded_403_waits_a_minute(account, now):
    google, _http = provider(account, google_answer("error_403_quota"))

    with pytest.raises(RateLimited) as raised:
        google.fetch_reviews(None)

    assert raised.value.until == NOW + dt.timedelta(seconds=60)


def test_permission_denied_is_permanent(account):
    google, _http = provider(account, google_answer("error_403_permission"))

    with pytest.raises(Permanent) as raised:
        google.fetch_reviews(None)

    assert str(raised.value) == (
        "Google refused the request (403 PERMISSION_DENIED The caller does not have permission)"
    )


def test_server_error_retries_later(account):
    google, _http = provider(account, google_answer("error_503"))

    with pytest.raises(RetryLater) as raised:
        google.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert str(raised.value) == "Google error 503"


@pytest.mark.parametrize(
    "failure",
    [
        TimeoutError("timed out"),
        ConnectionResetError(104, "reset"),
        httplib2.ServerNotFoundError("dns"),
    ],
)
def test_network_failure_retries_later(account, failure):
    google, _http = provider(account, failure)

    with pytest.raises(RetryLater) as raised:
        google.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert str(raised.value) == f"network error: {type(failure).__name__}"


# --- Reviews ---------------------------------------------------------------------------------------


def test_fetch_reviews_follows_next_page_token(account):
    google, http = provider(account, google_answer("reviews_page1"), google_answer("reviews_page2"))

    reviews = google.fetch_reviews(None)

    assert [r.rating for r in reviews] == [5, 2, 4, 3]
    assert reviews[0] == RemoteReview(
        external_id=f"{LOCATION}/reviews/AbFvOqmU2Xb8T1",
        author="Camille D.",
        rating=5,
        text="Excellent accueil, plats délicieux.",
        written_at=dt.datetime(2026, 3, 1, 19, 12, 44, 512000, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 3, 1, 19, 12, 44, 512000, tzinfo=dt.UTC),
    )
    answered = reviews[1]
    assert (answered.reply_text, answered.replied_at) == (
        "Merci pour votre retour, nous en tenons compte.",
        dt.datetime(2026, 2, 28, 10, 2, 11, 921000, tzinfo=dt.UTC),
    )
    assert (reviews[2].author, reviews[2].text) == ("", "")
    first, second = http.requests
    assert first[1] == f"/v4/{LOCATION}/reviews"
    assert first[2]["pageSize"] == ["50"] and "pageToken" not in first[2]
    assert second[2]["pageToken"] == ["CiwKEgoQCNCqvIH_xwMQ2K2Z4QESABABGAEiDgoGCgRidWpkEgQQkKbk"]


def test_fetch_reviews_stops_at_the_first_review_older_than_since(account):
    google, http = provider(account, google_answer("reviews_page1"), google_answer("reviews_page2"))

    reviews = google.fetch_reviews(dt.datetime(2026, 2, 1, tzinfo=dt.UTC))

    assert [r.external_id.rsplit("/", 1)[1] for r in reviews] == [
        "AbFvOqmU2Xb8T1",
        "AbFvOqkW7zQ3P2",
        "AbFvOqnM1aB4R3",
    ]
    assert len(http.requests) == 2


def test_fetch_reviews_stops_without_asking_the_next_page(account):
    google, http = provider(account, google_answer("reviews_page1"))

    reviews = google.fetch_reviews(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))

    assert len(reviews) == 1
    assert len(http.requests) == 1


def test_fetch_reviews_needs_the_account_in_the_location_id(account):
    account.external_id = "locations/4563819901457381234"
    google, http = provider(account)

    with pytest.raises(Permanent):
        google.fetch_reviews(None)
    assert http.requests == []


# --- Replies ---------------------------------------------------------------------------------------


def test_reply_puts_the_reply_on_the_review(account):
    google, http = provider(account, google_answer("reply_saved"))

    google.reply(f"{LOCATION}/reviews/AbFvOqmU2Xb8T1", "Merci Camille, à très bientôt !")

    method, path, _query, body, _uri = http.requests[0]
    assert (method, path, body) == (
        "PUT",
        f"/v4/{LOCATION}/reviews/AbFvOqmU2Xb8T1/reply",
        {"comment": "Merci Camille, à très bientôt !"},
    )


def test_reply_of_4096_bytes_is_sent(account):
    google, http = provider(account, google_answer("reply_saved"))

    google.reply(f"{LOCATION}/reviews/AbFvOqmU2Xb8T1", "é" * 2048)

    assert len(http.requests) == 1


def test_reply_over_4096_bytes_is_refused_before_sending(account):
    google, http = provider(account)

    with pytest.raises(Permanent) as raised:
        google.reply(f"{LOCATION}/reviews/AbFvOqmU2Xb8T1", "é" * 2048 + "x")

    assert str(raised.value) == "reply longer than Google's 4096 bytes"
    assert http.requests == []


# --- Publishing -----------------------------------------------------------------------------------


CONTENT = PostContent(
    text="Nouveau menu de printemps !",
    link="https://chezpaul.example/menu",
    image_urls=("https://cdn.example/menu.jpg",),
)
POST = Published(
    external_id=f"{LOCATION}/localPosts/1543286744512384321",
    url="https://local.google.com/place?id=1234567890&use=posts&lpsid=1543286744512384321",
)


def test_publish_creates_a_local_post(account, now):
    google, http = provider(account, google_answer("local_post_created"))
    state, saved = {}, Checkpoints()

    assert google.publish(CONTENT, state=state, checkpoint=saved) == POST

    assert saved == [{"post_sent_at": "2026-03-02T09:00:00+00:00"}]
    method, path, _query, body, _uri = http.requests[0]
    assert (method, path) == ("POST", f"/v4/{LOCATION}/localPosts")
    assert body == {
        "languageCode": "fr",
        "summary": "Nouveau menu de printemps !",
        "topicType": "STANDARD",
        "callToAction": {"actionType": "LEARN_MORE", "url": "https://chezpaul.example/menu"},
        "media": [{"mediaFormat": "PHOTO", "sourceUrl": "https://cdn.example/menu.jpg"}],
    }


def test_publish_retry_after_sent_finds_the_post_and_does_not_create_again(account):
    google, http = provider(account, google_answer("local_posts_list"))
    state = {"post_sent_at": "2026-03-02T09:00:00+00:00"}

    assert google.publish(CONTENT, state=state, checkpoint=Checkpoints()) == POST

    assert [(m, p) for m, p, _q, _b, _u in http.requests] == [("GET", f"/v4/{LOCATION}/localPosts")]


def test_publish_lost_response_then_retry_creates_one_post(account, now):
    google, http = provider(account, TimeoutError("timed out"), google_answer("local_posts_list"))
    state, saved = {}, Checkpoints()

    with pytest.raises(RetryLater):
        google.publish(CONTENT, state=state, checkpoint=saved)
    assert google.publish(CONTENT, state=state, checkpoint=saved) == POST

    assert [m for m, _p, _q, _b, _u in http.requests] == ["POST", "GET"]
    assert saved == [{"post_sent_at": "2026-03-02T09:00:00+00:00"}]


def test_publish_retry_without_the_post_creates_it(account):
    google, http = provider(
        account, google_answer("local_posts_list"), google_answer("local_post_created")
    )
    state = {"post_sent_at": "2026-03-03T12:00:00+00:00"}

    assert google.publish(CONTENT, state=state, checkpoint=Checkpoints()) == POST

    assert [m for m, _p, _q, _b, _u in http.requests] == ["GET", "POST"]
