"""Reads of the social desk, scoped through visible_to(user)."""

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from crm.enums import ActivityKind
from crm.models import Activity, Restaurant
from sales.enums import Network
from sales.models import add_months, first_of_month
from sales.selectors import terms_in_force
from social import quotas
from social.enums import AccountState, PostStatus, PublicationState, Sentiment, TaskState
from social.metrics import CHARTS, METRICS
from social.models import (
    TOKEN_WARNING,
    MetricSnapshot,
    Post,
    Publication,
    ReplyTemplate,
    Review,
    ReviewTask,
    SocialAccount,
    SocialProfile,
    SocialSettings,
    post_title,
)
from social.posting import can_publish_to
from social.providers import REVIEW_NETWORKS

# Metrics read as a level at a bucket's end (followers), not added up.
LEVEL_METRICS = [name for name, metric in METRICS.items() if metric.aggregate == "last"]


def fetchable_accounts() -> list[tuple[int, str]]:
    """(id, network) of every account the daily jobs call: all but those waiting for a
    reconnection."""
    return list(
        SocialAccount.objects.exclude(state=AccountState.NEEDS_RECONNECT)
        .order_by("pk")
        .values_list("pk", "network")
    )


def fetchable_account_ids() -> list[int]:
    return [pk for pk, _network in fetchable_accounts()]


