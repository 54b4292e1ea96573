import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import selectors as crm_selectors
from crm.views import ListFilters, form_errors, query_without
from sales import selectors, services
from sales.enums import ContractStatus, VisitKind, VisitStatus
from sales.forms import ContractForm, EndForm, RenewForm, ResumeForm, SuspendForm, UpgradeForm

PAGE_SIZE = 50
# The contract list's filters shown as badges, each with its own link to drop it.
FILTERS_SHOWN = ("signed", "signed_by", "lost")


@login_required
@permission_required("sales.view_contract", raise_exception=True)
def contract_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    ending = request.GET.get("ending") == "1"
    pack = request.GET.get("pack", "")[:40]
    filters = ListFilters(request)
    lost = filters.month("lost", _("Lost in"))
    signed = filters.month("signed", _("Signed in"))
    signed_by = filters.user("signed_by", _("Signed by"))
    queryset = selectors.contract_list(
        user=request.user,
        status=status,
        ending_within=selectors.ending_soon_days() if ending else None,
        pack=pack,
        lost_in=lost,
        signed_in=signed,
        signed_by=signed_by.pk if signed_by else None,
    )
    if filters.errors:
        queryset = queryset.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/contract_list.html",
        {
            "page": page,
            "status": status,
            "ending": ending,
            "pack": pack,
            "lost": lost,
            "signed": signed,
            "signed_by": signed_by,
            "filter_errors": filters.errors,
            "clear": {name: query_without(request, name, "page") for name in FILTERS_SHOWN},
            "statuses": ContractStatus.choices,
            "query": query_without(request, "page"),
        },
    )


@login_required
@permission_required("sales.view_visit", raise_exception=True)
def visit_list(request: HttpRequest) -> HttpResponse:
    """The visits the user sees, filtered by agent, month or day, status, kind and whether a
    pack was offered: the list behind the dashboards' visit counts."""
    filters = ListFilters(request)
    agent = filters.user("agent", _("Sales agent"))
    selection = selectors.VisitFilters(
        agent=agent.pk if agent else None,
        month=filters.month("month", _("Month")),
        day=filters.day("day", _("Day")),
        status=filters.choice("status", _("Status"), VisitStatus.choices),
        kind=filters.choice("kind", _("Kind"), VisitKind.choices),
        proposal=request.GET.get("proposal") == "1",
    )
    queryset = selectors.visit_list(user=request.user, filters=selection)
    if filters.errors:
        queryset = queryset.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    agents = []
    if request.user.has_perm("sales.view_all_visits"):
        agents = list(services.users_with_sales_role())
        if agent is not None and agent not in agents:
            agents.append(agent)
    return render(
        request,
        "sales/visit_list.html",
        {
            "page": page,
            "filters": selection,
            "agent": agent,
            "agents": agents,
            "filter_errors": filters.errors,
            "statuses": VisitStatus.choices,
            "kinds": VisitKind.choices,
            "query": query_without(request, "page"),
        },
    )


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(user=request.user, pk=pk)
    terms = contract.current_terms
    may_change = (
        request.user.has_perm("sales.add_contract") and contract.status != ContractStatus.ENDED
    )
    context = {
        "contract": contract,
        "terms": terms,
        "may_change": may_change,
        "upgrade_form": UpgradeForm(
            initial={
                "pack": terms.pack,
                "monthly_price": terms.monthly_price,
                "posts_per_month": terms.posts_per_month,
                "networks": terms.networks,
            }
        ),
        "suspend_form": SuspendForm(),
        "resume_form": ResumeForm(),
        "end_form": EndForm(),
        "renew_form": RenewForm(initial={"duration_months": contract.duration_months}),
    }
    return render(request, "sales/contract_detail.html", context)


