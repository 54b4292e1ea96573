"""The Instagram connector on recorded Graph responses (responses intercepts the SDK's requests;
an unregistered URL fails the test): nothing reaches the network."""

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
import requests

from sales.enums import Network
from social.models import SocialAccount
from social.providers import (
    MetricValue,
    NeedsReconnect,
    Permanent,
    PostContent,
    Published,
    RateLimited,
    RetryLater,
    provider_for,
)
from social.providers.instagram import InstagramProvider
from tests.social import recorded

IG = "17841405822304914"
CONTAINER = "17889615691921648"
MEDIA = "17920238422030506"
GRAPH = "https://graph.facebook.com/v26.0"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
METRICS = "reach,views,total_interactions,follows_and_unfollows"
CAPTION = "Nouveau menu de printemps !\n\nhttps://chezpaul.example/menu"
CONTENT = PostContent(
    text="Nouveau menu de printemps !",
    link="https://chezpaul.example/menu",
    image_urls=("https://cdn.example/menu.jpg",),
)

# Graph calls go to its own address (replayed, never sent), without an app secret.
pytestmark = pytest.mark.usefixtures("graph_settings")


def recording(name: str) -> dict:
    return recorded.recording("instagram", name)


def add(rsps, method: str, path: str, name: str, **query):
    recorded.add(rsps, method, f"{GRAPH}/{path}", recording(name), **query)


query = recorded.params


def calls(rsps) -> list[tuple[str, str]]:
    return [(call.request.method, urlsplit(call.request.url).path) for call in rsps.calls]


@pytest.fixture
def account(restaurant_factory):
    return SocialAccount.objects.create(
        restaurant=restaurant_factory(),
        network=Network.INSTAGRAM,
        external_id=IG,
        name="@chezpaul.lyon",
        credentials='{"access_token": "t"}',
    )


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


class Checkpoints(list):
    def __call__(self, state: dict) -> None:
        self.append(dict(state))


def test_provider_for_a_connected_instagram_account(account):
    assert isinstance(provider_for(account), InstagramProvider)


# --- Metrics ---------------------------------------------------------------------------------------


def test_fetch_metrics_reads_daily_totals_and_the_follower_count(account, graph):
    add(graph, "GET", f"{IG}/insights", "insights_day1", since="2026-03-01")
    add(graph, "GET", f"{IG}/insights", "insights_day2", since="2026-03-02")
    add(graph, "GET", f"{IG}/", "profile", fields="followers_count")

    result = InstagramProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    first, second = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    assert result.values == [
        MetricValue("reach", first, 412.0),
        MetricValue("views", first, 1288.0),
        MetricValue("interactions", first, 57.0),
        MetricValue("new_followers", first, 6.0),
        MetricValue("reach", second, 398.0),
        MetricValue("views", second, 1174.0),
        MetricValue("interactions", second, 61.0),
        MetricValue("new_followers", second, 2.0),
        MetricValue("followers", second, 2480.0),
    ]
    assert result.refused == {}
    assert query(graph.calls[0]) == {
        "access_token": "t",
        "metric": METRICS,
        "metric_type": "total_value",
        "period": "day",
        "since": "2026-03-01",
        "until": "2026-03-02",
    }


def test_fetch_metrics_refused_metric_is_listed_and_others_kept(account, graph):
    add(graph, "GET", f"{IG}/insights", "error_100_invalid_metric", metric=METRICS)
    for name in METRICS.split(","):
        recorded = "error_100_invalid_metric" if name == "views" else f"insights_day1_only_{name}"
        add(graph, "GET", f"{IG}/insights", recorded, metric=name)
    add(
        graph,
        "GET",
        f"{IG}/insights",
        "insights_day2_without_views",
        metric="reach,total_interactions,follows_and_unfollows",
    )
    add(graph, "GET", f"{IG}/", "profile")

    result = InstagramProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))

    assert list(result.refused) == ["views"]
    assert result.refused["views"].startswith("(#100) metric[1] must be one of the following")
    assert [v.metric for v in result.values if v.day == dt.date(2026, 3, 1)] == [
        "reach",
        "interactions",
        "new_followers",
    ]
    assert len(result.values) == 7
    assert len(graph.calls) == 7


def test_fetch_metrics_expired_token_needs_reconnect(account, graph):
    add(graph, "GET", f"{IG}/insights", "error_190_expired")

    with pytest.raises(NeedsReconnect):
        InstagramProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 1))