def reviews_due_accounts(*, now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """(id, network) of the accounts the daily review job fetches: the fetchable ones of the
    networks that give reviews, except the TripAdvisor locations beyond what today's share of
    the monthly call budget pays for (those fetched longest ago go first, so every location
    comes round in turn)."""
    from social.providers.tripadvisor import CALLS_PER_FETCH, monthly_calls

    rows = [
        (pk, network)
        for pk, network in fetchable_accounts()
        if network in REVIEW_NETWORKS and network != Network.TRIPADVISOR
    ]
    allowance = quotas.monthly_allowance_today(
        quotas.TRIPADVISOR_MONTH, limit=monthly_calls(), now=now
    )
    tripadvisor = (
        SocialAccount.objects.exclude(state=AccountState.NEEDS_RECONNECT)
        .filter(network=Network.TRIPADVISOR)
        .order_by(F("last_reviews_at").asc(nulls_first=True), "pk")
        .values_list("pk", "network")[: allowance // CALLS_PER_FETCH]
    )
    return sorted(rows + list(tripadvisor))


def restaurant_accounts(*, restaurant: Restaurant) -> list[SocialAccount]:
    return list(SocialAccount.objects.filter(restaurant=restaurant).order_by("network", "name"))


def account_get(*, user: User, pk: int) -> SocialAccount:
    return get_object_or_404(
        SocialAccount.objects.visible_to(user).select_related("restaurant"), pk=pk
    )


def account_health_list(*, user: User, state: str = "", network: str = "") -> QuerySet:
    queryset = SocialAccount.objects.visible_to(user).select_related(
        "restaurant", "restaurant__community_manager"
    )
    if state:
        queryset = queryset.filter(state=state)
    if network:
        queryset = queryset.filter(network=network)
    return queryset.order_by("state", "network", "pk")


def account_health_counts(*, user: User) -> dict[str, int]:
    rows = SocialAccount.objects.visible_to(user).values("state").annotate(count=Count("pk"))
    counts = dict.fromkeys(AccountState.values, 0)
    counts |= {row["state"]: row["count"] for row in rows}
    return counts


# --- Metrics -------------------------------------------------------------------------------------


@dataclass
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def monthly(self) -> bool:
        """Long periods are charted per month, short ones per day."""
        return self.days > 92


def _series(
    rows, period: Period, *, monthly: bool | None = None
) -> dict[str, dict[dt.date, float]]:
    """metric -> bucket (day or month, as the period wants unless `monthly` says) -> value.
    Amounts add up; a level (followers) is each account's value on its last day in the bucket,
    added over the accounts, so an account that missed the bucket's last day still counts."""
    monthly = period.monthly if monthly is None else monthly
    series: dict[str, dict[dt.date, float]] = {}
    levels: dict[tuple[str, dt.date], dict[int, float]] = {}
    for row in rows:  # ordered by day: a later day overwrites an account's level
        metric, day, value = row["metric"], row["day"], row["total"]
        bucket = first_of_month(day) if monthly else day
        values = series.setdefault(metric, {})
        if METRICS[metric].aggregate == "last":
            levels.setdefault((metric, bucket), {})[row["source"]] = value
        else:
            values[bucket] = values.get(bucket, 0.0) + value
    for (metric, bucket), by_account in levels.items():
        series[metric][bucket] = sum(by_account.values())
    return series


def _buckets(period: Period, *, monthly: bool | None = None) -> list[dt.date]:
    """Each day of the period, or each month when `monthly` (by default: as the period wants)."""
    monthly = period.monthly if monthly is None else monthly
    buckets = []
    day = first_of_month(period.start) if monthly else period.start
    while day <= period.end:
        buckets.append(day)
        day = add_months(day, 1) if monthly else day + dt.timedelta(days=1)
    return buckets


def _month_key(value, zone: ZoneInfo | None = None) -> dt.date:
    """The first day of a month TruncMonth gave (with `tzinfo=zone`, else in the site's zone):
    an aware datetime (in UTC from PostgreSQL), read in that zone, or a date elsewhere."""
    if not isinstance(value, dt.datetime):
        return value
    return timezone.localtime(value, zone).date()


def _grouped(snapshots):
    """Per metric and day, the sum over the accounts; levels stay per account (`source` is the
    account, 0 for amounts) for `_series` to read each account's last day."""
    source = Case(
        When(metric__in=LEVEL_METRICS, then=F("account_id")),
        default=Value(0),
        output_field=IntegerField(),
    )
    return (
        snapshots.annotate(source=source)
        .values("metric", "day", "source")
        .annotate(total=Sum("value"))
        .order_by("day")
    )


def _daily_totals(restaurant: Restaurant, start: dt.date, end: dt.date):
    """One query: per metric and day, the restaurant's accounts together (levels per account)."""
    return _grouped(
        MetricSnapshot.objects.filter(
            account__restaurant=restaurant, day__gte=start, day__lte=end, metric__in=METRICS
        )
    )


def restaurant_monthly_series(
    *, restaurant: Restaurant, first: dt.date, last: dt.date
) -> dict[str, dict[dt.date, float]]:
    """metric -> first day of month -> the month's value (levels at the month's last day), for the
    months from `first` to `last` (one query)."""
    period = Period(
        first_of_month(first), add_months(first_of_month(last), 1) - dt.timedelta(days=1)
    )
    return _series(_daily_totals(restaurant, period.start, period.end), period, monthly=True)


def restaurant_charts(*, restaurant: Restaurant, period: Period) -> dict:
    """The social page's charts: one dataset per metric, over day or month buckets."""
    series = _series(_daily_totals(restaurant, period.start, period.end), period)
    buckets = _buckets(period)
    charts = []
    for key, title, names in CHARTS:
        datasets = [
            {
                "label": str(METRICS[name].label),
                "data": [series[name].get(bucket) for bucket in buckets],
            }
            for name in names
            if name in series
        ]
        charts.append({"key": key, "title": str(title), "datasets": datasets})
    reviews = (
        Review.objects.filter(
            restaurant=restaurant,
            written_at__date__gte=period.start,
            written_at__date__lte=period.end,
        )
        .annotate(month=TruncMonth("written_at"))
        .values("month")
        .annotate(count=Count("pk"), rating=Avg("rating"))
        .order_by("month")
    )
    review_months = {_month_key(row["month"]): row for row in reviews}
    month_buckets = _buckets(period, monthly=True)
    return {
        "labels": [bucket.isoformat() for bucket in buckets],
        "monthly": period.monthly,
        "charts": charts,
        "reviews": {
            "labels": [month.isoformat() for month in month_buckets],
            "count": [review_months.get(month, {}).get("count", 0) for month in month_buckets],
            "rating": [
                round(review_months[month]["rating"], 2)
                if month in review_months and review_months[month]["rating"] is not None
                else None
                for month in month_buckets
            ],
        },
    }


@dataclass
class Evolution:
    metric: str
    label: str
    value: float | None
    previous: float | None
    last_year: float | None

    @staticmethod
    def _change(value, reference):
        if value is None or not reference:
            return None
        return round(100 * (value - reference) / reference, 1)

    @property
    def month_over_month(self) -> float | None:
        return self._change(self.value, self.previous)

    @property
    def year_over_year(self) -> float | None:
        return self._change(self.value, self.last_year)


def restaurant_evolution(*, restaurant: Restaurant, month: dt.date) -> list[Evolution]:
    """Each metric for `month`, the month before and the same month a year earlier (one query
    for the metrics, one for the reviews, one for the posts published)."""
    month = first_of_month(month)
    months = [add_months(month, -12), add_months(month, -1), month]
    ranges = Q()
    for start in months:
        ranges |= Q(day__gte=start, day__lt=add_months(start, 1))
    rows = _grouped(
        MetricSnapshot.objects.filter(ranges, account__restaurant=restaurant, metric__in=METRICS)
    )
    series = _series(rows, Period(months[0], add_months(month, 1) - dt.timedelta(days=1)))
    evolutions = []
    for name, metric in METRICS.items():
        if name not in series:
            continue
        values = [series[name].get(start) for start in (month, months[1], months[0])]
        evolutions.append(Evolution(name, str(metric.label), *values))
    review_rows = (
        Review.objects.filter(
            restaurant=restaurant,
            written_at__date__gte=months[0],
            written_at__date__lt=add_months(month, 1),
        )
        .annotate(month=TruncMonth("written_at"))
        .values("month")
        .annotate(count=Count("pk"), rating=Avg("rating"))
    )
    by_month = {_month_key(row["month"]): row for row in review_rows}
    for key, label in (("count", _("Reviews")), ("rating", _("Average rating"))):
        values = []
        for start in (month, months[1], months[0]):
            value = by_month.get(start, {}).get(key)
            values.append(round(value, 2) if isinstance(value, float) else value)
        evolutions.append(Evolution(f"reviews_{key}", str(label), *values))
    # The desk's own record: a month without a published post is a known 0, not a gap.
    posts = posts_published_by_month(
        restaurant=restaurant, start=months[0], end=add_months(month, 1) - dt.timedelta(days=1)
    )
    evolutions.append(
        Evolution(
            "posts_published",
            str(_("Posts published")),
            *(posts.get(start, 0) for start in (month, months[1], months[0])),
        )
    )
    return evolutions


# --- Reviews -------------------------------------------------------------------------------------


@dataclass
class ReviewFilters:
    network: str = ""
    rating: int | None = None
    restaurant: int | None = None
    overdue: bool = False
    answered: str = ""  # "", "yes", "no"
    negative: bool = False
    # The dashboards' lists: reviews answered in a month (first day), within their target time.
    answered_month: dt.date | None = None
    within_target: bool = False


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def review_queue(*, user: User, filters: ReviewFilters) -> QuerySet:
    """Reviews of the restaurants the user sees: those with an open task first by due time, then
    the other unanswered ones, then the answered ones, newest answer first. The order reads the
    review's own columns (open_due_at is its open task's due time) on one index; each filter has
    its index."""
    queryset = Review.objects.visible_to(user).select_related("restaurant", "account", "replied_by")
    if filters.network:
        queryset = queryset.filter(network=filters.network)
    if filters.rating:
        queryset = queryset.filter(rating=filters.rating)
    if filters.restaurant:
        queryset = queryset.filter(restaurant_id=filters.restaurant)
    if filters.negative:
        queryset = queryset.filter(sentiment=Sentiment.NEGATIVE)
    if filters.answered == "yes":
        queryset = queryset.answered()
    elif filters.answered == "no":
        queryset = queryset.unanswered()
    if filters.overdue:
        # Read from the open tasks (their state and due index), as overdue_count does, so the
        # list and the dashboards' counts are the same rows.
        overdue = ReviewTask.objects.filter(state=TaskState.OPEN, due_at__lt=timezone.now())
        queryset = queryset.filter(pk__in=overdue.values("review_id"))
    if filters.answered_month or filters.within_target:
        answers = ReviewTask.objects.filter(state=TaskState.ANSWERED)
        if filters.answered_month:
            start = first_of_month(filters.answered_month)
            answers = answers.filter(
                answered_at__gte=_local_midnight(start),
                answered_at__lt=_local_midnight(add_months(start, 1)),
            )
        if filters.within_target:
            answers = answers.filter(answered_at__lte=F("due_at"))
        queryset = queryset.filter(pk__in=answers.values("review_id"))
    # The NULLS placement is PostgreSQL's default for each direction, said for SQLite's sake; so
    # the order is the social_review_queue index's.
    return queryset.order_by(
        F("open_due_at").asc(nulls_last=True),
        F("replied_at").desc(nulls_first=True),
        F("written_at").desc(),
        F("pk").desc(),
    )


def review_get(*, user: User, pk: int) -> Review:
    return get_object_or_404(
        Review.objects.visible_to(user).select_related("restaurant", "account", "replied_by"),
        pk=pk,
    )


def review_tasks(*, review: Review) -> list[ReviewTask]:
    return list(
        ReviewTask.objects.filter(review=review)
        .select_related("assignee", "answered_by")
        .order_by("opened_at")
    )


@dataclass
class ResponseStats:
    answered: int = 0
    within_target: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    durations: list[float] = field(default_factory=list, repr=False)

    @property
    def share_within_target(self) -> float | None:
        return None if not self.answered else round(100 * self.within_target / self.answered, 1)


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 100) * len(ordered) // 100))
    return ordered[min(rank, len(ordered)) - 1]


class _Percentile(Aggregate):
    """PostgreSQL's ordered-set aggregates: PERCENTILE_CONT (interpolated, as statistics.median)
    and PERCENTILE_DISC (the nearest rank, as _percentile)."""

    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, function: str, fraction: float):
        super().__init__(
            expression, function=function, fraction=float(fraction), output_field=FloatField()
        )


