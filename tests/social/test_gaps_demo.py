"""Demo data is labelled wherever it shows (the restaurant's social page and accounts, the review
queue and a review, the health page), and the demo provider's data is plausible and
deterministic: the same figures on every fetch, followers growing, reviews in French and English
rated 1 to 5."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from social.metrics import desk_metrics_of
from social.models import Review
from social.providers import demo
from social.providers.demo import REVIEWS, DemoProvider
from tests.factories import RestaurantFactory
from tests.social.conftest import make_account

LABEL = 'data-testid="demo-badge">données de démonstration</span>'


@pytest.fixture
def real(bistro):
    """A real (connected) account beside the demo ones."""
    return make_account(
        bistro, "google", demo=False, credentials='{"token": "t"}', external_id="real-google"
    )


def _review(account, name: str) -> Review:
    now = timezone.now()
    return Review.objects.create(
        account=account, restaurant=account.restaurant, network=account.network,
        external_id=name, author=name, rating=4, written_at=now, updated_at=now,
    )  # fmt: skip


def _row(html: str, attribute: str, pk: int) -> str:
    return html.split(f'<tr {attribute}="{pk}"', 1)[1].split("</tr>", 1)[0]


def test_the_restaurants_social_page_labels_its_demo_accounts(
    client, community_manager, bistro, facebook, google, real
):
    only_real = RestaurantFactory(name="Vrai", client=True, community_manager=community_manager)
    make_account(only_real, "facebook", demo=False, credentials='{"access_token": "t"}')
    client.force_login(community_manager)

    html = client.get(reverse("social:restaurant_social", args=[bistro.pk])).content.decode()
    other = client.get(reverse("social:restaurant_social", args=[only_real.pk])).content.decode()

    heading = html.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert 'data-testid="demo-label">données de démonstration</span>' in heading
    assert html.count('<p class="alert alert-info small" role="note">') == 1
    assert "« données de démonstration » affichent des chiffres générés" in html
    table = html.split('data-testid="social-accounts"', 1)[1].split("</table>", 1)[0]
    assert table.count(LABEL) == 2
    assert LABEL in _row(table, "data-account", facebook.pk)
    assert LABEL in _row(table, "data-account", google.pk)
    assert LABEL not in _row(table, "data-account", real.pk)
    assert 'data-testid="demo-label"' not in other and LABEL not in other
    assert 'role="note"' not in other


def test_the_restaurant_pages_account_table_labels_demo_accounts(
    client, community_manager, bistro, facebook, real
):
    client.force_login(community_manager)

    html = client.get(reverse("social:restaurant_section", args=[bistro.pk])).content.decode()

    assert html.count(LABEL) == 1
    assert LABEL in _row(html, "data-account", facebook.pk)
    assert LABEL not in _row(html, "data-account", real.pk)


def test_the_review_queue_and_a_review_label_demo_data(client, review_manager, google, real):
    generated = _review(google, "generated")
    actual = _review(real, "actual")
    client.force_login(review_manager)

    queue = client.get(reverse("social:review_queue")).content.decode()
    shown = client.get(reverse("social:review_detail", args=[generated.pk])).content.decode()
    plain = client.get(reverse("social:review_detail", args=[actual.pk])).content.decode()

    assert queue.count(LABEL) == 1
    assert LABEL in _row(queue, "data-review", generated.pk)
    assert LABEL not in _row(queue, "data-review", actual.pk)
    assert LABEL in shown.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert LABEL not in plain


def test_the_health_page_labels_demo_accounts(client, community_manager, facebook, real):
    client.force_login(community_manager)

    html = client.get(reverse("social:health")).content.decode()

    assert html.count(LABEL) == 1
    assert LABEL in _row(html, "data-account", facebook.pk)
    assert LABEL not in _row(html, "data-account", real.pk)


# --- The demo provider ---------------------------------------------------------------------------

TODAY = dt.date(2026, 3, 31)


class _Clock:
    """A fixed today for the provider, so what it generates is the same on any day the tests
    run."""

    @staticmethod
    def localdate() -> dt.date:
        return TODAY

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.combine(TODAY, dt.time(22), tzinfo=dt.UTC)


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(demo, "timezone", _Clock)


def _account(network: str, number: int = 1):
    return SimpleNamespace(external_id=f"{network}-{number}", network=network)


@pytest.mark.parametrize("network", ["facebook", "instagram", "google"])
def test_the_demo_figures_are_the_same_on_every_fetch(network):
    since, until = dt.date(2026, 1, 1), dt.date(2026, 1, 31)

    first = DemoProvider(_account(network)).fetch_metrics(since, until)
    second = DemoProvider(_account(network)).fetch_metrics(since, until)
    other = DemoProvider(_account(network, 2)).fetch_metrics(since, until)

    assert first.values == second.values and first.refused == second.refused == {}
    # Every metric of the network, every day; another account has figures of its own.
    assert len(first.values) == 31 * len(desk_metrics_of(network))
    assert {value.metric for value in first.values} == set(desk_metrics_of(network))
    assert first.values != other.values
    assert all(value.value >= 0 for value in first.values)


def test_demo_followers_grow_every_day_and_every_month():
    for number in range(20):
        provider = DemoProvider(_account("instagram", number))
        days = [dt.date(2025, 1, 1) + dt.timedelta(days=offset) for offset in range(365)]
        followers = [provider._followers(day) for day in days]

        assert followers == sorted(followers)
        for month in range(1, 13):
            start = dt.date(2025, month, 1)
            end = (start + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
            assert provider._followers(end) > provider._followers(start)


def test_the_demo_followers_fetched_grow_over_a_month():
    result = DemoProvider(_account("facebook")).fetch_metrics(
        dt.date(2026, 2, 1), dt.date(2026, 2, 28)
    )

    followers = [value.value for value in result.values if value.metric == "followers"]
    assert len(followers) == 28
    assert followers == sorted(followers) and followers[-1] > followers[0]


def test_demo_reviews_are_the_same_on_every_fetch(fixed_today):
    since = dt.datetime(2026, 2, 15, tzinfo=dt.UTC)

    first = DemoProvider(_account("google")).fetch_reviews(None)
    second = DemoProvider(_account("google")).fetch_reviews(None)
    recent = DemoProvider(_account("google")).fetch_reviews(since)

    assert first == second and first
    # An incremental fetch gives the same reviews as the full one, from `since` on.
    assert recent == [review for review in first if review.written_at > since]
    assert len({review.external_id for review in first}) == len(first)


def test_demo_reviews_in_french_and_english_rated_one_to_five(fixed_today):
    reviews = [
        review
        for number, network in enumerate(["google", "facebook", "tripadvisor"])
        for review in DemoProvider(_account(network, number)).fetch_reviews(None)
    ]

    assert {review.language for review in reviews} == {"fr", "en"}
    assert {review.rating for review in reviews} == {1, 2, 3, 4, 5}
    for review in reviews:
        # The text is one of its language's, with the rating it goes with.
        assert (review.rating, review.text) in REVIEWS[review.language]
        assert review.author and review.written_at <= _Clock.now()
        assert re.fullmatch(r"demo-.+-\d{8}", review.external_id)


def test_an_instagram_demo_account_gives_no_reviews(fixed_today):
    assert DemoProvider(_account("instagram")).fetch_reviews(None) == []
