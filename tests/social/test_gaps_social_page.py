"""The restaurant's social page: the ROI follows the coefficients the admin sets (docs/roi.md),
and the evolution compares the month with the same month a year earlier as well as with the
month before, posts published included."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from sales.models import add_months
from social.models import MetricSnapshot, Post, Publication, SocialSettings
from tests.social.conftest import make_account


@pytest.fixture
def last_month():
    return add_months(timezone.localdate().replace(day=1), -1)


def _snapshots(account, day, **values) -> None:
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(account=account, metric=metric, day=day, value=value)
        for metric, value in values.items()
    )


def _page(client, restaurant, month):
    response = client.get(
        reverse("social:restaurant_social", args=[restaurant.pk]),
        {"month": month.strftime("%Y-%m")},
    )
    assert response.status_code == 200
    return response


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def _row(html: str, metric: str) -> list[str]:
    """The text of each cell of the evolution's row for `metric`."""
    row = html.split(f'<tr data-metric="{metric}">', 1)[1].split("</tr>", 1)[0]
    return [_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]


def _roi(html: str, name: str) -> str:
    """The text of the ROI's cell marked data-roi=name."""
    return _text(html.split(f'data-roi="{name}">', 1)[1].split("</td>", 1)[0])


def _admin_data(config: SocialSettings, **changes) -> dict:
    data = {
        field.name: getattr(config, field.name)
        for field in SocialSettings._meta.concrete_fields
        if field.editable and not field.primary_key
    }
    data |= changes
    return {
        name: value.strftime("%H:%M:%S") if isinstance(value, dt.time) else str(value)
        for name, value in data.items()
    }


def test_roi_follows_the_coefficients_the_admin_sets(
    client, admin_user, community_manager, bistro, google, last_month
):
    _snapshots(google, last_month, bookings=20, food_orders=4, calls=10, directions=5)
    client.force_login(community_manager)
    # The defaults: 20 x 2.5 + 4 x 1.5 + (10 x 0.3 + 5 x 0.2) x 2 = 64 guests at 25 EUR.
    before = _page(client, bistro, last_month).context["roi"]
    client.force_login(admin_user)
    config = SocialSettings.load()
    saved = client.post(
        reverse("admin:social_socialsettings_change", args=[config.pk]),
        _admin_data(
            config,
            guests_per_booking="3",
            guests_per_food_order="2",
            call_conversion="0.5",
            direction_conversion="0.4",
            guests_per_visit="1",
            default_average_ticket="30",
        ),
    )
    client.force_login(community_manager)

    after = _page(client, bistro, last_month)

    assert (str(before.guests), str(before.value), str(before.ratio)) == ("64.0", "1600.00", "8.00")
    assert saved.status_code == 302
    roi = after.context["roi"]
    # 20 x 3 + 4 x 2 + (10 x 0.5 + 5 x 0.4) x 1 = 75 guests, at 30 EUR, against 200 EUR.
    assert (str(roi.guests), str(roi.value), str(roi.ratio)) == ("75.0", "2250.00", "11.25")
    assert roi.ticket_is_default
    html = after.content.decode()
    assert _roi(html, "guests") == "75,0"
    assert _roi(html, "value") == "2250,00 €"
    assert _roi(html, "ratio") == "11,25"
    assert _roi(html, "bookings") == "20 \u00d7 3 couverts"


def test_roi_uses_the_restaurants_own_ticket_over_the_default(
    client, community_manager, bistro, google, last_month
):
    _snapshots(google, last_month, bookings=10)
    config = SocialSettings.load()
    config.default_average_ticket = Decimal("99")
    config.save()
    client.force_login(community_manager)
    client.post(reverse("social:profile_update", args=[bistro.pk]), {"average_ticket": "40"})

    roi = _page(client, bistro, last_month).context["roi"]

    # 10 bookings x 2.5 guests = 25 guests at the restaurant's 40 EUR, not the default 99.
    assert (str(roi.value), roi.ticket_is_default) == ("1000.00", False)