def _hours_to_answer():
    return Func(
        F("answered_at") - F("opened_at"),
        template="EXTRACT(EPOCH FROM %(expressions)s) / 3600.0",
        output_field=FloatField(),
    )


def response_stats(
    *,
    restaurant: Restaurant | None = None,
    user: User | None = None,
    since: dt.date,
    until: dt.date,
) -> dict[tuple[str, dt.date], ResponseStats]:
    """Median and 90th-percentile response time (hours) and share answered within target, per
    network and month of the answer (in the site's time zone). One query. A user's queue (many
    restaurants) is aggregated by PostgreSQL itself; one restaurant's answers, or any on SQLite,
    are few enough to order in Python, which also keeps each entry's durations (the monthly
    report adds them up over the networks)."""
    queryset = ReviewTask.objects.filter(
        state=TaskState.ANSWERED,
        # Instants, not answered_at__date: the answered_at index serves them.
        answered_at__gte=_local_midnight(since),
        answered_at__lt=_local_midnight(until + dt.timedelta(days=1)),
    )
    if restaurant is not None:
        queryset = queryset.filter(review__restaurant=restaurant)
    if user is not None:
        queryset = queryset.filter(review__restaurant__in=Restaurant.objects.visible_to(user))
    if restaurant is None and connection.vendor == "postgresql":
        return _response_stats_in_sql(queryset)
    stats: dict[tuple[str, dt.date], ResponseStats] = {}
    for network, opened, due, answered in queryset.values_list(
        "review__network", "opened_at", "due_at", "answered_at"
    ):
        local = timezone.localtime(answered).date()
        entry = stats.setdefault((network, first_of_month(local)), ResponseStats())
        entry.answered += 1
        entry.within_target += answered <= due
        entry.durations.append((answered - opened).total_seconds() / 3600)
    for entry in stats.values():
        entry.median_hours = round(statistics.median(entry.durations), 1)
        entry.p90_hours = round(_percentile(entry.durations, 0.9), 1)
    return stats


