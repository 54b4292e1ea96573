"""The Facebook connector on recorded Graph responses (responses intercepts the SDK's requests;
an unregistered URL fails the test): nothing reaches the network."""

import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone, translation
from facebook_business import apiconfig

from sales.enums import Network
from social import metrics
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
from social.providers.facebook import FacebookProvider
from social.providers.meta import translated
from tests.social import recorded

PAGE = "108456789012345"
GRAPH = "https://graph.facebook.com/v26.0"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ALL_METRICS = (
    "page_follows,page_daily_follows_unique,page_media_view,page_total_media_view_unique,"
    "page_post_engagements"
)

# Graph calls go to its own address (replayed, never sent), without an app secret.
pytestmark = pytest.mark.usefixtures("graph_settings")


def recording(name: str) -> dict:
    return recorded.recording("facebook", name)


def add(rsps, method: str, path: str, name: str, **query):
    recorded.add(rsps, method, f"{GRAPH}/{path}", recording(name), **query)


query = recorded.params


def path(call) -> str:
    return urlsplit(call.request.url).path


@pytest.fixture
def account(restaurant_factory):
    return SocialAccount.objects.create(
        restaurant=restaurant_factory(),
        network=Network.FACEBOOK,
        external_id=PAGE,
        name="Chez Paul",
        credentials='{"access_token": "t"}',
    )


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


# --- Versions and routing -------------------------------------------------------------------------


def test_graph_version_is_the_sdk_version():
    assert metrics.GRAPH_VERSION == apiconfig.ads_api_config["API_VERSION"] == "v26.0"
    assert metrics.api_metrics(Network.FACEBOOK, "v26.0")["page_media_view"] == "views"


def test_provider_for_a_connected_page_is_the_facebook_provider(account):
    assert isinstance(provider_for(account), FacebookProvider)


def test_requests_go_to_the_configured_graph_url(account, graph, settings):
    settings.GRAPH_API_URL = "http://127.0.0.1:8765"
    graph.add(
        "GET",
        f"http://127.0.0.1:8765/v26.0/{PAGE}/insights",
        json=recording("insights_two_days")["body"],
    )

    FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert graph.calls[0].request.url.startswith(f"http://127.0.0.1:8765/v26.0/{PAGE}/insights?")
    assert query(graph.calls[0])["access_token"] == "t"


def test_app_secret_adds_the_appsecret_proof(account, graph, settings):
    settings.META_APP_SECRET = "app-secret"
    add(graph, "GET", f"{PAGE}/insights", "insights_two_days")

    FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    expected = hmac.new(b"app-secret", b"t", hashlib.sha256).hexdigest()
    assert query(graph.calls[0])["appsecret_proof"] == expected


# --- Metrics ---------------------------------------------------------------------------------------


def test_fetch_metrics_maps_insights_to_desk_names(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "insights_two_days")

    result = FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    first, second = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    assert sorted(result.values, key=lambda v: (v.metric, v.day)) == [
        MetricValue("followers", first, 1520.0),
        MetricValue("followers", second, 1523.0),
        MetricValue("interactions", first, 77.0),
        MetricValue("interactions", second, 64.0),
        MetricValue("new_followers", first, 4.0),
        MetricValue("new_followers", second, 3.0),
        MetricValue("reach", first, 905.0),
        MetricValue("reach", second, 988.0),
        MetricValue("views", first, 1532.0),
        MetricValue("views", second, 1710.0),
    ]
    assert result.refused == {}
    # One call: "until" is exclusive, and paging.next (after the range) is not followed.
    assert len(graph.calls) == 1
    assert query(graph.calls[0]) == {
        "access_token": "t",
        "metric": ALL_METRICS,
        "period": "day",
        "since": "2026-03-01",
        "until": "2026-03-03",
    }


def test_fetch_metrics_follows_paging_next_within_the_range(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "insights_page1", since="2026-03-01")
    add(graph, "GET", f"{PAGE}/insights", "insights_page2", since="1772409600")

    result = FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert len(graph.calls) == 2
    assert query(graph.calls[1]) == {
        "access_token": "t",
        "metric": ALL_METRICS,
        "period": "day",
        "since": "1772409600",
        "until": "1772496000",
    }
    views = sorted((v.day, v.value) for v in result.values if v.metric == "views")
    assert views == [(dt.date(2026, 3, 1), 1532.0), (dt.date(2026, 3, 2), 1710.0)]
    assert len(result.values) == 10


def test_fetch_metrics_reads_followers_count_when_page_follows_is_missing(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "insights_without_follows")
    add(graph, "GET", f"{PAGE}/", "page_followers_count", fields="followers_count")

    result = FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    followers = [v for v in result.values if v.metric == "followers"]
    assert followers == [MetricValue("followers", dt.date(2026, 3, 2), 1532.0)]
    assert len(result.values) == 9
    assert path(graph.calls[1]) == f"/v26.0/{PAGE}/"


