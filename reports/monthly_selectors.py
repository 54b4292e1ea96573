"""Reads of the monthly reports: the clients a month's drafts are for, what a community manager
has due, and how many of a month's reports went out by their deadline."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from reports.models import MonthlyReport
from sales.models import add_months, first_of_month
from sales.selectors import restaurants_with_service


def restaurants_served(*, month: dt.date) -> set[int]:
    """Ids of the restaurants whose contract included the monthly report on at least one day of
    `month`: also a contract that started after the 1st, or ended (at term or early) before the
    last day, or both; one suspended for part of the month; one moved to a pack with the report
    during it. Each day is read with the one rule of a contract in force
    (sales.selectors.restaurants_with_service), one query a day: a job of the month's end."""
    day = first_of_month(month)
    following = add_months(day, 1)
    served: set[int] = set()
    while day < following:
        served.update(
            restaurants_with_service(service="monthly_report", day=day).values_list(
                "restaurant_id", flat=True
            )
        )
        day += dt.timedelta(days=1)
    return served


@dataclass(frozen=True)
class DueReports:
    count: int
    late: int
    reports: list[MonthlyReport]


def reports_due(*, user: User, limit: int = 8) -> DueReports:
    """The latest versions not yet sent of the restaurants `user` is community manager of, the
    earliest deadline first (two queries)."""
    due = (
        MonthlyReport.objects.visible_to(user)
        .current()
        .unsent()
        .filter(restaurant__community_manager=user)
    )
    counts = due.aggregate(
        count=Count("pk"), late=Count("pk", filter=Q(deadline__lt=timezone.localdate()))
    )
    reports = list(
        due.select_related("restaurant").order_by("deadline", "restaurant__name")[:limit]
    )
    return DueReports(count=counts["count"], late=counts["late"], reports=reports)


@dataclass(frozen=True)
class OnTime:
    month: dt.date
    total: int
    sent: int
    on_time: int

    @property
    def share(self) -> float | None:
        return round(100 * self.on_time / self.total, 1) if self.total else None


def reports_on_time(*, month: dt.date) -> OnTime:
    """Of the month's reports (one per restaurant: its first version), how many were sent, and
    sent by their deadline. The first sending counts: a later version exists only once the
    first was sent, and neither a resend nor a new version moves it. One query."""
    figures = (
        MonthlyReport.objects.filter(month=month, version=1)
        .annotate(first_sent_day=TruncDate("first_sent_at"))
        .aggregate(
            total=Count("pk"),
            sent=Count("pk", filter=Q(first_sent_day__isnull=False)),
            on_time=Count("pk", filter=Q(first_sent_day__lte=F("deadline"))),
        )
    )
    return OnTime(month=month, **figures)