def _response_stats_in_sql(queryset: QuerySet) -> dict[tuple[str, dt.date], ResponseStats]:
    rows = (
        queryset.annotate(month=TruncMonth("answered_at"), network=F("review__network"))
        .values("network", "month")
        .annotate(
            answered=Count("pk"),
            within=Count("pk", filter=Q(answered_at__lte=F("due_at"))),
            median=_Percentile(_hours_to_answer(), function="PERCENTILE_CONT", fraction=0.5),
            p90=_Percentile(_hours_to_answer(), function="PERCENTILE_DISC", fraction=0.9),
        )
        .order_by()
    )
    return {
        (row["network"], _month_key(row["month"])): ResponseStats(
            answered=row["answered"],
            within_target=row["within"],
            median_hours=round(row["median"], 1),
            p90_hours=round(row["p90"], 1),
        )
        for row in rows
    }


# --- Posts ---------------------------------------------------------------------------------------


@dataclass
class PostFilters:
    restaurant: int | None = None
    status: str = ""
    manager: int | None = None


def _has_demo_target():
    return Exists(Publication.objects.filter(post=OuterRef("pk"), account__demo=True))


def post_list(*, user: User, filters: PostFilters) -> QuerySet:
    queryset = (
        Post.objects.visible_to(user)
        .select_related("restaurant", "created_by")
        .annotate(demo=_has_demo_target())
        .prefetch_related(
            Prefetch(
                "publications",
                queryset=Publication.objects.select_related("account").order_by("pk"),
            )
        )
    )
    if filters.restaurant:
        queryset = queryset.filter(restaurant_id=filters.restaurant)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.manager:
        queryset = queryset.filter(restaurant__community_manager_id=filters.manager)
    return queryset.order_by(F("scheduled_at").desc(nulls_first=True), "-pk")


