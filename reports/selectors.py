"""Reads behind the role dashboards."""

import math
import statistics
from datetime import date, datetime, time
from decimal import Decimal

from axes.models import AccessAttempt, AccessLog
from django.contrib.auth.models import Group
from django.db.models import (
    BooleanField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import ExtractMonth, ExtractYear, TruncMonth
from django.utils import timezone

from accounts.enums import RoleName
from accounts.models import User
from accounts.roles import ROLES
from crm.enums import RequestStatus, RestaurantStatus
from crm.models import ConversionRequest, Restaurant
from crm.selectors import pending_requests
from sales.enums import OPEN_STAGES, ContractStatus, VisitKind, VisitStatus
from sales.models import (
    Contract,
    ContractTerm,
    Invoice,
    Opportunity,
    Pack,
    SalesTarget,
    Visit,
    add_months,
    first_of_month,
)
from social.enums import TaskState
from social.models import Review, ReviewTask


def dashboard_roles(*, user: User) -> list[RoleName]:
    """The user's declared roles in the table's order (the first is the page's heading)."""
    held = set(user.role_names)
    return [role.name for role in ROLES if str(role.name) in held]


def team_by_role(*, user: User) -> list[dict]:
    """Active users per role, for those who manage users (one query)."""
    if not user.has_perm("accounts.view_user"):
        return []
    groups = Group.objects.annotate(
        active=Count("user", filter=Q(user__is_active=True)),
    ).order_by("name")
    labels = dict(RoleName.choices)
    return [
        {
            "id": group.pk,
            "code": group.name,
            "label": labels.get(group.name, group.name),
            "count": group.active,
        }
        for group in groups
    ]


def recent_logins(*, user: User, limit: int = 8) -> list[AccessLog]:
    if not user.has_perm("axes.view_accesslog"):
        return []
    return list(AccessLog.objects.order_by("-attempt_time")[:limit])


def recent_failed_logins(*, user: User, limit: int = 8) -> list[AccessAttempt]:
    if not user.has_perm("axes.view_accessattempt"):
        return []
    return list(AccessAttempt.objects.order_by("-attempt_time")[:limit])


# --- Role dashboards -----------------------------------------------------------------------------
# Each function runs a fixed number of queries whatever the data size, filtering on indexed
# columns (invoice month, contract status, opportunity owner and stage, review task answered_at
# and state, visit status and start, request status).


def month_starts(last: date, count: int) -> list[date]:
    """The first days of the `count` months ending with `last`'s month, oldest first."""
    last = first_of_month(last)
    return [add_months(last, -offset) for offset in reversed(range(count))]


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def _month_of(value: date | datetime) -> date:
    """TruncMonth gives a datetime on a DateTimeField (aware on PostgreSQL), a date otherwise."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return first_of_month(value)


def _money(value) -> Decimal:
    """Sums come back as Decimal or float depending on the database: one form for display."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def month_kpis(*, month: date) -> dict:
    """The KPI page's figures for one month, every agent and zone (the same computation)."""
    from sales.kpis import KpiFilters, compute

    figures = compute(KpiFilters(agent=None, zone=None, start=month, end=add_months(month, 1)))
    keys = ("mrr", "new_mrr", "contracts", "new_clients", "meetings", "proposals")
    return {key: figures[key] for key in keys}


def invoiced_by_month(*, user: User, months: list[date]) -> list[dict]:
    """Amount and number of invoices per billed month (one query on the month index)."""
    rows = (
        Invoice.objects.visible_to(user)
        .filter(month__gte=months[0], month__lte=months[-1])
        .values("month")
        .annotate(total=Sum("amount"), count=Count("pk"))
    )
    found = {row["month"]: row for row in rows}
    return [
        {
            "month": month,
            "total": _money(found.get(month, {}).get("total")),
            "count": found.get(month, {}).get("count", 0),
        }
        for month in months
    ]


def active_contracts_by_pack(*, user: User, day: date) -> dict:
    """Active contracts per pack of the terms in force on `day`, with their monthly revenue; the
    same selection as /contracts/?status=active&pack=<code> (three queries). The terms in force
    are those no later terms (up to `day`) replace: an anti-join, not a lookup per contract. A
    contract whose first terms start later has no pack yet (code "")."""
    active = Contract.objects.visible_to(user).filter(status=ContractStatus.ACTIVE)
    replaced = ContractTerm.objects.filter(
        contract=OuterRef("contract"), starts_on__gt=OuterRef("starts_on"), starts_on__lte=day
    )
    rows = list(
        ContractTerm.objects.filter(contract__in=active, starts_on__lte=day)
        .exclude(Exists(replaced))
        .values("pack")
        .annotate(count=Count("contract"), mrr=Sum("monthly_price"))
        .order_by("-count", "pack")
    )
    total = active.count()
    packs = Pack.objects.in_bulk([row["pack"] for row in rows])
    result = [
        {
            "code": packs[row["pack"]].code,
            "name": str(packs[row["pack"]]),
            "count": row["count"],
            "mrr": _money(row["mrr"]),
        }
        for row in rows
    ]
    later = total - sum(row["count"] for row in rows)
    if later:
        result.append({"code": "", "name": "", "count": later, "mrr": _money(0)})
    return {"packs": result, "total": total}


def client_flow(*, user: User, months: list[date]) -> list[dict]:
    """Clients won (conversions validated) and lost (contract ended, restaurant now a former
    client) per month (two queries)."""
    won = (
        ConversionRequest.objects.visible_to(user)
        .filter(status=RequestStatus.APPLIED, decided_at__gte=local_midnight(months[0]))
        .annotate(month=TruncMonth("decided_at"))
        .values("month")
        .annotate(count=Count("pk"))
    )
    lost = (
        Contract.objects.visible_to(user)
        .filter(
            status=ContractStatus.ENDED,
            ended_at__gte=months[0],
            ended_at__lt=add_months(months[-1], 1),
            restaurant__status=RestaurantStatus.FORMER,
        )
        .annotate(month=TruncMonth("ended_at"))
        .values("month")
        .annotate(count=Count("restaurant", distinct=True))
    )
    won_by_month = {_month_of(row["month"]): row["count"] for row in won}
    lost_by_month = {_month_of(row["month"]): row["count"] for row in lost}
    return [
        {"month": month, "won": won_by_month.get(month, 0), "lost": lost_by_month.get(month, 0)}
        for month in months
    ]


def pipeline_by_stage(*, user: User, owner: User | None = None) -> list[dict]:
    """Open opportunities per stage: how many and their monthly amount (one query)."""
    queryset = Opportunity.objects.visible_to(user).filter(stage__in=OPEN_STAGES)
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    rows = {
        row["stage"]: row
        for row in queryset.values("stage").annotate(
            count=Count("pk"), amount=Sum("monthly_amount")
        )
    }
    return [
        {
            "stage": str(stage),
            "count": rows.get(stage, {}).get("count", 0),
            "amount": _money(rows.get(stage, {}).get("amount")),
        }
        for stage in OPEN_STAGES
    ]


def reviews_within_target(*, user: User, months: list[date]) -> list[dict]:
    """Reviews answered per month (by the month of the answer) and how many were answered
    within their due time: the review queue's answered_month and within_target lists. Counted
    per review, as the queue lists them (a review changed after its reply gets a second task).
    One query on the answered_at index; the database counts, nothing is loaded row by row."""
    rows = (
        ReviewTask.objects.visible_to(user)
        .filter(
            state=TaskState.ANSWERED,
            answered_at__gte=local_midnight(months[0]),
            answered_at__lt=local_midnight(add_months(months[-1], 1)),
        )
        .annotate(month=TruncMonth("answered_at"))
        .values("month")
        .annotate(
            answered=Count("review", distinct=True),
            within=Count("review", distinct=True, filter=Q(answered_at__lte=F("due_at"))),
        )
    )
    found: dict[date, dict] = {}
    for row in rows:
        entry = found.setdefault(_month_of(row["month"]), {"answered": 0, "within": 0})
        entry["answered"] += row["answered"]
        entry["within"] += row["within"]
    result = []
    for month in months:
        entry = found.get(month, {"answered": 0, "within": 0})
        share = round(100 * entry["within"] / entry["answered"], 1) if entry["answered"] else None
        result.append({"month": month, **entry, "share": share})
    return result


def activity_by_agent(*, user: User, month: date) -> list[dict]:
    """Per sales agent over the month: meetings held, proposals handed over and contracts
    signed, as the KPI page counts them for that agent (three queries)."""
    start, end = local_midnight(month), local_midnight(add_months(month, 1))
    visits = {
        row["agent"]: row
        for row in Visit.objects.visible_to(user)
        .filter(status=VisitStatus.DONE, start__gte=start, start__lt=end)
        .values("agent")
        .annotate(
            meetings=Count("pk", filter=Q(kind=VisitKind.VISIT)),
            proposals=Count("pk", filter=Q(pack_offered__isnull=False)),
        )
    }
    signed = dict(
        Contract.objects.visible_to(user)
        .filter(signed_at__gte=start, signed_at__lt=end)
        .exclude(status=ContractStatus.DRAFT)
        .values("signed_by")
        .annotate(count=Count("pk"))
        .values_list("signed_by", "count")
    )
    agents = list(
        User.objects.filter(
            Q(groups__name=RoleName.SALES_AGENT, is_active=True) | Q(pk__in=[*visits, *signed])
        ).distinct()
    )
    rows = [
        {
            "agent_id": agent.pk,
            "name": agent.get_display_name(),
            "meetings": visits.get(agent.pk, {}).get("meetings", 0),
            "proposals": visits.get(agent.pk, {}).get("proposals", 0),
            "contracts": signed.get(agent.pk, 0),
        }
        for agent in agents
    ]
    rows.sort(key=lambda row: (-row["meetings"], -row["contracts"], row["name"].lower()))
    return rows


def target_progress(*, agent: User, month: date, bonus_rate: Decimal) -> dict:
    """The agent's month against their target, as the KPI page computes it for one month: new
    monthly revenue of the contracts they signed (at the price signed), clients they converted,
    and the estimated bonus on what exceeds the revenue target. One query: each figure is a
    subquery on the agent's row."""
    start, end = local_midnight(month), local_midnight(add_months(month, 1))
    target = SalesTarget.objects.filter(agent=OuterRef("pk"), month=month)
    signed = (
        Contract.objects.filter(signed_by=OuterRef("pk"), signed_at__gte=start, signed_at__lt=end)
        .exclude(status=ContractStatus.DRAFT)
        .values("signed_by")
    )
    # Terms are unique per (contract, day): the join keeps one row per contract, its first terms.
    signed_price = signed.filter(terms__starts_on=F("start_date")).annotate(
        total=Sum("terms__monthly_price")
    )
    converted = (
        ConversionRequest.objects.filter(
            requested_by=OuterRef("pk"),
            status=RequestStatus.APPLIED,
            decided_at__gte=start,
            decided_at__lt=end,
        )
        .values("requested_by")
        .annotate(count=Count("pk"))
    )
    row = (
        User.objects.filter(pk=agent.pk)
        .annotate(
            revenue_target=Subquery(target.values("new_monthly_revenue")[:1]),
            clients_target=Subquery(target.values("new_clients")[:1]),
            contracts=Subquery(signed.annotate(count=Count("pk")).values("count")[:1]),
            new_mrr=Subquery(signed_price.values("total")[:1]),
            clients=Subquery(converted.values("count")[:1]),
        )
        .values("revenue_target", "clients_target", "contracts", "new_mrr", "clients")
        .get()
    )
    actual = _money(row["new_mrr"])
    has_target = row["revenue_target"] is not None
    revenue_target = _money(row["revenue_target"]) if has_target else None
    bonus = None
    if has_target:
        over = max(actual - revenue_target, Decimal(0))
        bonus = (over * bonus_rate / 100).quantize(Decimal("0.01"))
    return {
        "month": month,
        "contracts": row["contracts"] or 0,
        "actual_revenue": actual,
        "actual_clients": row["clients"] or 0,
        "revenue_target": revenue_target,
        "clients_target": row["clients_target"] if has_target else None,
        "bonus": bonus,
        "rate": bonus_rate,
        "progress": min(100, round(100 * actual / revenue_target)) if revenue_target else None,
    }


def restaurants_without_community_manager(*, user: User) -> int:
    """Active clients nobody manages socially (the restaurant list's "none" filter)."""
    return (
        Restaurant.objects.visible_to(user)
        .active()
        .filter(status=RestaurantStatus.CLIENT, community_manager__isnull=True)
        .count()
    )


def with_total(queryset: QuerySet, limit: int) -> tuple[list, int]:
    """The first `limit` rows and the size of the whole selection, in one query (a window
    count rides on each row)."""
    rows = list(queryset.annotate(selection_size=Window(Count("pk")))[:limit])
    return rows, (rows[0].selection_size if rows else 0)


def pending_request_lists(*, user: User, limit: int = 5) -> dict:
    """The pending change and conversion requests the user sees: the newest and the counts
    (two queries)."""
    pending = pending_requests(user=user)
    changes, change_count = with_total(pending["changes"], limit)
    conversions, conversion_count = with_total(pending["conversions"], limit)
    return {
        "changes": changes,
        "change_count": change_count,
        "conversions": conversions,
        "conversion_count": conversion_count,
    }


def response_time_trend(*, user: User, months: list[date]) -> list[dict]:
    """Median and 90th-percentile response time (hours) and share within target per month of the
    answer, all networks together, for the user's queue: the review statistics' definitions
    (opened to answered; within target when answered by the due time). One query on the
    answered_at range; the database subtracts and splits the month, so only a duration and a
    flag per task come back to be ordered here."""
    rows = (
        ReviewTask.objects.visible_to(user)
        .filter(
            state=TaskState.ANSWERED,
            answered_at__gte=local_midnight(months[0]),
            answered_at__lt=local_midnight(add_months(months[-1], 1)),
        )
        .annotate(
            year=ExtractYear("answered_at"),
            month=ExtractMonth("answered_at"),
            took=ExpressionWrapper(F("answered_at") - F("opened_at"), output_field=DurationField()),
            within=ExpressionWrapper(Q(answered_at__lte=F("due_at")), output_field=BooleanField()),
        )
        .values_list("year", "month", "took", "within", "review_id")
        .order_by()
    )
    by_month: dict[date, tuple[list[float], set[int], set[int]]] = {}
    for year, month, took, within, review in rows:
        hours, answered, in_time = by_month.setdefault(date(year, month, 1), ([], set(), set()))
        hours.append(took.total_seconds() / 3600)
        answered.add(review)
        if within:
            in_time.add(review)
    result = []
    for month in months:
        hours, answered, in_time = by_month.get(month, ([], set(), set()))
        hours.sort()
        result.append(
            {
                "month": month,
                # Reviews, as the queue lists them; the times are those of every answer.
                "answered": len(answered),
                "within": len(in_time),
                "share": round(100 * len(in_time) / len(answered), 1) if answered else None,
                "median_hours": round(statistics.median(hours), 1) if hours else None,
                "p90_hours": round(_nearest_rank(hours, 0.9), 1) if hours else None,
            }
        )
    return result


def _nearest_rank(ordered: list[float], fraction: float) -> float:
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def unanswered_review_count(*, user: User) -> int:
    """Reviews of the user's queue without a reply (the queue's "answered: no" filter)."""
    return Review.objects.visible_to(user).unanswered().count()
