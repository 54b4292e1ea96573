"""Sales KPIs: meetings, proposals, new clients, contracts by pack, monthly recurring revenue,
total contract value, conversion rate, targets and the estimated bonus; filters by agent, zone
and period; charts and CSV."""

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm.enums import RequestStatus
from crm.models import ConversionRequest, Zone
from sales import services
from sales.enums import ContractStatus, VisitKind, VisitStatus
from sales.models import (
    Contract,
    ContractTerm,
    SalesSettings,
    SalesTarget,
    Visit,
    add_months,
    parse_month,
)


@dataclass
class KpiFilters:
    agent: User | None
    zone: Zone | None
    start: date  # first day of the first month
    end: date  # first day of the month after the last one


def filters_from_request(request: HttpRequest) -> KpiFilters:
    this_month = timezone.localdate().replace(day=1)
    start = parse_month(request.GET.get("from"), add_months(this_month, -11))
    last = parse_month(request.GET.get("to"), this_month)
    if last < start:
        start, last = last, start
    agent = None
    if request.user.has_perm("sales.view_all_opportunities"):
        agent_id = request.GET.get("agent")
        agent = (
            User.objects.filter(pk=agent_id).first() if agent_id and agent_id.isdigit() else None
        )
    else:
        agent = request.user
    zone_id = request.GET.get("zone")
    zone = Zone.objects.filter(pk=zone_id).first() if zone_id and zone_id.isdigit() else None
    return KpiFilters(agent=agent, zone=zone, start=start, end=add_months(last, 1))


CENT = Decimal("0.01")


def _money(value) -> Decimal:
    """Sums come back as Decimal or float depending on the database: one form for display."""
    return Decimal(str(value or 0)).quantize(CENT)


def _first_terms():
    """The terms each contract was signed on."""
    return ContractTerm.objects.filter(contract=OuterRef("pk"), starts_on=OuterRef("start_date"))


