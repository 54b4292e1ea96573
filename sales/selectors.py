"""Reads of the sales app, scoped through visible_to(user)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from crm.enums import RestaurantStatus
from crm.models import Restaurant
from sales.enums import ContractStatus
from sales.models import (
    Contract,
    ContractTerm,
    Invoice,
    SalesSettings,
    Suspension,
    Visit,
    VisitFormNode,
    add_months,
)


def _with_terms(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("restaurant", "signed_by").prefetch_related(
        Prefetch(
            "terms", queryset=ContractTerm.objects.select_related("pack").order_by("starts_on")
        )
    )


def contract_list(
    *,
    user: User,
    status: str = "",
    ending_within: int | None = None,
    pack: str = "",
    lost_in: date | None = None,
    signed_in: date | None = None,
    signed_by: int | None = None,
) -> QuerySet:
    """`pack`: the code of the pack in force today, or "none" for contracts whose first terms
    start later. `lost_in`: the first day of a month: the clients lost that month, one row each
    (their last contract ended that month, the restaurant now a former client). `signed_in`:
    the first day of a month: the contracts signed that month (local time), drafts aside as
    the KPIs count them (a prospect's draft is signed once the accountant creates the client).
    `signed_by`: the id of the user who signed them."""
    queryset = _with_terms(Contract.objects.visible_to(user))
    if status in ContractStatus.values:
        queryset = queryset.filter(status=status)
    if signed_in is not None:
        queryset = queryset.filter(
            signed_at__gte=_local_midnight(signed_in),
            signed_at__lt=_local_midnight(add_months(signed_in, 1)),
        ).exclude(status=ContractStatus.DRAFT)
    if signed_by is not None:
        queryset = queryset.filter(signed_by_id=signed_by)
    if pack:
        # The pack of the terms in force today (an upgrade moves the contract to its new pack).
        in_force = ContractTerm.objects.filter(
            contract=OuterRef("pk"), starts_on__lte=timezone.localdate()
        ).order_by("-starts_on")
        queryset = queryset.annotate(pack_in_force=Subquery(in_force.values("pack__code")[:1]))
        if pack == "none":
            queryset = queryset.filter(pack_in_force__isnull=True)
        else:
            queryset = queryset.filter(pack_in_force=pack)
    if lost_in is not None:
        ended = Contract.objects.filter(
            status=ContractStatus.ENDED,
            ended_at__gte=lost_in,
            ended_at__lt=add_months(lost_in, 1),
            restaurant__status=RestaurantStatus.FORMER,
        )
        later = ended.filter(restaurant=OuterRef("restaurant"), ended_at__gt=OuterRef("ended_at"))
        same_day = ended.filter(
            restaurant=OuterRef("restaurant"), ended_at=OuterRef("ended_at"), pk__gt=OuterRef("pk")
        )
        queryset = queryset.filter(pk__in=ended.values("pk")).exclude(
            Exists(later) | Exists(same_day)
        )
    if ending_within is not None:
        today = timezone.localdate()
        queryset = queryset.filter(
            status__in=(ContractStatus.ACTIVE, ContractStatus.SUSPENDED),
            end_date__gte=today,
            end_date__lte=today + timedelta(days=ending_within),
            renewal__isnull=True,
        ).order_by("end_date", "id")
    return queryset


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def contract_get(*, user: User, pk: int) -> Contract:
    queryset = _with_terms(Contract.objects.visible_to(user)).prefetch_related(
        "suspensions", "invoices"
    )
    return get_object_or_404(queryset.select_related("renewal_of"), pk=pk)


def restaurant_contracts(*, restaurant: Restaurant) -> list[Contract]:
    return list(
        _with_terms(Contract.objects.filter(restaurant=restaurant)).prefetch_related("suspensions")
    )


@dataclass
class Revenue:
    this_year: Decimal
    last_year: Decimal


def restaurant_revenue(*, restaurant: Restaurant, today: date | None = None) -> Revenue:
    """Revenue (CA) of this year and of last year, from invoices."""
    year = (today or timezone.localdate()).year
    totals = dict(
        Invoice.objects.filter(restaurant=restaurant, month__year__in=(year, year - 1))
        .values_list("month__year")
        .annotate(total=Sum("amount"))
    )
    return Revenue(totals.get(year, Decimal(0)), totals.get(year - 1, Decimal(0)))


def ending_soon_days() -> int:
    return SalesSettings.load().contract_reminder_days


def agenda_agent(*, user: User, requested: int | None) -> User:
    """Whose agenda: managers pick any sales agent, everyone else sees their own."""
    if requested and requested != user.pk and user.has_perm("sales.view_all_visits"):
        agent = User.objects.filter(pk=requested, is_active=True).first()
        if agent is not None:
            return agent
    return user


def agenda_events(*, user: User, agent: User, start, end) -> QuerySet:
    """Visits of `agent` overlapping [start, end), for the calendar (one query)."""
    # Visits last less than a day: the lower bound on start keeps the (agent, start) index range
    # tight instead of reading every earlier visit of the agent.
    return (
        Visit.objects.visible_to(user)
        .filter(agent=agent, start__gte=start - timedelta(days=1), start__lt=end, end__gt=start)
        .select_related("restaurant")
        .order_by("start")
    )


@dataclass
class VisitFilters:
    agent: int | None = None
    month: date | None = None  # first day: visits starting that month (local time)
    day: date | None = None  # visits on that day (local time), as the agenda shows them
    status: str = ""
    kind: str = ""
    proposal: bool = False  # a pack was offered


def visit_list(*, user: User, filters: VisitFilters) -> QuerySet:
    """The visits `user` sees, newest first: the list behind the dashboards' visit counts
    (meetings held and proposals handed over per agent and month, today's visits). Ranges on
    `start` ride the (agent, start) and (status, start) indexes."""
    queryset = (
        Visit.objects.visible_to(user)
        .select_related("restaurant", "agent", "pack_offered")
        .order_by("-start", "-id")
    )
    if filters.agent is not None:
        queryset = queryset.filter(agent_id=filters.agent)
    if filters.month is not None:
        queryset = queryset.filter(
            start__gte=_local_midnight(filters.month),
            start__lt=_local_midnight(add_months(filters.month, 1)),
        )
    if filters.day is not None:
        # What the agenda shows on that day: visits overlapping it (see agenda_events).
        start = _local_midnight(filters.day)
        end = start + timedelta(days=1)
        queryset = queryset.filter(
            start__gte=start - timedelta(days=1), start__lt=end, end__gt=start
        )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.proposal:
        queryset = queryset.filter(pack_offered__isnull=False)
    return queryset


def visit_get(*, user: User, pk: int) -> Visit:
    return get_object_or_404(
        Visit.objects.visible_to(user).select_related("restaurant", "agent", "pack_offered"), pk=pk
    )


def restaurant_visits(
    *, restaurant: Restaurant, include_hidden: bool = False, limit: int = 20
) -> list[Visit]:
    queryset = Visit.objects.filter(restaurant=restaurant).select_related("agent", "pack_offered")
    if not include_hidden:
        hidden = SalesSettings.load().hidden_origins
        if hidden:
            queryset = queryset.exclude(origin__in=hidden)
    return list(queryset.order_by("-start", "-id")[:limit])


def visit_form_tree() -> list[dict]:
    """The active question tree, nested: [{node, children: [{node, children}]}]."""
    nodes = list(VisitFormNode.objects.filter(active=True).order_by("order", "id"))
    by_parent: dict[int | None, list[VisitFormNode]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)

    def build(parent_id):
        return [{"node": node, "children": build(node.pk)} for node in by_parent.get(parent_id, [])]

    return build(None)


def revisit_list(*, agent: User, limit: int = 50) -> QuerySet:
    """ "To revisit": the agent's restaurants with a revisit date, soonest first."""
    return (
        Restaurant.objects.visible_to(agent)
        .active()
        .filter(sales_agent=agent, revisit_date__isnull=False)
        .select_related("zone")
        .order_by("revisit_date", "id")[:limit]
    )


def not_seen_list(*, agent: User, limit: int = 50) -> QuerySet:
    """ "Not seen for a long time": the agent's restaurants by last visit, longest ago first
    (never visited first of all)."""
    from django.db.models import F

    return (
        Restaurant.objects.visible_to(agent)
        .active()
        .filter(sales_agent=agent)
        .select_related("zone")
        .order_by(F("last_visit_at").asc(nulls_first=True), "id")[:limit]
    )


@dataclass
class InvoiceFilters:
    month: str = ""  # YYYY-MM
    q: str = ""
    pack: str = ""


def invoice_list(*, user: User, filters: InvoiceFilters) -> QuerySet:
    queryset = (
        Invoice.objects.visible_to(user).select_related("restaurant").order_by("-month", "number")
    )
    if filters.month:
        try:
            year, month = (int(part) for part in filters.month.split("-"))
            queryset = queryset.filter(month=date(year, month, 1))
        except ValueError:
            queryset = queryset.none()
    if filters.q.strip():
        from crm.selectors import restaurant_search

        queryset = queryset.filter(
            restaurant__in=restaurant_search(Restaurant.objects.all(), filters.q).values("pk")
        )
    if filters.pack:
        queryset = queryset.filter(pack_name=filters.pack)
    return queryset


def invoice_total(queryset: QuerySet) -> Decimal:
    return queryset.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def restaurants_with_service(*, service: str, day: date | None = None) -> QuerySet:
    """Ids of the restaurants whose contract in force on `day` includes a pack service
    ("review_management", "monthly_report"), read from the terms in force that day. In force
    is decided by the dates, whatever the status says today: signed (not a draft), between its
    start and its end, not yet ended early (`ended_at` on or after the day), and no suspension
    covering the day (a contract ended or suspended since still served that day)."""
    if service not in ("review_management", "monthly_report"):
        raise ValueError(service)
    day = day or timezone.localdate()
    service_on_day = (
        ContractTerm.objects.filter(contract=OuterRef("pk"), starts_on__lte=day)
        .order_by("-starts_on")
        .values(f"pack__{service}")[:1]
    )
    suspended = Suspension.objects.filter(contract=OuterRef("pk"), start_date__lte=day).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=day)
    )
    return (
        Contract.objects.filter(start_date__lte=day, end_date__gte=day)
        .exclude(status=ContractStatus.DRAFT)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=day))
        .exclude(Exists(suspended))
        .annotate(has_service=Subquery(service_on_day))
        .filter(has_service=True)
        .values("restaurant_id")
    )


def terms_in_force(*, restaurant_id: int, day: date | None = None) -> ContractTerm | None:
    """The terms of the restaurant's contract active on `day` (posts per month, price, pack)."""
    day = day or timezone.localdate()
    return (
        ContractTerm.objects.filter(
            contract__restaurant_id=restaurant_id,
            contract__status__in=(ContractStatus.ACTIVE, ContractStatus.SUSPENDED),
            contract__start_date__lte=day,
            contract__end_date__gte=day,
            starts_on__lte=day,
        )
        .select_related("pack")
        .order_by("-contract__start_date", "-starts_on")
        .first()
    )