def test_fetch_metrics_cuts_long_ranges_into_90_day_queries(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "insights_empty", since="2026-01-01")
    add(graph, "GET", f"{PAGE}/insights", "insights_empty", since="2026-04-01")
    add(graph, "GET", f"{PAGE}/", "page_followers_count")

    result = FacebookProvider(account).fetch_metrics(dt.date(2026, 1, 1), dt.date(2026, 4, 30))

    spans = [(query(c)["since"], query(c)["until"]) for c in graph.calls[:2]]
    assert spans == [("2026-01-01", "2026-04-01"), ("2026-04-01", "2026-05-01")]
    assert result.values == [MetricValue("followers", dt.date(2026, 4, 30), 1532.0)]


def test_fetch_metrics_refused_metric_is_listed_and_others_kept(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "error_100_invalid_metric", metric=ALL_METRICS)
    for name in ALL_METRICS.split(","):
        recorded = (
            "error_100_invalid_metric" if name == "page_media_view" else f"insights_only_{name}"
        )
        add(graph, "GET", f"{PAGE}/insights", recorded, metric=name)

    result = FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert result.refused == {"page_media_view": "(#100) The value must be a valid insights metric"}
    assert sorted({v.metric for v in result.values}) == [
        "followers",
        "interactions",
        "new_followers",
        "reach",
    ]
    assert len(result.values) == 8
    assert [query(c)["metric"] for c in graph.calls] == [ALL_METRICS, *ALL_METRICS.split(",")]


def test_fetch_metrics_refused_metric_is_not_asked_again_in_later_chunks(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "error_100_invalid_metric", metric=ALL_METRICS)
    for name in ALL_METRICS.split(","):
        recorded = "error_100_invalid_metric" if name == "page_media_view" else "insights_empty"
        add(graph, "GET", f"{PAGE}/insights", recorded, metric=name)
    kept = ALL_METRICS.replace("page_media_view,", "")
    add(graph, "GET", f"{PAGE}/insights", "insights_empty", metric=kept)
    add(graph, "GET", f"{PAGE}/", "page_followers_count")

    result = FacebookProvider(account).fetch_metrics(dt.date(2026, 1, 1), dt.date(2026, 4, 30))

    assert list(result.refused) == ["page_media_view"]
    assert query(graph.calls[6])["metric"] == kept
    assert query(graph.calls[6])["since"] == "2026-04-01"


def test_fetch_metrics_expired_token_needs_reconnect(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "error_190_expired")

    with pytest.raises(NeedsReconnect) as raised:
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert str(raised.value).startswith("Meta refused the access token (#190): Error validating")


def test_fetch_metrics_page_rate_limit_waits_the_time_to_regain_access(account, graph, now):
    add(graph, "GET", f"{PAGE}/insights", "error_80001_page_rate")

    with pytest.raises(RateLimited) as raised:
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert raised.value.until == NOW + dt.timedelta(minutes=19)
    assert str(raised.value).startswith("Meta rate limit (#80001, HTTP 400): (#80001) There")


def test_fetch_metrics_app_rate_limit_without_estimate_waits_an_hour(account, graph, now):
    add(graph, "GET", f"{PAGE}/insights", "error_4_app_rate")

    with pytest.raises(RateLimited) as raised:
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert raised.value.until == NOW + dt.timedelta(hours=1)


def test_fetch_metrics_server_error_retries_later(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "error_2_unexpected")

    with pytest.raises(RetryLater) as raised:
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert str(raised.value).startswith("Meta error (#2, HTTP 500)")


def test_fetch_metrics_html_bad_gateway_retries_later(account, graph):
    graph.add(
        "GET", f"{GRAPH}/{PAGE}/insights", body="<html><body>Bad Gateway</body></html>", status=502
    )

    with pytest.raises(RetryLater) as raised:
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert str(raised.value) == "Meta error (HTTP 502)"


def test_fetch_metrics_missing_permission_is_permanent(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "error_10_permission")

    with pytest.raises(Permanent) as raised:
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert str(raised.value) == (
        "Meta refused the request (#10): (#10) Application does not have permission for this action"
    )


def test_fetch_metrics_timeout_retries_later(account, graph):
    graph.add("GET", f"{GRAPH}/{PAGE}/insights", body=requests.exceptions.ReadTimeout("timed out"))

    with pytest.raises(RetryLater) as raised:
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert str(raised.value) == "network error: ReadTimeout"


def test_fetch_metrics_without_token_needs_reconnect(account):
    account.credentials = '{"other": 1}'

    with pytest.raises(NeedsReconnect):
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))


