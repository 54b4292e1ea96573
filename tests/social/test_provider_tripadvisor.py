"""The TripAdvisor connector on recorded Content API responses (responses intercepts requests;
an unregistered URL fails the test): nothing reaches the network."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone, translation
from responses import matchers

from sales.enums import Network
from social.models import SocialAccount
from social.providers import (
    NeedsReconnect,
    Permanent,
    PostContent,
    RateLimited,
    RemoteReview,
    RetryLater,
    provider_for,
)
from social.providers.demo import DemoProvider
from social.providers.tripadvisor import TripadvisorProvider
from tests.social import recorded
from tests.social.recorded import strict_requests

API = "https://api.content.tripadvisor.com/api/v1"
LOCATION = "8125427"
REVIEWS = f"{API}/location/{LOCATION}/reviews"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def recording(name: str) -> dict:
    return recorded.recording("tripadvisor", name)


def add(rsps, name: str, **query):
    recorded.add(rsps, "GET", REVIEWS, recording(name), **query)


@pytest.fixture(autouse=True)
def _tripadvisor_settings(settings):
    settings.TRIPADVISOR_API_URL = API
    settings.TRIPADVISOR_API_KEY = "ta-key"


@pytest.fixture
def api():
    with strict_requests() as rsps:
        yield rsps


@pytest.fixture
def account(restaurant_factory):
    return SocialAccount.objects.create(
        restaurant=restaurant_factory(),
        network=Network.TRIPADVISOR,
        external_id=LOCATION,
        name="Chez Paul",
    )


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


# --- Routing --------------------------------------------------------------------------------------


def test_provider_for_needs_no_credentials_but_the_api_key(account):
    assert account.credentials == ""
    assert isinstance(provider_for(account), TripadvisorProvider)


def test_provider_for_without_api_key_needs_reconnect(account, settings):
    settings.TRIPADVISOR_API_KEY = ""

    with pytest.raises(NeedsReconnect) as raised:
        provider_for(account)

    assert str(raised.value) == "no TripAdvisor API key configured"


def test_provider_for_a_demo_account_stays_the_demo(account):
    account.demo = True

    assert isinstance(provider_for(account), DemoProvider)


# --- Reviews ---------------------------------------------------------------------------------------


def test_fetch_reviews_merges_french_and_english_and_is_not_storable(account, api):
    add(api, "reviews_fr", language="fr")
    add(api, "reviews_en", language="en")

    reviews = TripadvisorProvider(account).fetch_reviews(None)

    assert [r.external_id for r in reviews] == ["1002233445", "1002100000", "1001998877"]
    assert all(r.storable is False for r in reviews)
    assert reviews[0] == RemoteReview(
        external_id="1002233445",
        author="Marie_L69",
        rating=5,
        text="Cuisine lyonnaise généreuse, service adorable.",
        written_at=dt.datetime(2026, 3, 1, 15, 22, 10, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 3, 1, 15, 22, 10, tzinfo=dt.UTC),
        url=(
            "https://www.tripadvisor.com/ShowUserReviews-g187265-d8125427-r1002233445-"
            "Chez_Paul-Lyon_Rhone_Auvergne_Rhone_Alpes.html"
        ),
        language="fr",
        storable=False,
    )
    assert [r.language for r in reviews] == ["fr", "en", "fr"]
    queries = [parse_qs(urlsplit(call.request.url).query) for call in api.calls]
    assert queries == [
        {"language": ["fr"], "key": ["ta-key"]},
        {"language": ["en"], "key": ["ta-key"]},
    ]


def test_fetch_reviews_gives_every_review_whatever_since(account, api):
    add(api, "reviews_fr", language="fr")
    add(api, "reviews_en", language="en")

    reviews = TripadvisorProvider(account).fetch_reviews(dt.datetime(2026, 2, 20, tzinfo=dt.UTC))

    # Even the one published before `since`: an edited review keeps its published date.
    assert [r.external_id for r in reviews] == ["1002233445", "1002100000", "1001998877"]


def test_a_review_edited_on_tripadvisor_is_noticed_by_the_next_daily_fetch(
    account, bistro, review_manager
):
    from social import services
    from social.models import ReviewTask

    account.restaurant = bistro
    account.save()
    edited = recording("reviews_fr")
    edited["body"]["data"][1] = edited["body"]["data"][1] | {
        "rating": 1,
        "text": "Plat froid, attente d'une heure.",
    }
    with strict_requests() as rsps:
        add(rsps, "reviews_fr", language="fr")
        add(rsps, "reviews_en", language="en")
        services.reviews_fetch(account=account)
    services.review_mark_answered(
        review=account.reviews.get(external_id="1001998877"), by=review_manager
    )
    with strict_requests() as rsps:
        recorded.add(rsps, "GET", REVIEWS, edited, language="fr")
        add(rsps, "reviews_en", language="en")
        account.refresh_from_db()
        outcome = services.reviews_fetch(account=account)

    assert (outcome.new, outcome.changed, outcome.unchanged) == (0, 1, 2)
    review = account.reviews.get(external_id="1001998877")
    assert (review.rating, review.text) == (1, "")
    tasks = ReviewTask.objects.filter(review=review).order_by("pk")
    assert [(task.reason, task.state) for task in tasks] == [
        ("new", "answered"),
        ("changed", "open"),
    ]


def test_every_call_draws_on_the_rate_budget_and_the_monthly_one(account, api, monkeypatch):
    from social import quotas

    taken = []
    monkeypatch.setattr(quotas, "acquire", taken.append)
    add(api, "reviews_fr", language="fr")
    add(api, "reviews_en", language="en")

    TripadvisorProvider(account).fetch_reviews(None)

    assert taken == [quotas.TRIPADVISOR, quotas.TRIPADVISOR]
    assert quotas.monthly_used(quotas.TRIPADVISOR_MONTH) == 2


def test_once_the_monthly_budget_is_spent_no_call_is_made(account, api):
    from social import quotas
    from social.models import SocialSettings

    config = SocialSettings.load()
    config.tripadvisor_monthly_calls = 3
    config.save()
    add(api, "reviews_fr", language="fr")
    add(api, "reviews_en", language="en")
    TripadvisorProvider(account).fetch_reviews(None)
    add(api, "reviews_fr", language="fr")

    with pytest.raises(quotas.BudgetExhausted) as raised:
        TripadvisorProvider(account).fetch_reviews(None)

    # The third call was made; the fourth never left (strict_requests: every answer was used).
    assert quotas.monthly_used(quotas.TRIPADVISOR_MONTH) == 3
    assert raised.value.until.day == 1 and raised.value.until > timezone.now()


def test_a_429_pauses_the_key_for_every_location(account, api, restaurant_factory):
    from social import quotas

    add(api, "error_429")
    with pytest.raises(RateLimited):
        TripadvisorProvider(account).fetch_reviews(None)
    other = SocialAccount.objects.create(
        restaurant=restaurant_factory(), network=Network.TRIPADVISOR, external_id="42", name="x"
    )

    # No request is made for another location (strict_requests would refuse it).
    with pytest.raises(RateLimited):
        TripadvisorProvider(other).fetch_reviews(None)
    assert quotas.paused_until(quotas.TRIPADVISOR) is not None


def test_fetch_reviews_stored_without_their_text(account, api):
    from social import services

    add(api, "reviews_fr", language="fr")
    add(api, "reviews_en", language="en")

    outcome = services.reviews_fetch(account=account, full=True)

    assert outcome.new == 3
    stored = account.reviews.get(external_id="1002233445")
    assert (stored.text, stored.author, stored.rating) == ("", "", 5)
    assert stored.text_digest != ""


def test_fetch_reviews_refused_key_needs_reconnect(account, api):
    add(api, "error_401")

    with pytest.raises(NeedsReconnect) as raised:
        TripadvisorProvider(account).fetch_reviews(None)

    assert str(raised.value) == "TripAdvisor refused the API key (401)"


def test_fetch_reviews_rate_limit_waits_for_retry_after(account, api, now):
    add(api, "error_429")

    with pytest.raises(RateLimited) as raised:
        TripadvisorProvider(account).fetch_reviews(None)

    assert raised.value.until == NOW + dt.timedelta(seconds=30)


def test_fetch_reviews_server_error_retries_later(account, api):
    add(api, "error_500")

    with pytest.raises(RetryLater) as raised:
        TripadvisorProvider(account).fetch_reviews(None)

    assert str(raised.value) == "TripAdvisor error 500"


def test_fetch_reviews_timeout_retries_later(account, api):
    api.add("GET", REVIEWS, body=requests.exceptions.ReadTimeout("timed out"))

    with pytest.raises(RetryLater) as raised:
        TripadvisorProvider(account).fetch_reviews(None)

    assert str(raised.value) == "network error: ReadTimeout"


def test_fetch_reviews_bad_request_is_permanent(account, api):
    add(api, "error_400")

    with pytest.raises(Permanent) as raised:
        TripadvisorProvider(account).fetch_reviews(None)

    assert str(raised.value) == "TripAdvisor refused the request (400: Invalid location id)"


def test_fetch_reviews_goes_to_the_configured_url(account, api, settings):
    settings.TRIPADVISOR_API_URL = "http://127.0.0.1:8767/api/v1"
    for language in ("fr", "en"):
        api.add(
            "GET",
            f"http://127.0.0.1:8767/api/v1/location/{LOCATION}/reviews",
            json={"data": []},
            match=[matchers.query_param_matcher({"language": language}, strict_match=False)],
        )

    assert TripadvisorProvider(account).fetch_reviews(None) == []


# --- What TripAdvisor cannot do -------------------------------------------------------------------


def test_no_metrics_reply_or_publishing(account):
    provider = TripadvisorProvider(account)

    assert provider.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2)).values == []
    assert (provider.can_reply, provider.can_publish) == (False, False)
    with translation.override("en"):
        assert "no reply endpoint" in str(provider.reviews_note)
    with pytest.raises(Permanent):
        provider.reply("1002233445", "Merci")
    with pytest.raises(Permanent):
        provider.publish(PostContent(text="x"), state={}, checkpoint=lambda state: None)