def post_get(*, user: User, pk: int) -> Post:
    return get_object_or_404(Post.objects.visible_to(user).select_related("restaurant"), pk=pk)


def post_publications(*, post: Post) -> list[Publication]:
    return list(post.publications.select_related("account").order_by("pk"))


def publication_get(*, user: User, pk: int) -> Publication:
    return get_object_or_404(
        Publication.objects.visible_to(user).select_related("post__restaurant", "account"), pk=pk
    )


def publishable_accounts(*, restaurant: Restaurant) -> list[SocialAccount]:
    return [
        account
        for account in restaurant_accounts(restaurant=restaurant)
        if can_publish_to(account.network)
    ]


# Posts the calendar shows at most for one period (a month of every restaurant would be
# thousands): past it, the page asks to choose a restaurant or a community manager.
CALENDAR_EVENTS_LIMIT = 2000


@dataclass
class CalendarPost:
    """What the calendar shows of a post."""

    pk: int
    restaurant_name: str
    text: str
    status: str
    scheduled_at: dt.datetime
    targets: int = 0
    published: int = 0
    failed: int = 0
    # One of its accounts is a demo one.
    demo: bool = False

    def __str__(self) -> str:
        return post_title(self.text)


def post_calendar_events(
    *,
    user: User,
    start: dt.datetime,
    end: dt.datetime,
    restaurant: int | None = None,
    manager: int | None = None,
) -> tuple[list[CalendarPost], bool]:
    """Scheduled and published posts between two instants, for the calendar, and whether more
    than CALENDAR_EVENTS_LIMIT were left out. Two queries, read as plain rows (a busy month is a
    couple of thousand posts): the posts, then their publications' states, counted here."""
    chosen = Post.objects.visible_to(user).filter(scheduled_at__gte=start, scheduled_at__lt=end)
    if restaurant:
        chosen = chosen.filter(restaurant_id=restaurant)
    if manager:
        chosen = chosen.filter(restaurant__community_manager_id=manager)
    rows = list(
        chosen.order_by("scheduled_at", "pk").values_list(
            "pk", "restaurant__name", "text", "status", "scheduled_at"
        )[: CALENDAR_EVENTS_LIMIT + 1]
    )
    posts = {row[0]: CalendarPost(*row) for row in rows[:CALENDAR_EVENTS_LIMIT]}
    for post_id, state, demo in Publication.objects.filter(post_id__in=posts).values_list(
        "post_id", "state", "account__demo"
    ):
        post = posts[post_id]
        post.targets += 1
        post.published += state == PublicationState.PUBLISHED
        post.failed += state == PublicationState.FAILED
        post.demo = post.demo or demo
    return list(posts.values()), len(rows) > CALENDAR_EVENTS_LIMIT