def test_high_usage_header_flags_the_provider(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "insights_without_follows")
    add(graph, "GET", f"{PAGE}/", "page_name_high_usage")
    provider = FacebookProvider(account)
    assert provider.usage_high is False

    provider.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert provider.usage_high is True
    # The app's quota is nearly spent: every worker pauses its Graph calls, without a request.
    calls = len(graph.calls)
    with pytest.raises(RateLimited) as raised:
        FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert len(graph.calls) == calls
    assert raised.value.until > timezone.now() + dt.timedelta(minutes=4)


def test_a_throttled_page_pauses_until_meta_says_and_other_pages_go_on(account, graph):
    add(graph, "GET", f"{PAGE}/insights", "insights_without_follows")
    add(graph, "GET", f"{PAGE}/", "page_name_throttled")
    FacebookProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    calls = len(graph.calls)

    with pytest.raises(RateLimited) as raised:
        FacebookProvider(account).fetch_reviews(None)

    assert len(graph.calls) == calls
    regain = raised.value.until - timezone.now()
    assert dt.timedelta(minutes=11) < regain <= dt.timedelta(minutes=12)
    other = SocialAccount(
        network=Network.FACEBOOK, external_id="999", credentials=account.credentials
    )
    add(graph, "GET", "999/", "page_followers_count")
    with translated():
        FacebookProvider(other).page.api_get(fields=["followers_count"])
    assert len(graph.calls) == calls + 1


# --- Reviews ---------------------------------------------------------------------------------------


def test_fetch_reviews_follows_the_cursor_and_maps_recommendations(account, graph):
    add(graph, "GET", f"{PAGE}/ratings", "ratings_page1")
    add(
        graph,
        "GET",
        f"{PAGE}/ratings",
        "ratings_page2",
        after="MTAyMjgwMDAxMTE6MTE4MzkwMAZDZD",
    )

    reviews = FacebookProvider(account).fetch_reviews(None)

    assert [r.external_id for r in reviews] == [
        "10229384756_1184402",
        "10228000111_1183900",
        "10227555444_1181002",
        "10226111222_1170001",
    ]
    assert [r.rating for r in reviews] == [5, 4, 1, 5]
    assert reviews[0] == RemoteReview(
        external_id="10229384756_1184402",
        author="Camille Durand",
        rating=5,
        text="Accueil chaleureux et tartare excellent.",
        written_at=dt.datetime(2026, 3, 1, 18, 42, 10, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 3, 1, 18, 42, 10, tzinfo=dt.UTC),
        url="https://www.facebook.com/10229384756_1184402",
    )
    assert query(graph.calls[0])["fields"] == (
        "reviewer,rating,recommendation_type,review_text,created_time,open_graph_story"
    )


def test_fetch_reviews_stops_at_since(account, graph):
    add(graph, "GET", f"{PAGE}/ratings", "ratings_page1")
    add(graph, "GET", f"{PAGE}/ratings", "ratings_page2")

    reviews = FacebookProvider(account).fetch_reviews(dt.datetime(2026, 2, 1, tzinfo=dt.UTC))

    assert [r.author for r in reviews] == ["Camille Durand", "Julien Martin", "Sophie Leroy"]


def test_fetch_reviews_deprecated_edge_gives_none_and_a_note(account, graph):
    add(graph, "GET", f"{PAGE}/ratings", "error_12_deprecated")

    provider = FacebookProvider(account)

    assert provider.fetch_reviews(None) == []
    with translation.override("en"):
        assert "no longer gives Page recommendations" in str(provider.reviews_note)


def test_fetch_reviews_without_permission_is_permanent(account, graph):
    add(graph, "GET", f"{PAGE}/ratings", "error_10_permission")

    with pytest.raises(Permanent):
        FacebookProvider(account).fetch_reviews(None)


def test_reply_is_refused(account):
    provider = FacebookProvider(account)

    assert provider.can_reply is False
    with pytest.raises(Permanent):
        provider.reply("10229384756_1184402", "Merci !")


# --- Publishing -----------------------------------------------------------------------------------


class Checkpoints(list):
    def __call__(self, state: dict) -> None:
        self.append(dict(state))


def test_publish_link_post(account, graph, now):
    add(graph, "POST", f"{PAGE}/feed", "feed_created")
    state, saved = {}, Checkpoints()

    published = FacebookProvider(account).publish(
        PostContent(text="Nouveau menu de printemps !", link="https://chezpaul.example/menu"),
        state=state,
        checkpoint=saved,
    )

    assert published == Published(
        external_id=f"{PAGE}_122109876543210987",
        url=f"https://www.facebook.com/{PAGE}_122109876543210987",
    )
    assert saved == [{"feed_sent_at": "2026-03-02T09:00:00+00:00"}]
    assert query(graph.calls[0]) == {
        "message": "Nouveau menu de printemps !",
        "link": "https://chezpaul.example/menu",
    }


