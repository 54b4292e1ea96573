"""The indicators of a monthly report, computed from the stored snapshots, reviews and
publications, and frozen into the report (plain JSON) when it is generated.

Each figure comes with the month before and the same month a year earlier. The shape:
{
  "month": "2026-10-01",
  "metrics": [{"key", "label", "value", "previous", "last_year", "mom", "yoy"}, ...],
  "reviews": {"count", "rating", "answered", "within_target", "share_within_target",
              "median_hours", "previous": {...}, "last_year": {...}},
  "posts": {"value", "previous", "last_year"},
  "roi": {inputs..., "guests", "value", "ratio",
          "previous": {the same for the month before}, "last_year": {a year earlier}},
  "history": {"labels": [13 months], "series": {metric: [values]}},
  "status": {"level": "good|fair|attention|unknown", "points": [sentences]},
  "gaps": [{"network", "account", "named", "error", "error_at", "last_fetch_at",
            "connected_at"}, ...],
  "demo": bool,
}
Labels are stored in the report's language at generation. The gaps (accounts of a network that
gives statistics without a single snapshot stored for the month) are stored as plain data and
worded when shown (reports.document.gap_lines), in the reader's language on the editor and in
the client's in the PDF.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import Restaurant
from sales.models import add_months, first_of_month
from social import selectors as social
from social.metrics import METRICS, desk_metrics_of
from social.models import MetricSnapshot, SocialAccount

# The metrics a client report shows, in this order (those without data are left out).
REPORT_METRICS = [
    "followers",
    "new_followers",
    "reach",
    "views",
    "interactions",
    "bookings",
    "food_orders",
    "menu_clicks",
    "calls",
    "website_clicks",
    "directions",
]
HISTORY_METRICS = ["followers", "reach", "interactions"]


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _change(value, reference):
    if value is None or not reference:
        return None
    return round(100 * (value - reference) / reference, 1)


def _review_month(restaurant: Restaurant, month: dt.date) -> dict:
    stats = social.response_stats(
        restaurant=restaurant, since=month, until=add_months(month, 1) - dt.timedelta(days=1)
    )
    answered = sum(entry.answered for (_network, start), entry in stats.items() if start == month)
    within = sum(
        entry.within_target for (_network, start), entry in stats.items() if start == month
    )
    durations = sorted(
        hours
        for (_network, start), entry in stats.items()
        if start == month
        for hours in entry.durations
    )
    median = None
    if durations:
        middle = len(durations) // 2
        median = (
            durations[middle]
            if len(durations) % 2
            else (durations[middle - 1] + durations[middle]) / 2
        )
    return {
        "answered": answered,
        "within_target": within,
        "share_within_target": round(100 * within / answered, 1) if answered else None,
        "median_hours": round(median, 1) if median is not None else None,
    }


def compute(*, restaurant: Restaurant, month: dt.date, language: str) -> dict:
    month = first_of_month(month)
    with translation.override(language):
        evolution = {
            row.metric: row
            for row in social.restaurant_evolution(restaurant=restaurant, month=month)
        }
        metrics = []
        for key in REPORT_METRICS:
            row = evolution.get(key)
            if row is None or row.value is None:
                continue
            metrics.append(
                {
                    "key": key,
                    "label": str(METRICS[key].label),
                    "value": row.value,
                    "previous": row.previous,
                    "last_year": row.last_year,
                    "mom": row.month_over_month,
                    "yoy": row.year_over_year,
                }
            )
        count = evolution.get("reviews_count")
        rating = evolution.get("reviews_rating")
        reviews = {
            "count": count.value if count else None,
            "rating": rating.value if rating else None,
            **_review_month(restaurant, month),
            "previous": {
                "count": count.previous if count else None,
                "rating": rating.previous if rating else None,
                **_review_month(restaurant, add_months(month, -1)),
            },
            "last_year": {
                "count": count.last_year if count else None,
                "rating": rating.last_year if rating else None,
                **_review_month(restaurant, add_months(month, -12)),
            },
        }
        published = social.posts_published_by_month(
            restaurant=restaurant,
            start=add_months(month, -12),
            end=add_months(month, 1) - dt.timedelta(days=1),
        )
        posts = {
            "value": published.get(month, 0),
            "previous": published.get(add_months(month, -1), 0),
            "last_year": published.get(add_months(month, -12), 0),
        }
        history = _history(restaurant, month)
        result = {
            "month": month.isoformat(),
            "metrics": metrics,
            "reviews": reviews,
            "posts": posts,
            "roi": {
                **_roi(restaurant, month),
                "previous": _roi(restaurant, add_months(month, -1)),
                "last_year": _roi(restaurant, add_months(month, -12)),
            },
            "history": history,
            "gaps": data_gaps(restaurant=restaurant, month=month),
            "demo": SocialAccount.objects.filter(restaurant=restaurant, demo=True).exists(),
        }
        result["status"] = online_status(result)
    return result


def has_data(figures: dict) -> bool:
    """Whether the month holds anything to report: a statistic, a review received or answered,
    a post published. Without any, generating fails (ReportError.NO_DATA); with some, the
    accounts without data are said on the editor and in the PDF, and the report is made."""
    reviews = figures["reviews"]
    return bool(
        figures["metrics"] or reviews["count"] or reviews["answered"] or figures["posts"]["value"]
    )


def _day(value: dt.datetime | None) -> str | None:
    return timezone.localdate(value).isoformat() if value else None


def data_gaps(*, restaurant: Restaurant, month: dt.date) -> list[dict]:
    """The restaurant's accounts, on a network that gives statistics (TripAdvisor gives only
    reviews), without a single snapshot stored for a day of `month`, with what the account
    says of its fetches: an error standing (its code and when it happened), its last fetch,
    when it was connected. Nothing for a month none of whose days can be fetched yet (the
    platforms give a day once it is over). Two queries."""
    month = first_of_month(month)
    last = min(
        add_months(month, 1) - dt.timedelta(days=1), timezone.localdate() - dt.timedelta(days=1)
    )
    if last < month:
        return []
    accounts = [
        account
        for account in SocialAccount.objects.filter(restaurant=restaurant).order_by(
            "network", "name", "pk"
        )
        if desk_metrics_of(account.network)
    ]
    if not accounts:
        return []
    stored = set(
        MetricSnapshot.objects.filter(account__in=accounts, day__gte=month, day__lte=last)
        .values_list("account", flat=True)
        .distinct()
    )
    per_network: dict[str, int] = {}
    for account in accounts:
        per_network[account.network] = per_network.get(account.network, 0) + 1
    return [
        {
            "network": account.network,
            "account": account.name,
            "named": per_network[account.network] > 1,
            "error": account.last_error_code,
            "error_at": _day(account.last_error_at) if account.last_error_code else None,
            "last_fetch_at": _day(account.last_fetch_at),
            "connected_at": _day(account.created_at),
        }
        for account in accounts
        if account.pk not in stored
    ]


def _roi(restaurant: Restaurant, month: dt.date) -> dict:
    """The month's ROI with its inputs (docs/roi.md), as plain numbers."""
    roi = social.restaurant_roi(restaurant=restaurant, month=month)
    return {
        "average_ticket": _number(roi.average_ticket),
        "ticket_is_default": roi.ticket_is_default,
        "bookings": roi.bookings,
        "food_orders": roi.food_orders,
        "calls": roi.calls,
        "directions": roi.directions,
        "guests_per_booking": _number(roi.guests_per_booking),
        "guests_per_food_order": _number(roi.guests_per_food_order),
        "call_conversion": _number(roi.call_conversion),
        "direction_conversion": _number(roi.direction_conversion),
        "guests_per_visit": _number(roi.guests_per_visit),
        "monthly_price": _number(roi.monthly_price),
        "guests": _number(roi.guests),
        "value": _number(roi.value),
        "ratio": _number(roi.ratio),
    }


