"""Field statistics of one sales agent over a period of months (/stats/field/).

Four figures (definitions in docs/decisions.md, "Field statistics"):
- visits: the agent's done in-person visits per month, stacked by the restaurant's commercial
  segment, visits made while the restaurant was a prospect as their own series;
- proposals: the agent's done agenda events (any kind) with a pack offered, per pack and month;
- revenue: invoices of the period's months on contracts the agent signed, and the contracts they
  signed in the period (count, new monthly revenue, total contract value);
- coverage: the share of the agent's clients visited against the share of their prospects visited.

Two layers, so the offline field kit can compute the same figures from an agent's local data:
`compute()` is a pure function over plain rows (no ORM, no request); `field_stats()` reads those
rows for one agent with a fixed number of queries on indexed columns and hands them to it. Who may
see which agent's statistics is decided by the view, before any of this runs.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm.enums import RestaurantStatus
from crm.models import Restaurant
from sales.enums import ContractStatus, VisitKind, VisitStatus
from sales.models import (
    Contract,
    ContractTerm,
    Invoice,
    Pack,
    Visit,
    add_months,
    first_of_month,
    parse_month,
)

# One A4 page holds two years of monthly bars legibly.
MAX_MONTHS = 24


@dataclass(frozen=True)
class Period:
    start: date  # first day of the first month
    end: date  # first day of the month after the last one
    shortened: bool = False  # the request asked for more than MAX_MONTHS

    @property
    def last(self) -> date:
        return add_months(self.end, -1)

    @property
    def months(self) -> list[date]:
        months, month = [], self.start
        while month < self.end:
            months.append(month)
            month = add_months(month, 1)
        return months


def period_from_params(first: str | None, last: str | None, *, today: date) -> Period:
    """The months between two YYYY-MM values, both included; by default the last twelve months
    (as on the sales KPI page). Reversed bounds are swapped; a period longer than MAX_MONTHS keeps
    its last months."""
    this_month = first_of_month(today)
    start = parse_month(first, add_months(this_month, -11))
    final = parse_month(last, this_month)
    if final < start:
        start, final = final, start
    shortened = False
    if add_months(start, MAX_MONTHS) <= final:
        start, shortened = add_months(final, 1 - MAX_MONTHS), True
    return Period(start=start, end=add_months(final, 1), shortened=shortened)


# The rows the figures are computed from: what the offline kit also holds for its agent.


@dataclass(frozen=True)
class VisitRow:
    """One done agenda event of the agent."""

    day: date  # in the site's time zone
    kind: str  # VisitKind
    restaurant_id: int
    segment: str  # the restaurant's segment, "" without one
    while_prospect: bool  # the restaurant was a prospect when visited
    pack: str = ""  # the pack offered, "" when none


@dataclass(frozen=True)
class PortfolioRow:
    """A restaurant assigned to the agent today (not archived)."""

    restaurant_id: int
    status: str  # RestaurantStatus


@dataclass(frozen=True)
class InvoiceRow:
    """Invoiced amount of one month on contracts the agent signed (one row or several a month)."""

    month: date
    amount: Decimal


@dataclass(frozen=True)
class ContractRow:
    """A contract the agent signed (drafts excluded)."""

    signed_on: date  # in the site's time zone
    monthly_price: Decimal  # on the terms it was signed on
    duration_months: int


@dataclass(frozen=True)
class Series:
    label: str
    values: list  # one value per month of the period


@dataclass(frozen=True)
class Coverage:
    """How many restaurants of one kind the agent has, and how many of them they visited."""

    total: int
    visited: int

    @property
    def share(self) -> float | None:
        """Percentage visited, one decimal; None when the agent has none."""
        return round(100 * self.visited / self.total, 1) if self.total else None


@dataclass(frozen=True)
class FieldStats:
    months: list[date]
    visits: list[Series]  # segments in grid order, then "no segment", then prospects
    proposals: list[Series]  # one per pack offered, in the packs' order
    invoiced: list[Decimal]  # per month
    visits_total: int
    client_visits: int
    prospect_visits: int
    proposals_total: int
    invoiced_total: Decimal
    contracts_signed: int
    new_monthly_revenue: Decimal
    contract_value: Decimal
    clients: Coverage
    prospects: Coverage


def _ordered(names: Iterable[str], order: Sequence[str]) -> list[str]:
    """`names` in the given order, those the order does not know after it, alphabetically."""
    names = set(names)
    known = [name for name in order if name in names]
    return known + sorted(names - set(known))


def compute(
    *,
    period: Period,
    visits: Iterable[VisitRow],
    portfolio: Iterable[PortfolioRow],
    invoices: Iterable[InvoiceRow] = (),
    contracts: Iterable[ContractRow] = (),
    segments: Sequence[str] = (),
    packs: Sequence[str] = (),
) -> FieldStats:
    """The field statistics from plain rows; rows outside the period are ignored.

    `segments` and `packs` give the order of the series (the commercial grid's, the packs');
    names they do not list come after, alphabetically.
    """
    months = period.months
    index = {month: position for position, month in enumerate(months)}
    empty = [0] * len(months)

    by_segment: dict[str, list[int]] = {}
    no_segment = list(empty)
    prospect_visits = list(empty)
    by_pack: dict[str, list[int]] = {}
    visited: set[int] = set()
    for row in visits:
        position = index.get(first_of_month(row.day))
        if position is None:
            continue
        if row.pack:
            by_pack.setdefault(row.pack, list(empty))[position] += 1
        if row.kind != VisitKind.VISIT:
            continue
        visited.add(row.restaurant_id)
        if row.while_prospect:
            prospect_visits[position] += 1
        elif row.segment:
            by_segment.setdefault(row.segment, list(empty))[position] += 1
        else:
            no_segment[position] += 1

    visit_series = [Series(name, by_segment[name]) for name in _ordered(by_segment, segments)]
    if any(no_segment):
        visit_series.append(Series(_("No segment"), no_segment))
    visit_series.append(Series(_("Prospects"), prospect_visits))
    proposal_series = [Series(name, by_pack[name]) for name in _ordered(by_pack, packs)]

    invoiced = [Decimal("0.00")] * len(months)
    for row in invoices:
        position = index.get(first_of_month(row.month))
        if position is not None:
            invoiced[position] += row.amount

    signed = [row for row in contracts if first_of_month(row.signed_on) in index]

    clients = prospects = clients_visited = prospects_visited = 0
    for row in portfolio:
        seen = row.restaurant_id in visited
        if row.status == RestaurantStatus.CLIENT:
            clients += 1
            clients_visited += seen
        elif row.status == RestaurantStatus.PROSPECT:
            prospects += 1
            prospects_visited += seen

    visits_total = sum(sum(series.values) for series in visit_series)
    return FieldStats(
        months=months,
        visits=visit_series,
        proposals=proposal_series,
        invoiced=invoiced,
        visits_total=visits_total,
        client_visits=visits_total - sum(prospect_visits),
        prospect_visits=sum(prospect_visits),
        proposals_total=sum(sum(series.values) for series in proposal_series),
        invoiced_total=sum(invoiced, Decimal("0.00")),
        contracts_signed=len(signed),
        new_monthly_revenue=sum((row.monthly_price for row in signed), Decimal("0.00")),
        contract_value=sum(
            (row.monthly_price * row.duration_months for row in signed), Decimal("0.00")
        ),
        clients=Coverage(clients, clients_visited),
        prospects=Coverage(prospects, prospects_visited),
    )


def _decimal(value) -> Decimal:
    """Sums and subqueries come back as Decimal or float depending on the database."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def field_stats(*, agent: User, period: Period) -> FieldStats:
    """The statistics of `agent` over `period`, read in five queries whatever the data size."""
    tz = timezone.get_current_timezone()
    since = datetime(period.start.year, period.start.month, 1, tzinfo=tz)
    until = datetime(period.end.year, period.end.month, 1, tzinfo=tz)

    # The (agent, start) index bounds the scan to the agent's period.
    visit_rows = list(
        Visit.objects.filter(agent=agent, start__gte=since, start__lt=until)
        .filter(status=VisitStatus.DONE)
        .order_by()
        .values_list(
            "start",
            "kind",
            "restaurant_id",
            "restaurant__segment__order",
            "restaurant__segment__name",
            "while_prospect",
            "pack_offered_id",
        )
    )
    pack_ids = {row[6] for row in visit_rows if row[6]}
    # Pack names are translated: read through the model, in the packs' order.
    packs = {pack.pk: str(pack.name) for pack in Pack.objects.filter(pk__in=pack_ids)}
    segments = sorted({(row[3], row[4]) for row in visit_rows if row[4]})
    visits = [
        VisitRow(
            day=timezone.localtime(start, tz).date(),
            kind=kind,
            restaurant_id=restaurant_id,
            segment=segment or "",
            while_prospect=while_prospect,
            pack=packs.get(pack_id, "") if pack_id else "",
        )
        for start, kind, restaurant_id, _order, segment, while_prospect, pack_id in visit_rows
    ]

    portfolio = [
        PortfolioRow(restaurant_id=pk, status=status)
        for pk, status in Restaurant.objects.filter(
            sales_agent=agent, status__in=(RestaurantStatus.CLIENT, RestaurantStatus.PROSPECT)
        )
        .active()
        .order_by()
        .values_list("pk", "status")
    ]

    invoices = [
        InvoiceRow(month=month, amount=_decimal(total))
        for month, total in Invoice.objects.filter(
            contract__signed_by=agent, month__gte=period.start, month__lt=period.end
        )
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("month")
        .values_list("month", "total")
    ]

    # The terms each contract was signed on (those starting on its first day), as the KPIs read.
    signed_terms = ContractTerm.objects.filter(
        contract=OuterRef("pk"), starts_on=OuterRef("start_date")
    )
    contracts = [
        ContractRow(
            signed_on=timezone.localtime(signed_at, tz).date(),
            monthly_price=_decimal(price),
            duration_months=duration,
        )
        for signed_at, price, duration in Contract.objects.filter(
            signed_by=agent, signed_at__gte=since, signed_at__lt=until
        )
        .exclude(status=ContractStatus.DRAFT)
        .annotate(price=Subquery(signed_terms.values("monthly_price")[:1]))
        .order_by()
        .values_list("signed_at", "price", "duration_months")
    ]

    return compute(
        period=period,
        visits=visits,
        portfolio=portfolio,
        invoices=invoices,
        contracts=contracts,
        segments=[name for _order, name in segments],
        packs=list(packs.values()),
    )
