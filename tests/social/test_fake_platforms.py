"""The benchmark's fake platform server speaks what the real connectors expect, and enforces the
platforms' quotas the way they do."""

import datetime as dt
import json

import pytest
import requests

from sales.enums import Network
from social.management import fake_platforms
from social.management.fake_platforms import FakePlatforms
from social.models import SocialAccount
from social.providers import RateLimited, provider_for

GOOGLE_CREDENTIALS = json.dumps(
    {
        "token": "t",
        "refresh_token": "r",
        "client_id": "c",
        "client_secret": "s",
        "expiry": "2099-01-01T00:00:00Z",
    }
)


@pytest.fixture
def platforms(settings):
    server = FakePlatforms(latency=0, now=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    server.start()
    for name, value in server.urls.items():
        setattr(settings, name, value)
    settings.TRIPADVISOR_API_KEY = "key"
    settings.META_APP_ID = settings.META_APP_SECRET = ""
    yield server
    server.stop()


def _account(restaurant, network, external_id, credentials=""):
    return SocialAccount(
        restaurant=restaurant, network=network, external_id=external_id, credentials=credentials
    )


def test_the_connectors_read_metrics_and_reviews_from_it(platforms, restaurant_factory):
    restaurant = restaurant_factory()
    token = json.dumps({"access_token": "t"})
    since, until = dt.date(2026, 11, 17), dt.date(2026, 11, 19)
    facebook = provider_for(_account(restaurant, Network.FACEBOOK, "3001", token))
    instagram = provider_for(_account(restaurant, Network.INSTAGRAM, "4001", token))
    google = provider_for(
        _account(restaurant, Network.GOOGLE, "accounts/1/locations/2", GOOGLE_CREDENTIALS)
    )
    tripadvisor = provider_for(_account(restaurant, Network.TRIPADVISOR, "5001"))

    for provider in (facebook, instagram, google):
        result = provider.fetch_metrics(since, until)
        days = {value.day for value in result.values}
        assert days == {since, since + dt.timedelta(days=1), until}, provider
        assert not result.refused
    # Facebook recommendations are deprecated from v22.0 (#12): none, and no error.
    assert facebook.fetch_reviews(None) == []
    google_reviews = google.fetch_reviews(None)
    assert len(google_reviews) == len(platforms.google_reviews("accounts/1/locations/2"))
    assert {review.rating for review in google_reviews} <= {1, 2, 3, 4, 5}
    assert len(tripadvisor.fetch_reviews(None)) == 10

    traffic = platforms.traffic
    assert len(traffic.calls[fake_platforms.GOOGLE_PERFORMANCE]) == 1
    assert len(traffic.calls[fake_platforms.TRIPADVISOR]) == 2
    assert not traffic.errors and not traffic.refused
    # Page tokens are limited per Page: 4,800 calls a day per engaged user, so a few calls use a
    # tiny share of it.
    assert 0 < traffic.meta_usage_peak < 0.1


def test_google_reviews_come_in_pages_of_fifty(platforms, restaurant_factory, monkeypatch):
    many = [f"accounts/1/locations/{n}" for n in range(200)]
    location = next(name for name in many if len(platforms.google_reviews(name)) > 50)
    google = provider_for(
        _account(restaurant_factory(), Network.GOOGLE, location, GOOGLE_CREDENTIALS)
    )

    reviews = google.fetch_reviews(None)

    assert len(reviews) == len(platforms.google_reviews(location))
    assert len(platforms.traffic.calls[fake_platforms.GOOGLE_BUSINESS]) == 2


def test_over_the_quota_it_answers_as_the_platforms_do(platforms, restaurant_factory):
    for _ in range(300):
        assert platforms.enter(fake_platforms.GOOGLE_PERFORMANCE)
        platforms.leave()
    google = provider_for(
        _account(restaurant_factory(), Network.GOOGLE, "locations/2", GOOGLE_CREDENTIALS)
    )

    with pytest.raises(RateLimited):
        google.fetch_metrics(dt.date(2026, 11, 18), dt.date(2026, 11, 19))

    assert platforms.traffic.refused[fake_platforms.GOOGLE_PERFORMANCE] == 1
    assert platforms.traffic.busiest(fake_platforms.GOOGLE_PERFORMANCE, 60) == 301


def test_calls_without_credentials_are_refused(platforms):
    base = platforms.urls["GRAPH_API_URL"]
    graph = requests.get(f"{base}/v26.0/3001", timeout=5)
    google = requests.get(f"{base}/v4/accounts/1/locations/2/reviews", timeout=5)

    assert graph.status_code == 400 and graph.json()["error"]["code"] == 2500
    assert google.status_code == 401


def test_busiest_counts_a_sliding_window():
    traffic = fake_platforms.Traffic()
    traffic.calls["api"] = [0.0, 0.5, 59.9, 60.0, 60.1, 200.0]
    assert traffic.busiest("api", 60) == 4
    assert traffic.busiest("api", 1) == 3


def test_graph_limits_each_page_to_its_daily_budget(platforms, restaurant_factory, monkeypatch):
    monkeypatch.setattr(fake_platforms, "PAGE_ENGAGED_USERS", (1, 1))
    monkeypatch.setattr(fake_platforms, "META_CALLS_PER_UNIT", 2)
    base = platforms.urls["GRAPH_API_URL"]
    answers = [
        requests.get(f"{base}/v26.0/3001", params={"access_token": "t"}, timeout=5)
        for _ in range(3)
    ]
    other = requests.get(f"{base}/v26.0/3002", params={"access_token": "t"}, timeout=5)

    assert [answer.status_code for answer in answers] == [200, 200, 400]
    assert answers[2].json()["error"]["code"] == 80001
    usage = json.loads(answers[1].headers["X-Business-Use-Case-Usage"])
    assert usage["3001"][0]["call_count"] == 100 and usage["3001"][0]["type"] == "pages"
    assert "X-App-Usage" not in answers[1].headers
    assert other.status_code == 200
    assert platforms.traffic.refused[fake_platforms.GRAPH] == 1
    # The connector reads #80001 as a rate limit of that Page.
    facebook = provider_for(
        _account(restaurant_factory(), Network.FACEBOOK, "3001", json.dumps({"access_token": "t"}))
    )
    with pytest.raises(RateLimited):
        facebook.fetch_metrics(dt.date(2026, 11, 18), dt.date(2026, 11, 19))


def test_what_the_last_day_brought_is_served_only_once_held_back_no_more(platforms):
    locations = [f"accounts/1/locations/{n}" for n in range(400)]
    platforms.hold_back = dt.timedelta(days=1)
    before = {name: platforms.google_reviews(name) for name in locations}
    platforms.hold_back = dt.timedelta()
    after = {name: platforms.google_reviews(name) for name in locations}

    new = sum(len(after[name]) - len(before[name]) for name in locations)
    edited = [
        name
        for name in locations
        if any(
            old["name"] == fresh["name"] and old["starRating"] != fresh["starRating"]
            for old in before[name]
            for fresh in after[name]
        )
    ]
    day_ago = (platforms.now - dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert new > 0 and edited
    for name in locations:
        assert all(review["updateTime"] <= day_ago for review in before[name])
    for name in edited:
        # The edited review comes first: Google orders by last change.
        assert after[name][0]["updateTime"] > day_ago