def _history(restaurant: Restaurant, month: dt.date) -> dict:
    """13 months (the same month last year to this one) of the history metrics."""
    first = add_months(month, -12)
    series = social.restaurant_monthly_series(restaurant=restaurant, first=first, last=month)
    labels = [add_months(first, offset) for offset in range(13)]
    kept = [key for key in HISTORY_METRICS if key in series]
    return {
        "labels": [label.isoformat() for label in labels],
        "series": {key: [series[key].get(label) for label in labels] for key in kept},
        "names": {key: str(METRICS[key].label) for key in kept},
    }


def online_status(indicators: dict) -> dict:
    """A plain verdict on the restaurant's online image for the cover: a level and the sentences
    that explain it (in the active language)."""
    points: list[str] = []
    score = 0
    weight = 0
    rating = indicators["reviews"]["rating"]
    if rating is not None:
        weight += 1
        if rating >= 4.3:
            score += 1
            points.append(_("Reviews are very good (%(rating)s / 5).") % {"rating": rating})
        elif rating >= 3.8:
            score += 0.5
            points.append(_("Reviews are good (%(rating)s / 5).") % {"rating": rating})
        else:
            points.append(_("Reviews need attention (%(rating)s / 5).") % {"rating": rating})
    followers = next((m for m in indicators["metrics"] if m["key"] == "followers"), None)
    if followers and followers["mom"] is not None:
        weight += 1
        if followers["mom"] >= 0:
            score += 1
            points.append(
                _("The audience grows (%(change)+.1f %% followers over the month).")
                % {"change": followers["mom"]}
            )
        else:
            points.append(
                _("The audience shrinks (%(change)+.1f %% followers over the month).")
                % {"change": followers["mom"]}
            )
    share = indicators["reviews"]["share_within_target"]
    if share is not None:
        weight += 1
        if share >= 80:
            score += 1
        elif share >= 50:
            score += 0.5
        points.append(
            _("%(share)s %% of reviews were answered within the target time.") % {"share": share}
        )
    if not weight:
        return {"level": "unknown", "points": [_("Not enough data this month for a verdict.")]}
    ratio = score / weight
    level = "good" if ratio >= 0.75 else "fair" if ratio >= 0.4 else "attention"
    return {"level": level, "points": points}