def compute(filters: KpiFilters) -> dict:
    tz = timezone.get_current_timezone()
    since = timezone.datetime(filters.start.year, filters.start.month, 1, tzinfo=tz)
    until = timezone.datetime(filters.end.year, filters.end.month, 1, tzinfo=tz)

    visits = Visit.objects.filter(status=VisitStatus.DONE, start__gte=since, start__lt=until)
    contracts = Contract.objects.filter(signed_at__gte=since, signed_at__lt=until).exclude(
        status=ContractStatus.DRAFT
    )
    conversions = ConversionRequest.objects.filter(
        status=RequestStatus.APPLIED, decided_at__gte=since, decided_at__lt=until
    )
    active = Contract.objects.filter(status=ContractStatus.ACTIVE)
    if filters.agent:
        visits = visits.filter(agent=filters.agent)
        contracts = contracts.filter(signed_by=filters.agent)
        conversions = conversions.filter(requested_by=filters.agent)
        active = active.filter(restaurant__sales_agent=filters.agent)
    if filters.zone:
        visits = visits.filter(restaurant__zone=filters.zone)
        contracts = contracts.filter(restaurant__zone=filters.zone)
        conversions = conversions.filter(restaurant__zone=filters.zone)
        active = active.filter(restaurant__zone=filters.zone)

    visit_counts = visits.aggregate(
        meetings=Count("pk", filter=Q(kind=VisitKind.VISIT)),
        proposals=Count("pk", filter=Q(pack_offered__isnull=False)),
        prospects_visited=Count("restaurant", filter=Q(while_prospect=True), distinct=True),
    )
    signed = contracts.annotate(
        price=Subquery(_first_terms().values("monthly_price")[:1]),
        pack_name=Subquery(_first_terms().values("pack__name")[:1]),
    )
    value = ExpressionWrapper(
        F("price") * F("duration_months"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    totals = signed.aggregate(count=Count("pk"), new_mrr=Sum("price"), tcv=Sum(value))
    by_pack = list(
        signed.values("pack_name")
        .annotate(count=Count("pk"), mrr=Sum("price"))
        .order_by("-count", "pack_name")
    )
    monthly = {
        row["month"].date() if hasattr(row["month"], "date") else row["month"]: row
        for row in signed.annotate(month=TruncMonth("signed_at", tzinfo=tz))
        .values("month")
        .annotate(count=Count("pk"), mrr=Sum("price"))
    }
    current_price = ContractTerm.objects.filter(
        contract=OuterRef("pk"), starts_on__lte=timezone.localdate()
    ).order_by("-starts_on")
    mrr = active.annotate(price=Subquery(current_price.values("monthly_price")[:1])).aggregate(
        total=Sum("price")
    )["total"]
    new_clients = conversions.count()

    months = []
    month = filters.start
    while month < filters.end:
        row = monthly.get(month, {})
        months.append(
            {
                "month": month,
                "contracts": row.get("count", 0),
                "new_mrr": _money(row.get("mrr")),
            }
        )
        month = add_months(month, 1)

    target = None
    if filters.agent:
        target_row = SalesTarget.objects.filter(
            agent=filters.agent, month__gte=filters.start, month__lt=filters.end
        ).aggregate(revenue=Sum("new_monthly_revenue"), clients=Sum("new_clients"))
        if target_row["revenue"] is not None:
            rate = SalesSettings.load().bonus_rate
            actual = _money(totals["new_mrr"])
            over = max(actual - target_row["revenue"], Decimal(0))
            target = {
                "revenue": _money(target_row["revenue"]),
                "clients": target_row["clients"] or 0,
                "actual_revenue": actual,
                "actual_clients": new_clients,
                "bonus": (over * rate / 100).quantize(Decimal("0.01")),
                "rate": rate,
            }
    prospects = visit_counts["prospects_visited"]
    return {
        "meetings": visit_counts["meetings"],
        "proposals": visit_counts["proposals"],
        "new_clients": new_clients,
        "conversion_rate": round(100 * new_clients / prospects, 1) if prospects else None,
        "contracts": totals["count"],
        "new_mrr": _money(totals["new_mrr"]),
        "tcv": _money(totals["tcv"]),
        "mrr": _money(mrr),
        "by_pack": by_pack,
        "months": months,
        "target": target,
    }


@login_required
@permission_required("sales.view_opportunity", raise_exception=True)
def kpis(request: HttpRequest) -> HttpResponse:
    filters = filters_from_request(request)
    figures = compute(filters)
    if request.GET.get("format") == "csv":
        return _csv(filters, figures)
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "sales/kpis.html",
        {
            "filters": filters,
            "figures": figures,
            "agents": services.users_with_sales_role()
            if request.user.has_perm("sales.view_all_opportunities")
            else [],
            "zones": Zone.objects.all(),
            "last_month": add_months(filters.end, -1),
            "query": query.urlencode(),
            "chart": {
                "labels": [f"{row['month']:%m/%Y}" for row in figures["months"]],
                "contracts": [row["contracts"] for row in figures["months"]],
                "mrr": [float(row["new_mrr"]) for row in figures["months"]],
                "contracts_label": _("Contracts signed"),
                "mrr_label": _("New monthly revenue (€)"),
                "packs": [row["pack_name"] or "-" for row in figures["by_pack"]],
                "pack_counts": [row["count"] for row in figures["by_pack"]],
            },
        },
    )


def _csv(filters: KpiFilters, figures: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="kpis-{filters.start:%Y%m}-{add_months(filters.end, -1):%Y%m}.csv"'
    )
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(["month", "contracts", "new_monthly_revenue"])
    for row in figures["months"]:
        writer.writerow([f"{row['month']:%Y-%m}", row["contracts"], row["new_mrr"]])
    writer.writerow([])
    for key in (
        "meetings",
        "proposals",
        "new_clients",
        "conversion_rate",
        "contracts",
        "new_mrr",
        "tcv",
        "mrr",
    ):
        writer.writerow([key, figures[key] if figures[key] is not None else ""])
    return response
