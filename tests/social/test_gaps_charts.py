"""What the social page's charts hold: followers are a level (a month shows its last day), the
other metrics add up; short periods per day, long ones per month; reviews counted and rated per
month; the posts published; a custom period, and a refused one said in the reader's language."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from accounts.models import User
from sales.models import add_months, first_of_month
from social.metrics import METRICS
from social.models import MetricSnapshot, Post, Publication, Review
from social.selectors import Period, restaurant_charts
from tests.social.conftest import make_account

D = dt.date


def _snap(account, day: dt.date, **values) -> None:
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(account=account, metric=metric, day=day, value=value)
        for metric, value in values.items()
    )


def _dataset(charts: dict, key: str, metric: str) -> list:
    """The values of `metric` in the chart `key` (datasets are labelled in the reader's language)."""
    chart = next(chart for chart in charts["charts"] if chart["key"] == key)
    label = str(METRICS[metric].label)
    return next(dataset["data"] for dataset in chart["datasets"] if dataset["label"] == label)


def _review(account, written: dt.datetime, rating: int | None) -> Review:
    return Review.objects.create(
        account=account, restaurant=account.restaurant, network=account.network,
        external_id=f"r{Review.objects.count()}", rating=rating, written_at=written,
        updated_at=written,
    )  # fmt: skip


def _noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def two_accounts(bistro, facebook, instagram):
    """Six months of figures on two accounts, and some outside them."""
    # Followers: January ends at 120 + 55 = 175 (the 31st); February at 140 + 60 = 200 (the
    # 14th, its last day with figures); the days before do not count.
    _snap(facebook, D(2025, 1, 5), followers=100, reach=10)
    _snap(instagram, D(2025, 1, 10), followers=50, reach=5)
    _snap(facebook, D(2025, 1, 31), followers=120, reach=20, interactions=3)
    _snap(instagram, D(2025, 1, 31), followers=55, interactions=4)
    _snap(facebook, D(2025, 2, 1), followers=130, reach=7)
    _snap(facebook, D(2025, 2, 14), followers=140)
    _snap(instagram, D(2025, 2, 14), followers=60)
    # Outside the period.
    _snap(facebook, D(2024, 12, 31), followers=999, reach=999)
    _snap(facebook, D(2025, 7, 1), followers=999, reach=999)
    return facebook, instagram


def test_a_month_shows_the_followers_of_its_last_day_and_the_sum_of_the_rest(bistro, two_accounts):
    charts = restaurant_charts(restaurant=bistro, period=Period(D(2025, 1, 1), D(2025, 6, 30)))

    assert charts["monthly"] is True
    assert charts["labels"] == [
        "2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01",
    ]  # fmt: skip
    assert _dataset(charts, "audience", "followers") == [175, 200, None, None, None, None]
    # Reach: 10 + 5 + 20 in January, 7 in February.
    assert _dataset(charts, "reach", "reach") == [35, 7, None, None, None, None]
    assert _dataset(charts, "interactions", "interactions") == [7, None, None, None, None, None]
    # Metrics without a figure have no dataset; a chart without any says so.
    reach = next(chart for chart in charts["charts"] if chart["key"] == "reach")
    actions = next(chart for chart in charts["charts"] if chart["key"] == "actions")
    assert [dataset["label"] for dataset in reach["datasets"]] == ["Couverture"]
    assert actions["datasets"] == []


def test_an_account_without_figures_on_the_months_last_day_counts_its_own_last_day(
    bistro, facebook, instagram
):
    # Instagram's fetch failed on the 31st: its 30th still counts, not zero.
    _snap(facebook, D(2025, 1, 30), followers=118)
    _snap(instagram, D(2025, 1, 30), followers=54)
    _snap(facebook, D(2025, 1, 31), followers=120)

    charts = restaurant_charts(restaurant=bistro, period=Period(D(2025, 1, 1), D(2025, 6, 30)))

    assert _dataset(charts, "audience", "followers")[0] == 120 + 54


def test_a_short_period_is_charted_day_by_day(bistro, two_accounts):
    charts = restaurant_charts(restaurant=bistro, period=Period(D(2025, 1, 30), D(2025, 2, 14)))

    assert charts["monthly"] is False
    assert len(charts["labels"]) == 16
    assert (charts["labels"][0], charts["labels"][-1]) == ("2025-01-30", "2025-02-14")
    followers = _dataset(charts, "audience", "followers")
    reach = _dataset(charts, "reach", "reach")
    # 30 and 31 January, 1 February, ..., 14 February.
    assert followers == [None, 175, 130, *[None] * 12, 200]
    assert reach == [None, 20, 7, *[None] * 13]
    # Reviews stay per month whatever the period.
    assert charts["reviews"]["labels"] == ["2025-01-01", "2025-02-01"]


def test_reviews_are_counted_and_rated_per_month(bistro, google, other_restaurant):
    _review(google, _noon(D(2025, 1, 3)), 5)
    _review(google, _noon(D(2025, 1, 17)), 4)
    _review(google, _noon(D(2025, 1, 31)), 2)
    _review(google, _noon(D(2025, 2, 8)), 5)
    # A review without a rating (a Facebook recommendation of old) counts, unrated.
    _review(google, _noon(D(2025, 4, 2)), None)
    _review(make_account(other_restaurant, "google"), _noon(D(2025, 1, 9)), 1)
    _review(google, _noon(D(2024, 12, 31)), 1)

    charts = restaurant_charts(restaurant=bistro, period=Period(D(2025, 1, 1), D(2025, 4, 30)))

    assert charts["reviews"] == {
        "labels": ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"],
        # January: (5 + 4 + 2) / 3 = 3.67.
        "count": [3, 1, 0, 1],
        "rating": [3.67, 5.0, None, None],
    }


def _page(client, **params):
    response = client.get(
        reverse("social:restaurant_social", args=[params.pop("restaurant").pk]), params
    )
    assert response.status_code == 200
    return response


def _published(restaurant, account, at: dt.datetime) -> None:
    post = Post.objects.create(
        restaurant=restaurant, text=f"p{Post.objects.count()}", status="done", scheduled_at=at,
        time_zone=restaurant.time_zone, created_by=User.objects.first(),
    )  # fmt: skip
    Publication.objects.create(
        post=post, account=account, state="published", due_at=at, published_at=at
    )


def test_the_posts_series_counts_publications_per_month(
    client, community_manager, bistro, facebook, instagram
):
    _published(bistro, facebook, _noon(D(2025, 2, 3)))
    _published(bistro, instagram, _noon(D(2025, 2, 3)))
    _published(bistro, facebook, _noon(D(2025, 4, 30)))
    _published(bistro, facebook, _noon(D(2025, 7, 1)))
    client.force_login(community_manager)

    response = _page(
        client, restaurant=bistro, period="custom", **{"from": "2025-01", "to": "2025-06"}
    )

    charts = response.context["charts"]
    assert charts["reviews"]["labels"] == [
        "2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01",
    ]  # fmt: skip
    assert charts["posts"] == [0, 2, 0, 1, 0, 0]


def test_a_custom_period_runs_from_the_first_to_the_last_month_chosen(
    client, community_manager, bistro, two_accounts
):
    client.force_login(community_manager)

    long = _page(client, restaurant=bistro, period="custom", **{"from": "2025-01", "to": "2025-06"})
    short = _page(
        client, restaurant=bistro, period="custom", **{"from": "2025-01", "to": "2025-02"}
    )

    assert (long.context["period_key"], long.context["period"]) == (
        "custom", Period(D(2025, 1, 1), D(2025, 6, 30)),
    )  # fmt: skip
    assert long.context["charts"]["monthly"] is True
    assert _dataset(long.context["charts"], "audience", "followers") == [175, 200, *[None] * 4]
    # 59 days: per day.
    assert short.context["period"] == Period(D(2025, 1, 1), D(2025, 2, 28))
    assert short.context["charts"]["monthly"] is False
    assert len(short.context["charts"]["labels"]) == 59
    assert long.context["period_error"] == short.context["period_error"] == ""
    assert b'data-testid="period-error"' not in long.content


@pytest.mark.parametrize(
    ("key", "days", "monthly"),
    [("30d", 30, False), ("90d", 90, False), ("12m", 365, True), ("24m", 730, True)],
)
def test_the_preset_periods_end_yesterday(client, community_manager, bistro, key, days, monthly):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    start = yesterday - dt.timedelta(days=days - 1)
    client.force_login(community_manager)

    charts = _page(client, restaurant=bistro, period=key).context["charts"]

    assert charts["monthly"] is monthly
    if monthly:
        months, month = [], first_of_month(start)
        while month <= yesterday:
            months.append(month.isoformat())
            month = add_months(month, 1)
        assert charts["labels"] == months
    else:
        assert charts["labels"] == [
            (start + dt.timedelta(days=offset)).isoformat() for offset in range(days)
        ]


@pytest.mark.parametrize(
    ("params", "english"),
    [
        ({"from": "2025-06", "to": "2025-01"}, "The period starts after it ends."),
        ({"from": "juin", "to": "2025-01"}, "Choose the first and the last month of the period."),
        ({"to": "2025-01"}, "Choose the first and the last month of the period."),
        (
            {"from": "2999-01", "to": "2999-02"},
            "The figures stop yesterday: choose a period that starts before today.",
        ),
    ],
)
def test_a_refused_custom_period_says_why_in_the_readers_language(
    client, community_manager, bistro, params, english
):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    client.force_login(community_manager)

    for language in ("en", "fr"):
        community_manager.language = language
        community_manager.save(update_fields=["language"])
        response = _page(client, restaurant=bistro, period="custom", **params)

        with translation.override(language):
            expected = gettext(english)
            shown = gettext("The last 90 days are shown.")
        if language == "en":
            assert (expected, shown) == (english, "The last 90 days are shown.")
        assert response.context["period_error"] == expected
        assert (response.context["period_key"], response.context["period"]) == (
            "90d", Period(yesterday - dt.timedelta(days=89), yesterday),
        )  # fmt: skip
        html = response.content.decode()
        assert f'<html lang="{language}"' in html
        alert = html.split('data-testid="period-error">', 1)[1].split("</div>", 1)[0]
        assert alert == escape(f"{expected} {shown}")