@dataclass
class PostsQuota:
    allowed: int | None  # None: no contract in force
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.allowed is None else self.allowed - self.used

    @property
    def over(self) -> bool:
        return self.allowed is not None and self.used > self.allowed


def posts_quota(
    *, restaurant: Restaurant, month: dt.date, exclude_post: int | None = None
) -> PostsQuota:
    """The contract's posts per month against the posts scheduled or published that month (in
    the restaurant's time zone), `exclude_post` being the one being edited."""
    zone = ZoneInfo(restaurant.time_zone)
    start = dt.datetime.combine(first_of_month(month), dt.time(), tzinfo=zone)
    end = dt.datetime.combine(add_months(first_of_month(month), 1), dt.time(), tzinfo=zone)
    used = Post.objects.filter(
        restaurant=restaurant,
        status__in=(PostStatus.SCHEDULED, PostStatus.DONE),
        scheduled_at__gte=start,
        scheduled_at__lt=end,
    )
    if exclude_post:
        used = used.exclude(pk=exclude_post)
    terms = terms_in_force(restaurant_id=restaurant.pk, day=first_of_month(month))
    return PostsQuota(allowed=terms.posts_per_month if terms else None, used=used.count())


def late_publications(*, user: User | None = None, now: dt.datetime | None = None) -> QuerySet:
    """Publications past their time by more than the admin-set delay: the worker is down or
    stuck. `user` None: every restaurant (for /health/)."""
    now = now or timezone.now()
    limit = now - dt.timedelta(minutes=SocialSettings.load().late_after_minutes)
    queryset = Publication.objects.filter(
        Q(state=PublicationState.SCHEDULED, due_at__lt=limit, next_attempt_at__isnull=True)
        | Q(state=PublicationState.SCHEDULED, next_attempt_at__lt=limit)
        | Q(state=PublicationState.PUBLISHING, claimed_at__lt=limit)
    )
    if user is not None:
        queryset = queryset.filter(post__restaurant__in=Restaurant.objects.visible_to(user))
    return queryset.select_related("post__restaurant", "account").order_by("due_at")


def failed_publications(*, user: User) -> QuerySet:
    return (
        Publication.objects.visible_to(user)
        .filter(state=PublicationState.FAILED)
        .select_related("post__restaurant", "account")
        .order_by("-due_at")
    )


# --- ROI -----------------------------------------------------------------------------------------


