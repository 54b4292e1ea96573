"""What the monthly report's document shows, from its frozen indicators: the same context serves
the PDF and the preview in the browser."""

import datetime as dt

from django.utils import formats
from django.utils.translation import gettext as _

from comadvisor.models import SiteSettings
from reports import charts
from reports.models import MonthlyReport
from sales.enums import Network
from sales.models import add_months
from social.enums import ErrorCode

LEVELS = {
    "good": ("good", "#3a9d5d"),
    "fair": ("fair", "#f0a202"),
    "attention": ("attention", "#c2412d"),
    "unknown": ("unknown", "#5c6b73"),
}


def _level_label(level: str) -> str:
    return {
        "good": _("Good"),
        "fair": _("Fair"),
        "attention": _("Needs attention"),
        "unknown": _("Not enough data"),
    }[level]


def _month_label(value: str) -> str:
    return formats.date_format(dt.date.fromisoformat(value), "M Y")


def _date_label(value: str) -> str:
    return formats.date_format(dt.date.fromisoformat(value), "DATE_FORMAT")


def _network_label(gap: dict) -> str:
    try:
        network = str(Network(gap["network"]).label)
    except ValueError:
        network = gap["network"]
    # The account's name only where the restaurant has several on that network.
    return f"{network} ({gap['account']})" if gap.get("named") else network


def gap_lines(figures: dict, *, detail: bool = False) -> list[str]:
    """One sentence per account without data this month (indicators.data_gaps), in the active
    language. `detail` adds the platform error's meaning, for the community manager (the
    client's PDF says what happened, not the desk's diagnosis)."""
    month_end = add_months(dt.date.fromisoformat(figures["month"]), 1) - dt.timedelta(days=1)
    lines = []
    for gap in figures.get("gaps") or []:
        values = {"network": _network_label(gap)}
        if gap.get("error") and gap.get("error_at"):
            values["date"] = _date_label(gap["error_at"])
            line = (
                _("No data for %(network)s this month: the account was disconnected on %(date)s.")
                if gap["error"] == ErrorCode.DISCONNECTED
                else _("No data for %(network)s this month: the last fetch failed on %(date)s.")
            ) % values
            if detail and gap["error"] in ErrorCode.values:
                line = f"{line} {ErrorCode(gap['error']).label}"
        elif gap.get("connected_at") and dt.date.fromisoformat(gap["connected_at"]) > month_end:
            values["date"] = _date_label(gap["connected_at"])
            line = (
                _("No data for %(network)s this month: the account was connected on %(date)s.")
                % values
            )
        elif gap.get("last_fetch_at"):
            values["date"] = _date_label(gap["last_fetch_at"])
            line = (
                _(
                    "No data for %(network)s this month: the last fetch, on %(date)s, "
                    "brought none for it."
                )
                % values
            )
        else:
            line = (
                _("No data for %(network)s this month: the account has never been fetched.")
                % values
            )
        lines.append(line)
    return lines


def _plain(value: float) -> float | int:
    """A factor as it reads: 0.6 (not 0.6000000000000001), 2 (not 2.0)."""
    rounded = round(value, 3)
    return int(rounded) if rounded == int(rounded) else rounded


def roi_rows(roi: dict) -> list[dict]:
    """The ROI's sum, one row per action the platforms count: how many, the guests each brings
    (a booking's guests; for a call or a direction request, the share that becomes a visit
    times a visit's guests), the guests and their value at the average ticket (docs/roi.md).
    The rows add up to the frozen total but for its rounding to a tenth of a guest."""
    if not roi:
        return []
    ticket = roi.get("average_ticket") or 0
    visit = roi.get("guests_per_visit") or 0
    factors = [
        ("bookings", _("Bookings"), roi.get("guests_per_booking") or 0, None),
        ("food_orders", _("Food orders"), roi.get("guests_per_food_order") or 0, None),
        (
            "calls",
            _("Calls"),
            (roi.get("call_conversion") or 0) * visit,
            roi.get("call_conversion"),
        ),
        (
            "directions",
            _("Direction requests"),
            (roi.get("direction_conversion") or 0) * visit,
            roi.get("direction_conversion"),
        ),
    ]
    rows = []
    for key, label, per_action, conversion in factors:
        count = roi.get(key) or 0
        guests = count * per_action
        rows.append(
            {
                "key": key,
                "label": label,
                "count": count,
                "conversion": _plain(conversion) if conversion is not None else None,
                "guests_per_visit": _plain(visit) if conversion is not None else None,
                "per_action": _plain(per_action),
                "guests": round(guests, 2),
                "value": round(guests * ticket, 2),
            }
        )
    return rows


def document_context(report: MonthlyReport, figures: dict) -> dict:
    """Call inside translation.override(report.language)."""
    history = figures.get("history") or {}
    labels = [_month_label(label) for label in history.get("labels", [])]
    chart_images = []
    for key, values in (history.get("series") or {}).items():
        if any(value is not None for value in values):
            svg = charts.lines(labels, {history["names"][key]: values}, title=history["names"][key])
            chart_images.append(charts.data_uri(svg))
    reviews = figures["reviews"]
    review_bars = None
    if (
        reviews.get("count")
        or reviews["previous"].get("count")
        or reviews["last_year"].get("count")
    ):
        svg = charts.bars(
            [_("Same month last year"), _("Previous month"), _("This month")],
            {
                _("Reviews"): [
                    reviews["last_year"].get("count") or 0,
                    reviews["previous"].get("count") or 0,
                    reviews.get("count") or 0,
                ]
            },
            title=_("Reviews received"),
            size=(4.2, 2.2),
        )
        review_bars = charts.data_uri(svg)
    status = figures.get("status") or {"level": "unknown", "points": []}
    site = SiteSettings.load()
    return {
        "report": report,
        "restaurant": report.restaurant,
        "figures": figures,
        "month_label": formats.date_format(report.month, "F Y"),
        "status_level": status["level"],
        "status_label": _level_label(status["level"]),
        "status_colour": LEVELS.get(status["level"], LEVELS["unknown"])[1],
        "status_points": status["points"],
        "chart_images": chart_images,
        "review_chart": review_bars,
        "company_name": site.company_name,
        "gap_lines": gap_lines(figures),
    }
