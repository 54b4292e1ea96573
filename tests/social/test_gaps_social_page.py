"""The restaurant's social page: the ROI follows the coefficients the admin sets (docs/roi.md),
and the evolution compares the month with the same month a year earlier as well as with the
month before."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sales.models import add_months
from social.models import MetricSnapshot, SocialSettings


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