@dataclass
class Roi:
    """Value of the guests the platforms' actions bring, against the month's price. Every input is
    kept so the page (and the client) can follow the sum."""

    month: dt.date
    average_ticket: Decimal
    ticket_is_default: bool
    bookings: float
    food_orders: float
    calls: float
    directions: float
    guests_per_booking: Decimal
    guests_per_food_order: Decimal
    call_conversion: Decimal
    direction_conversion: Decimal
    guests_per_visit: Decimal
    monthly_price: Decimal | None

    @property
    def guests(self) -> Decimal:
        return (
            Decimal(str(self.bookings)) * self.guests_per_booking
            + Decimal(str(self.food_orders)) * self.guests_per_food_order
            + (
                Decimal(str(self.calls)) * self.call_conversion
                + Decimal(str(self.directions)) * self.direction_conversion
            )
            * self.guests_per_visit
        ).quantize(Decimal("0.1"))

    @property
    def value(self) -> Decimal:
        return (self.guests * self.average_ticket).quantize(Decimal("0.01"))

    @property
    def ratio(self) -> Decimal | None:
        """Value per euro paid (2.0: the service brought twice its price)."""
        if not self.monthly_price:
            return None
        return (self.value / self.monthly_price).quantize(Decimal("0.01"))


def restaurant_roi(*, restaurant: Restaurant, month: dt.date) -> Roi:
    config = SocialSettings.load()
    month = first_of_month(month)
    totals = dict(
        MetricSnapshot.objects.filter(
            account__restaurant=restaurant,
            day__gte=month,
            day__lt=add_months(month, 1),
            metric__in=("bookings", "food_orders", "calls", "directions"),
        )
        .values("metric")
        .annotate(total=Sum("value"))
        .values_list("metric", "total")
    )
    ticket = (
        SocialProfile.objects.filter(restaurant=restaurant)
        .values_list("average_ticket", flat=True)
        .first()
    )
    terms = terms_in_force(restaurant_id=restaurant.pk, day=month)
    return Roi(
        month=month,
        average_ticket=ticket if ticket is not None else config.default_average_ticket,
        ticket_is_default=ticket is None,
        bookings=totals.get("bookings", 0.0),
        food_orders=totals.get("food_orders", 0.0),
        calls=totals.get("calls", 0.0),
        directions=totals.get("directions", 0.0),
        guests_per_booking=config.guests_per_booking,
        guests_per_food_order=config.guests_per_food_order,
        call_conversion=config.call_conversion,
        direction_conversion=config.direction_conversion,
        guests_per_visit=config.guests_per_visit,
        monthly_price=terms.monthly_price if terms else None,
    )


def posts_published_by_month(
    *, restaurant: Restaurant, start: dt.date, end: dt.date
) -> dict[dt.date, int]:
    """Publications published from day `start` to day `end`, counted per month (its first day),
    days and months in the restaurant's time zone, as its posts are scheduled (one query)."""
    zone = ZoneInfo(restaurant.time_zone)
    rows = (
        Publication.objects.filter(
            post__restaurant=restaurant,
            state=PublicationState.PUBLISHED,
            published_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=zone),
            published_at__lt=dt.datetime.combine(
                end + dt.timedelta(days=1), dt.time(), tzinfo=zone
            ),
        )
        .annotate(month=TruncMonth("published_at", tzinfo=zone))
        .values("month")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {_month_key(row["month"], zone): row["count"] for row in rows}


# --- Community manager's day ---------------------------------------------------------------------


# The exchanges that follow a call up, when the community manager records one after it.
FOLLOW_UP_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.VISIT)
FOLLOW_UP_WITHIN = dt.timedelta(days=30)