def test_publish_photos_are_uploaded_unpublished_then_attached(account, graph, now):
    add(graph, "POST", f"{PAGE}/photos", "photo_uploaded_1")
    add(graph, "POST", f"{PAGE}/photos", "photo_uploaded_2")
    add(graph, "POST", f"{PAGE}/feed", "feed_created")

    FacebookProvider(account).publish(
        PostContent(
            text="Nos desserts",
            image_urls=("https://cdn.example/1.jpg", "https://cdn.example/2.jpg"),
        ),
        state={},
        checkpoint=Checkpoints(),
    )

    photos = [query(c) for c in graph.calls[:2]]
    assert photos == [
        {"url": "https://cdn.example/1.jpg", "published": "false"},
        {"url": "https://cdn.example/2.jpg", "published": "false"},
    ]
    feed = query(graph.calls[2])
    assert path(graph.calls[2]) == f"/v26.0/{PAGE}/feed"
    assert json.loads(feed["attached_media"]) == [
        {"media_fbid": "122101234567890001"},
        {"media_fbid": "122101234567890002"},
    ]
    assert feed["message"] == "Nos desserts"


def test_publish_retry_after_feed_sent_finds_the_post_and_does_not_post_again(account, graph):
    add(graph, "GET", f"{PAGE}/posts", "posts_recent")
    state = {"feed_sent_at": "2026-03-02T09:00:01+00:00"}
    saved = Checkpoints()

    published = FacebookProvider(account).publish(
        PostContent(text="Nouveau menu de printemps !", link="https://chezpaul.example/menu"),
        state=state,
        checkpoint=saved,
    )

    assert published == Published(
        external_id=f"{PAGE}_122109876543210987",
        url=f"https://www.facebook.com/{PAGE}/posts/122109876543210987",
    )
    assert [(c.request.method, path(c)) for c in graph.calls] == [("GET", f"/v26.0/{PAGE}/posts")]
    assert query(graph.calls[0])["since"] == str(
        int(dt.datetime(2026, 3, 2, 8, 59, 1, tzinfo=dt.UTC).timestamp())
    )
    assert query(graph.calls[0])["fields"] == "id,message,permalink_url,created_time"
    assert saved == []


def test_publish_lost_feed_response_then_retry_creates_one_post(account, graph, now):
    graph.add("POST", f"{GRAPH}/{PAGE}/feed", body=requests.exceptions.ConnectionError("reset"))
    add(graph, "GET", f"{PAGE}/posts", "posts_recent")
    state, saved = {}, Checkpoints()
    content = PostContent(text="Nouveau menu de printemps !", link="https://chezpaul.example/menu")

    with pytest.raises(RetryLater):
        FacebookProvider(account).publish(content, state=state, checkpoint=saved)
    assert saved == [{"feed_sent_at": "2026-03-02T09:00:00+00:00"}]
    published = FacebookProvider(account).publish(content, state=state, checkpoint=saved)

    assert published.external_id == f"{PAGE}_122109876543210987"
    assert [(c.request.method, path(c)) for c in graph.calls] == [
        ("POST", f"/v26.0/{PAGE}/feed"),
        ("GET", f"/v26.0/{PAGE}/posts"),
    ]


def test_publish_retry_without_a_matching_post_posts_again(account, graph, now):
    add(graph, "GET", f"{PAGE}/posts", "posts_other")
    add(graph, "POST", f"{PAGE}/feed", "feed_created")
    state = {"feed_sent_at": "2026-03-02T08:30:00+00:00"}
    saved = Checkpoints()

    published = FacebookProvider(account).publish(
        PostContent(text="Nouveau menu de printemps !"), state=state, checkpoint=saved
    )

    assert published.external_id == f"{PAGE}_122109876543210987"
    # The first attempt's time is kept: the look-up window only grows.
    assert saved == [{"feed_sent_at": "2026-03-02T08:30:00+00:00"}]
    assert [c.request.method for c in graph.calls] == ["GET", "POST"]


def test_publish_without_permission_is_permanent(account, graph, now):
    add(graph, "POST", f"{PAGE}/feed", "error_200_publish_permission")

    with pytest.raises(Permanent) as raised:
        FacebookProvider(account).publish(
            PostContent(text="Bonjour"), state={}, checkpoint=Checkpoints()
        )

    assert str(raised.value).startswith("Meta refused the request (#200)")


def test_publish_duplicate_is_permanent(account, graph, now):
    add(graph, "POST", f"{PAGE}/feed", "error_506_duplicate")

    with pytest.raises(Permanent) as raised:
        FacebookProvider(account).publish(
            PostContent(text="Bonjour"), state={}, checkpoint=Checkpoints()
        )

    assert str(raised.value) == "Meta refused the request (#506): (#506) Duplicate status message"