def test_fetch_metrics_timeout_retries_later(account, graph):
    graph.add("GET", f"{GRAPH}/{IG}/insights", body=requests.exceptions.ConnectTimeout("timeout"))

    with pytest.raises(RetryLater):
        InstagramProvider(account).fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 1))


def test_instagram_has_no_reviews(account):
    assert InstagramProvider(account).fetch_reviews(None) == []


# --- Publishing -----------------------------------------------------------------------------------


def test_publish_creates_checks_and_publishes_the_container(account, graph, now):
    add(
        graph,
        "GET",
        f"{IG}/content_publishing_limit",
        "publishing_limit",
        fields="quota_usage,config",
    )
    add(graph, "POST", f"{IG}/media", "container_created")
    add(graph, "GET", f"{CONTAINER}/", "status_finished", fields="id,status_code,status")
    add(graph, "POST", f"{IG}/media_publish", "media_published")
    add(graph, "GET", f"{MEDIA}/", "media_permalink", fields="permalink")
    state, saved = {}, Checkpoints()

    published = InstagramProvider(account).publish(CONTENT, state=state, checkpoint=saved)

    assert published == Published(external_id=MEDIA, url="https://www.instagram.com/p/DGx7kQvNc2A/")
    assert saved == [
        {"container_id": CONTAINER},
        {"container_id": CONTAINER, "publish_sent_at": "2026-03-02T09:00:00+00:00"},
    ]
    assert query(graph.calls[1]) == {
        "image_url": "https://cdn.example/menu.jpg",
        "caption": CAPTION,
    }
    assert query(graph.calls[3]) == {"creation_id": CONTAINER}


def test_publish_carousel_creates_children_then_the_carousel(account, graph, now):
    add(
        graph,
        "GET",
        f"{IG}/content_publishing_limit",
        "publishing_limit",
        fields="quota_usage,config",
    )
    add(graph, "POST", f"{IG}/media", "carousel_item_1")
    add(graph, "POST", f"{IG}/media", "carousel_item_2")
    add(graph, "POST", f"{IG}/media", "container_created")
    add(graph, "GET", f"{CONTAINER}/", "status_in_progress")
    state = {}

    with pytest.raises(RetryLater):
        InstagramProvider(account).publish(
            PostContent(
                text="Nos desserts",
                image_urls=("https://cdn.example/1.jpg", "https://cdn.example/2.jpg"),
            ),
            state=state,
            checkpoint=Checkpoints(),
        )

    children = [query(call) for call in graph.calls[1:3]]
    assert children == [
        {"image_url": "https://cdn.example/1.jpg", "is_carousel_item": "true"},
        {"image_url": "https://cdn.example/2.jpg", "is_carousel_item": "true"},
    ]
    carousel = query(graph.calls[3])
    assert carousel["media_type"] == "CAROUSEL"
    assert json.loads(carousel["children"]) == ["17889615691921001", "17889615691921002"]
    assert carousel["caption"] == "Nos desserts"
    assert state == {"container_id": CONTAINER}


def test_publish_in_progress_keeps_the_container_and_retries_later(account, graph):
    add(graph, "GET", f"{CONTAINER}/", "status_in_progress")
    state, saved = {"container_id": CONTAINER}, Checkpoints()

    with pytest.raises(RetryLater) as raised:
        InstagramProvider(account).publish(CONTENT, state=state, checkpoint=saved)

    assert str(raised.value) == "Instagram is still processing the media"
    assert state == {"container_id": CONTAINER}
    assert calls(graph) == [("GET", f"/v26.0/{CONTAINER}/")]


def test_publish_retry_with_a_published_container_does_not_publish_again(account, graph):
    add(graph, "GET", f"{CONTAINER}/", "status_published")
    add(graph, "GET", f"{IG}/media", "media_recent")
    state = {"container_id": CONTAINER, "publish_sent_at": "2026-03-02T09:00:00+00:00"}

    published = InstagramProvider(account).publish(CONTENT, state=state, checkpoint=Checkpoints())

    assert published == Published(external_id=MEDIA, url="https://www.instagram.com/p/DGx7kQvNc2A/")
    assert calls(graph) == [("GET", f"/v26.0/{CONTAINER}/"), ("GET", f"/v26.0/{IG}/media")]
    assert query(graph.calls[1])["fields"] == "id,caption,permalink,timestamp"