def calls_to_follow_up(*, user: User, restaurants: QuerySet, now: dt.datetime) -> QuerySet:
    """Calls logged on the timeline of the user's restaurants in the last 30 days by someone
    else (a colleague who took the client's call, a sales agent), which the user has not
    followed up: no call, e-mail, meeting or visit of theirs on that restaurant since. Recording
    the follow-up on the timeline takes the call off the list (docs/decisions.md)."""
    followed_up = Activity.objects.filter(
        restaurant=OuterRef("restaurant"),
        author=user,
        kind__in=FOLLOW_UP_KINDS,
        archived=False,
        occurred_at__gt=OuterRef("occurred_at"),
    )
    return (
        Activity.objects.filter(
            restaurant__in=restaurants,
            kind=ActivityKind.CALL,
            archived=False,
            occurred_at__gte=now - FOLLOW_UP_WITHIN,
            occurred_at__lte=now,
        )
        .exclude(author=user)
        .exclude(Exists(followed_up))
        .select_related("restaurant", "author")
        .order_by("-occurred_at")
    )


def community_manager_day(*, user: User, now: dt.datetime | None = None) -> dict:
    """The community manager's dashboard, in a fixed number of queries."""
    now = now or timezone.now()
    week_end = now + dt.timedelta(days=7)
    restaurants = (
        Restaurant.objects.visible_to(user)
        .filter(community_manager=user, archived_at__isnull=True)
        .order_by("name")
    )
    accounts = SocialAccount.objects.visible_to(user).filter(restaurant__community_manager=user)
    demo_accounts = SocialAccount.objects.filter(restaurant=OuterRef("pk"), demo=True)
    return {
        "restaurants": list(restaurants.annotate(demo=Exists(demo_accounts))[:50]),
        "restaurant_count": restaurants.count(),
        "week_posts": list(
            Post.objects.visible_to(user)
            .filter(
                restaurant__community_manager=user,
                status=PostStatus.SCHEDULED,
                scheduled_at__gte=now,
                scheduled_at__lt=week_end,
            )
            .annotate(demo=_has_demo_target())
            .select_related("restaurant")
            .order_by("scheduled_at")[:50]
        ),
        "failed": list(failed_publications(user=user)[:20]),
        "late": list(late_publications(user=user, now=now)[:20]),
        # To reconnect now, or before the platform's token ends.
        "reconnect": list(
            accounts.filter(
                Q(state=AccountState.NEEDS_RECONNECT) | Q(token_expires_at__lte=now + TOKEN_WARNING)
            )
            .select_related("restaurant")
            .order_by(F("token_expires_at").asc(nulls_last=True), "pk")[:20]
        ),
        "calls": list(calls_to_follow_up(user=user, restaurants=restaurants, now=now)[:20]),
    }


def overdue_count(*, user: User) -> int:
    return (
        ReviewTask.objects.visible_to(user)
        .filter(state=TaskState.OPEN, due_at__lt=timezone.now())
        .count()
    )


def review_history(*, review: Review, limit: int = 5) -> list[Review]:
    """The restaurant's other recent reviews on the same network, for context."""
    return list(
        Review.objects.filter(restaurant_id=review.restaurant_id, network=review.network)
        .exclude(pk=review.pk)
        .order_by("-written_at")[:limit]
    )


class _Blank(dict):
    """Unknown placeholders stay visible instead of failing the whole template."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def reply_templates(*, review: Review, signature: str, language: str) -> list[dict]:
    """Active templates, those suggested for the review's rating first, with the placeholders
    filled, in the review's language when it is one we have, else the user's."""
    lang = review.language if review.language in ("fr", "en") else (language or "fr")[:2]
    values = _Blank(
        reviewer=review.author or "",
        restaurant=review.restaurant.name,
        rating=review.rating or "",
        signature=signature,
    )
    result = []
    for template in ReplyTemplate.objects.filter(active=True):
        body = getattr(template, f"body_{lang}", None) or template.body
        name = getattr(template, f"name_{lang}", None) or template.name
        try:
            text = body.format_map(values)
        except (ValueError, IndexError):
            text = body
        suggested = not template.ratings or (review.rating in template.ratings)
        result.append({"pk": template.pk, "name": name, "text": text, "suggested": suggested})
    result.sort(key=lambda item: not item["suggested"])
    return result
