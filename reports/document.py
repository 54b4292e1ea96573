"""What the monthly report's document shows, from its frozen indicators: the same context serves
the PDF and the preview in the browser."""

import datetime as dt

from django.utils import formats
from django.utils.translation import gettext as _

from comadvisor.models import SiteSettings
from reports import charts
from reports.models import MonthlyReport

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
    }