def test_publish_lost_publish_response_then_retry_publishes_once(account, graph, now):
    add(
        graph,
        "GET",
        f"{IG}/content_publishing_limit",
        "publishing_limit",
        fields="quota_usage,config",
    )
    add(graph, "POST", f"{IG}/media", "container_created")
    add(graph, "GET", f"{CONTAINER}/", "status_finished")
    graph.add(
        "POST", f"{GRAPH}/{IG}/media_publish", body=requests.exceptions.ReadTimeout("timed out")
    )
    add(graph, "GET", f"{CONTAINER}/", "status_published")
    add(graph, "GET", f"{IG}/media", "media_recent")
    state, saved = {}, Checkpoints()

    with pytest.raises(RetryLater):
        InstagramProvider(account).publish(CONTENT, state=state, checkpoint=saved)
    assert state == {"container_id": CONTAINER, "publish_sent_at": "2026-03-02T09:00:00+00:00"}
    published = InstagramProvider(account).publish(CONTENT, state=state, checkpoint=saved)

    assert published.external_id == MEDIA
    assert calls(graph) == [
        ("GET", f"/v26.0/{IG}/content_publishing_limit"),
        ("POST", f"/v26.0/{IG}/media"),
        ("GET", f"/v26.0/{CONTAINER}/"),
        ("POST", f"/v26.0/{IG}/media_publish"),
        ("GET", f"/v26.0/{CONTAINER}/"),
        ("GET", f"/v26.0/{IG}/media"),
    ]


def test_publish_lost_container_response_checkpoints_nothing(account, graph):
    add(
        graph,
        "GET",
        f"{IG}/content_publishing_limit",
        "publishing_limit",
        fields="quota_usage,config",
    )
    graph.add("POST", f"{GRAPH}/{IG}/media", body=requests.exceptions.ConnectionError("reset"))
    state, saved = {}, Checkpoints()

    with pytest.raises(RetryLater):
        InstagramProvider(account).publish(CONTENT, state=state, checkpoint=saved)

    assert (state, saved) == ({}, [])


def test_publish_error_container_is_dropped_and_permanent(account, graph):
    add(graph, "GET", f"{CONTAINER}/", "status_error")
    state, saved = {"container_id": CONTAINER}, Checkpoints()

    with pytest.raises(Permanent) as raised:
        InstagramProvider(account).publish(CONTENT, state=state, checkpoint=saved)

    assert str(raised.value) == (
        "Instagram could not process the media: "
        "Error: We don't support the aspect ratio of the image. (2207009)"
    )
    assert state == {}
    assert saved == [{}]


def test_publish_expired_container_is_dropped_and_retried(account, graph):
    add(graph, "GET", f"{CONTAINER}/", "status_expired")
    state, saved = {"container_id": CONTAINER}, Checkpoints()

    with pytest.raises(RetryLater):
        InstagramProvider(account).publish(CONTENT, state=state, checkpoint=saved)

    assert (state, saved) == ({}, [{}])


def test_publish_limit_is_rate_limited(account, graph, now):
    add(graph, "GET", f"{CONTAINER}/", "status_finished")
    add(graph, "POST", f"{IG}/media_publish", "error_9_publish_limit")

    with pytest.raises(RateLimited) as raised:
        InstagramProvider(account).publish(
            CONTENT, state={"container_id": CONTAINER}, checkpoint=Checkpoints()
        )

    assert raised.value.until == NOW + dt.timedelta(hours=1)


def test_at_the_publishing_limit_no_container_is_made(account, graph, now):
    add(
        graph, "GET", f"{IG}/content_publishing_limit", "publishing_limit_reached",
        fields="quota_usage,config",
    )  # fmt: skip
    state, saved = {}, Checkpoints()

    with pytest.raises(RateLimited) as raised:
        InstagramProvider(account).publish(CONTENT, state=state, checkpoint=saved)

    assert raised.value.until == NOW + dt.timedelta(hours=1)
    assert str(raised.value) == "Instagram publishing limit reached (50 of 50 posts in 24 hours)"
    assert calls(graph) == [("GET", f"/v26.0/{IG}/content_publishing_limit")]
    assert (state, saved) == ({}, [])


def test_publish_without_image_is_permanent(account):
    with pytest.raises(Permanent) as raised:
        InstagramProvider(account).publish(
            PostContent(text="Texte seul"), state={}, checkpoint=Checkpoints()
        )

    assert str(raised.value) == "Instagram needs at least one image"