_ACTIONS = {
    "upgrade": (
        UpgradeForm,
        lambda c, by, d: services.contract_upgrade(contract=c, by=by, **d),
        _("Contract changed."),
    ),
    "suspend": (
        SuspendForm,
        lambda c, by, d: services.contract_suspend(contract=c, by=by, **d),
        _("Contract suspended."),
    ),
    "resume": (
        ResumeForm,
        lambda c, by, d: services.contract_resume(contract=c, by=by, **d),
        _("Contract resumed."),
    ),
    "end": (
        EndForm,
        lambda c, by, d: services.contract_end(contract=c, by=by, **d),
        _("Contract ended."),
    ),
    "renew": (
        RenewForm,
        lambda c, by, d: services.contract_renew(contract=c, by=by, **d),
        _("Contract renewed."),
    ),
}


@login_required
@require_POST
def contract_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Upgrade, suspend, resume, end or renew: one form each on the contract page."""
    contract = selectors.contract_get(user=request.user, pk=pk)
    form_class, run, done = _ACTIONS[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            result = run(contract, request.user, form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
            if action == "renew":
                return redirect("sales:contract_detail", pk=result.pk)
    else:
        messages.error(
            request,
            " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()),
        )
    return redirect("sales:contract_detail", pk=pk)


@login_required
@permission_required("sales.add_contract", raise_exception=True)
def contract_create(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    # A won deal arrives with its terms in the query string (pack, monthly_price, start_date).
    prefill = {
        key: request.GET[key]
        for key in ("pack", "monthly_price", "start_date")
        if request.GET.get(key)
    }
    form = ContractForm(request.POST or None, initial=prefill)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contract = services.contract_sign(
                restaurant=restaurant,
                by=request.user,
                pack=data["pack"],
                start_date=data["start_date"],
                duration_months=data["duration_months"],
                monthly_price=data["monthly_price"],
                posts_per_month=data["posts_per_month"],
                networks=data["networks"] or None,
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Contract signed."))
            return redirect("sales:contract_detail", pk=contract.pk)
    return render(request, "sales/contract_form.html", {"form": form, "restaurant": restaurant})


@login_required
def restaurant_section(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    """The sales part of the restaurant page (contracts, revenue), loaded into it by htmx."""
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    return render(
        request,
        "sales/partials/restaurant_section.html",
        {
            "restaurant": restaurant,
            "contracts": selectors.restaurant_contracts(restaurant=restaurant),
            "revenue": selectors.restaurant_revenue(restaurant=restaurant),
            "visits": selectors.restaurant_visits(
                restaurant=restaurant, include_hidden=request.GET.get("hidden") == "1"
            ),
            "show_hidden": request.GET.get("hidden") == "1",
            "may_visit": request.user.has_perm("sales.add_visit") and not restaurant.is_archived,
            "may_sign": request.user.has_perm("sales.add_contract") and not restaurant.is_archived,
        },
    )


@login_required
def restaurant_summary(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    """Contact details and revenue of one restaurant, for the agent's lists (htmx panel)."""
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    return render(
        request,
        "sales/partials/restaurant_summary.html",
        {
            "restaurant": restaurant,
            "contacts": crm_selectors.restaurant_contacts(restaurant=restaurant),
            "revenue": selectors.restaurant_revenue(restaurant=restaurant),
        },
    )


@login_required
@permission_required("sales.view_invoice", raise_exception=True)
def invoice_list(request: HttpRequest) -> HttpResponse:
    """Invoices with filters (month, restaurant, pack); CSV export of the same selection."""
    filters = selectors.InvoiceFilters(
        month=request.GET.get("month", ""),
        q=request.GET.get("q", "")[:100],
        pack=request.GET.get("pack", "")[:100],
    )
    queryset = selectors.invoice_list(user=request.user, filters=filters)
    if request.GET.get("format") == "csv":
        return _invoices_csv(queryset)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sales/invoice_list.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "total": selectors.invoice_total(queryset),
        },
    )


def _invoices_csv(queryset) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="invoices-{timezone.localdate():%Y%m%d}.csv"'
    )
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(["number", "month", "client_code", "restaurant", "pack", "amount"])
    for invoice in queryset.iterator(chunk_size=2000):
        writer.writerow(
            [
                invoice.number,
                f"{invoice.month:%Y-%m}",
                invoice.restaurant.client_code or "",
                invoice.restaurant.name,
                invoice.pack_name,
                invoice.amount,
            ]
        )
    return response