def test_evolution_compares_with_the_month_before_and_a_year_earlier(
    client, community_manager, bistro, google, last_month
):
    _snapshots(google, last_month, bookings=20, calls=10)
    _snapshots(google, add_months(last_month, -1), bookings=10, calls=8)
    _snapshots(google, add_months(last_month, -12), bookings=16, calls=20)
    # Outside the three months compared: counted nowhere.
    _snapshots(google, add_months(last_month, -6), bookings=1000, calls=1000)
    client.force_login(community_manager)

    response = _page(client, bistro, last_month)

    rows = {row.metric: row for row in response.context["evolution"]}
    bookings, calls = rows["bookings"], rows["calls"]
    assert (bookings.value, bookings.previous, bookings.last_year) == (20, 10, 16)
    assert (bookings.month_over_month, bookings.year_over_year) == (100.0, 25.0)
    assert (calls.value, calls.previous, calls.last_year) == (10, 8, 20)
    assert (calls.month_over_month, calls.year_over_year) == (25.0, -50.0)
    html = response.content.decode()
    # Indicator, this month, previous month, change, a year earlier, change.
    assert _row(html, "bookings")[1:] == ["20", "10", "+100,0 %", "16", "+25,0 %"]
    assert _row(html, "calls")[1:] == ["10", "8", "+25,0 %", "20", "-50,0 %"]


def test_without_figures_a_year_earlier_the_change_is_a_dash(
    client, community_manager, bistro, google, last_month
):
    _snapshots(google, last_month, bookings=20)
    _snapshots(google, add_months(last_month, -1), bookings=10)
    client.force_login(community_manager)

    response = _page(client, bistro, last_month)

    bookings = next(row for row in response.context["evolution"] if row.metric == "bookings")
    assert (bookings.last_year, bookings.year_over_year) == (None, None)
    assert _row(response.content.decode(), "bookings")[1:] == [
        "20", "10", "+100,0 %", "—", "—",
    ]  # fmt: skip


def _published(restaurant, account, at: dt.datetime, *, state="published") -> Publication:
    post = Post.objects.create(
        restaurant=restaurant, text=f"post {Post.objects.count()}", status="done", scheduled_at=at,
        time_zone=restaurant.time_zone, created_by=User.objects.first(),
    )  # fmt: skip
    return Publication.objects.create(
        post=post, account=account, state=state, due_at=at,
        published_at=at if state == "published" else None,
    )  # fmt: skip


def _at(day: dt.date, hour: int, minute: int, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(zone))


def test_evolution_counts_the_posts_published_each_month(
    client, community_manager, bistro, facebook, google, other_restaurant, last_month
):
    paris = bistro.time_zone
    year_before = add_months(last_month, -12)
    # The month compared: two, one of them just after midnight on its first day in Paris (still
    # the month before in UTC).
    _published(bistro, facebook, _at(last_month, 0, 30, paris))
    _published(bistro, google, _at(last_month + dt.timedelta(days=9), 18, 0, paris))
    # Not counted: a failed one, and another restaurant's.
    _published(
        bistro, facebook, _at(last_month + dt.timedelta(days=3), 12, 0, paris), state="failed"
    )
    _published(other_restaurant, make_account(other_restaurant), _at(last_month, 12, 0, paris))
    # The month before: one, on its last evening.
    _published(bistro, facebook, _at(last_month - dt.timedelta(days=1), 23, 30, paris))
    # A year earlier: three.
    for day in (1, 5, 20):
        _published(bistro, facebook, _at(year_before + dt.timedelta(days=day), 9, 0, paris))
    # Outside the three months compared: counted nowhere.
    _published(bistro, facebook, _at(add_months(last_month, -6), 9, 0, paris))
    client.force_login(community_manager)

    response = _page(client, bistro, last_month)

    posts = next(row for row in response.context["evolution"] if row.metric == "posts_published")
    assert (posts.label, posts.value, posts.previous, posts.last_year) == (
        "Publications diffusées", 2, 1, 3,
    )  # fmt: skip
    # 2 against 1: +100 %; 2 against 3: -33.3 %.
    assert (posts.month_over_month, posts.year_over_year) == (100.0, -33.3)
    assert _row(response.content.decode(), "posts_published") == [
        "Publications diffusées", "2", "1", "+100,0 %", "3", "-33,3 %",
    ]  # fmt: skip


def test_posts_published_count_by_the_restaurants_months(
    client, community_manager, bistro, facebook, last_month
):
    bistro.time_zone = "America/Martinique"
    bistro.save(update_fields=["time_zone"])
    # 22:00 on the month before's last day in Martinique is the month compared in Paris and UTC.
    _published(bistro, facebook, _at(last_month - dt.timedelta(days=1), 22, 0, bistro.time_zone))
    _published(bistro, facebook, _at(last_month + dt.timedelta(days=2), 10, 0, bistro.time_zone))
    client.force_login(community_manager)

    response = _page(client, bistro, last_month)

    posts = next(row for row in response.context["evolution"] if row.metric == "posts_published")
    assert (posts.value, posts.previous, posts.last_year) == (1, 1, 0)
    assert (posts.month_over_month, posts.year_over_year) == (0.0, None)
    assert _row(response.content.decode(), "posts_published")[1:] == ["1", "1", "0 %", "0", "—"]
