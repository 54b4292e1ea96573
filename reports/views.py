from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import User
from comadvisor.health import health_report
from reports import monthly_selectors, selectors
from reports.dashboard_cache import FigureCache
from reports.dashboard_figures import figure_get
from sales import selectors as sales_selectors
from sales.enums import OPEN_STAGES, Stage
from sales.models import SalesSettings, add_months, first_of_month
from social import selectors as social_selectors


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page: one section per role the user holds, every figure a link to its list."""
    user = request.user
    roles = selectors.dashboard_roles(user=user)
    held = {str(role) for role in roles}
    today = timezone.localdate()
    charts: dict[str, dict] = {}
    context = {
        "roles": roles,
        "team": selectors.team_by_role(user=user),
        "logins": selectors.recent_logins(user=user),
        "failed_logins": selectors.recent_failed_logins(user=user),
        "health": health_report() if user.is_staff else None,
        "today": today,
        "month": first_of_month(today),
        "charts": charts,
    }
    # Admins may do what direction does: they get its overview (which reads every restaurant).
    if held & {"admin", "direction"} and user.has_perm("crm.view_all_restaurants"):
        context["direction"] = _direction(user, today, charts)
    sales_settings = None
    if held & {"client_manager", "sales_agent"}:
        # Read, never created by a page view: an absent row means the defaults.
        sales_settings = SalesSettings.objects.filter(pk=1).first() or SalesSettings()
        days = sales_settings.contract_reminder_days
        ending = sales_selectors.contract_list(user=user, ending_within=days)
        context["ending_contracts"], context["ending_count"] = selectors.with_total(ending, 8)
        context["ending_days"] = days
    if held & {"client_manager", "accountant"}:
        context["requests"] = selectors.pending_request_lists(user=user)
    if "client_manager" in held:
        context["without_community_manager"] = selectors.restaurants_without_community_manager(
            user=user
        )
    if "sales_agent" in held:
        context.update(_sales_agent(user, today, sales_settings, charts))
    if "community_manager" in held:
        context["social_day"] = social_selectors.community_manager_day(user=user)
        context["reports_due"] = monthly_selectors.reports_due(user=user)
    if "review_manager" in held:
        context.update(_review_manager(user, today, charts))
    if "accountant" in held:
        months = selectors.month_starts(today, 2)
        context["invoices"] = [
            {
                **row,
                "url": _url("sales:invoice_list", month=f"{row['month']:%Y-%m}"),
                "testid": testid,
            }
            for row, testid in zip(
                selectors.invoiced_by_month(user=user, months=months),
                ("invoices-last-month", "invoices-this-month"),
                strict=True,
            )
        ]
    return render(request, "reports/dashboard.html", context)


def _url(name: str, **params) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


def _month_label(month: date) -> str:
    return formats.date_format(month, "M Y")


def _kpis_url(month: date, **params) -> str:
    return _url("sales:kpis", **params, **{"from": f"{month:%Y-%m}", "to": f"{month:%Y-%m}"})


def _signed_url(month: date, **params) -> str:
    """The contracts signed in `month` (drafts aside, as the KPIs count them)."""
    return _url("sales:contract_list", signed=f"{month:%Y-%m}", **params)


def _won_url(month: date, **params) -> str:
    """The clients won in `month`: client creation requests applied that month."""
    return _url(
        "crm:request_inbox", status="applied", kind="conversion", decided=f"{month:%Y-%m}", **params
    )


def _done_visits_url(month: date, agent_id: int, **params) -> str:
    """The visits an agent held in `month` (as the KPIs count meetings and proposals)."""
    return _url("sales:visit_list", agent=agent_id, month=f"{month:%Y-%m}", status="done", **params)


def _direction(user: User, today: date, charts: dict) -> dict:
    """The company's overview. Every aggregate here reads the whole company: cached (see
    reports.dashboard_cache and docs/decisions.md), shared by everyone who sees every restaurant."""
    store = FigureCache(scope="all")
    month = first_of_month(today)
    last_month = add_months(month, -1)

    def figure(name: str):
        return figure_get(store, name, user=user, today=today)

    kpis = figure("month_kpis")
    billed = figure("invoiced")
    contracts = figure("packs")
    flow = figure("client_flow")
    pipeline = figure("pipeline")
    reviews = figure("reviews_within_target")
    on_time = figure("reports_on_time")
    agents = figure("agents")
    packs = contracts["packs"]

    opportunities = "admin:sales_opportunity_changelist"
    for row in billed:
        row["url"] = _url("sales:invoice_list", month=f"{row['month']:%Y-%m}")
    for row in packs:
        # "none": contracts whose first terms start later (no pack in force yet).
        row["url"] = _url("sales:contract_list", status="active", pack=row["code"] or "none")
    for row in flow:
        # New clients: the client creations applied that month; lost ones the contract list's
        # "lost" filter, one row per client.
        row["won_url"] = _won_url(row["month"])
        row["lost_url"] = _url("sales:contract_list", status="ended", lost=f"{row['month']:%Y-%m}")
    for row in pipeline:
        row["label"] = Stage(row["stage"]).label
        row["url"] = _url(opportunities, stage__exact=row["stage"])
    for row in reviews:
        row.update(_review_urls(row["month"]))
    for row in agents:
        agent_id = row["agent_id"]
        row["url"] = _kpis_url(month, agent=agent_id)
        row["meetings_url"] = _done_visits_url(month, agent_id, kind="visit")
        row["proposals_url"] = _done_visits_url(month, agent_id, proposal="1")
        row["contracts_url"] = _signed_url(month, signed_by=agent_id)

    charts["mrr"] = {
        "type": "line",
        "money": True,
        "labels": [_month_label(row["month"]) for row in billed],
        "datasets": [
            {
                "label": _("Billed (€)"),
                "data": [float(row["total"]) for row in billed],
                "urls": [row["url"] for row in billed],
            }
        ],
    }
    charts["packs"] = {
        "type": "doughnut",
        "labels": [row["name"] or _("Starting later") for row in packs],
        "datasets": [
            {
                "label": _("Active contracts"),
                "data": [row["count"] for row in packs],
                "urls": [row["url"] for row in packs],
            }
        ],
    }
    charts["flow"] = {
        "type": "bar",
        "labels": [_month_label(row["month"]) for row in flow],
        "datasets": [
            {
                "label": _("New clients"),
                "data": [row["won"] for row in flow],
                "urls": [row["won_url"] for row in flow],
            },
            {
                "label": _("Lost clients"),
                "data": [row["lost"] for row in flow],
                "urls": [row["lost_url"] for row in flow],
            },
        ],
    }
    charts["pipeline"] = {
        "type": "bar",
        "money": True,
        "labels": [str(row["label"]) for row in pipeline],
        "datasets": [
            {
                "label": _("Monthly amount (€)"),
                "data": [float(row["amount"]) for row in pipeline],
                "urls": [row["url"] for row in pipeline],
            }
        ],
    }
    charts["reviews"] = {
        "type": "line",
        "percent": True,
        "labels": [_month_label(row["month"]) for row in reviews],
        "datasets": [
            {
                "label": _("Answered within target (%)"),
                "data": [row["share"] for row in reviews],
                "urls": [row["within_url"] for row in reviews],
            }
        ],
    }
    charts["agents"] = {
        "type": "bar",
        "horizontal": True,
        "labels": [row["name"] for row in agents],
        "datasets": [
            {
                "label": label,
                "data": [row[key] for row in agents],
                "urls": [row[f"{key}_url"] for row in agents],
            }
            for key, label in (
                ("meetings", _("Meetings held")),
                ("proposals", _("Proposals handed over")),
                ("contracts", _("Contracts signed")),
            )
        ],
    }
    return {
        "kpis": kpis,
        "kpis_url": _kpis_url(month),
        "signed_url": _signed_url(month),
        "mrr_url": _url("sales:contract_list", status="active"),
        "billed": billed,
        "billed_this_month": billed[-1],
        "packs": packs,
        "active_contracts": contracts["total"],
        "flow": flow,
        "this_month_flow": flow[-1],
        "pipeline": pipeline,
        "pipeline_total": sum(row["amount"] for row in pipeline),
        "pipeline_count": sum(row["count"] for row in pipeline),
        "pipeline_url": _url(opportunities, stage__in=",".join(OPEN_STAGES)),
        "reviews": reviews,
        "reviews_this_month": reviews[-1],
        "agents": agents,
        "reports_on_time": on_time,
        "reports_url": _url("monthly_list", month=f"{last_month:%Y-%m}"),
        "reports_sent_url": _url("monthly_list", month=f"{last_month:%Y-%m}", sent="yes"),
        "reports_on_time_url": _url("monthly_list", month=f"{last_month:%Y-%m}", sent="on_time"),
    }


def _review_urls(month: date) -> dict:
    """The review queue's lists behind a month's figures: the reviews answered that month, and
    those answered within their target time."""
    answered = {"answered_month": f"{month:%Y-%m}"}
    return {
        "url": _url("social:review_queue", **answered),
        "within_url": _url("social:review_queue", **answered, within_target="1"),
    }


def _sales_agent(user: User, today: date, sales_settings: SalesSettings, charts: dict) -> dict:
    now = timezone.now()
    month = first_of_month(today)
    start = selectors.local_midnight(today)
    pipeline = selectors.pipeline_by_stage(user=user, owner=user)
    for row in pipeline:
        row["label"] = Stage(row["stage"]).label
    charts["my_pipeline"] = {
        "type": "bar",
        "money": True,
        "labels": [str(row["label"]) for row in pipeline],
        "datasets": [
            {
                "label": _("Monthly amount (€)"),
                "data": [float(row["amount"]) for row in pipeline],
                "urls": [reverse("sales:pipeline")] * len(pipeline),
            }
        ],
    }
    return {
        "agent_lists": True,
        "today_visits": list(
            sales_selectors.agenda_events(
                user=user, agent=user, start=start, end=start + timedelta(days=1)
            )
        ),
        "to_revisit": [
            (restaurant, (restaurant.revisit_date - today).days)
            for restaurant in sales_selectors.revisit_list(agent=user)
        ],
        # Past the sales settings' bound (or never visited), a row's days stand out.
        "not_seen": [
            (restaurant, days, days is None or days >= sales_settings.not_seen_days)
            for restaurant, days in (
                (r, (now - r.last_visit_at).days if r.last_visit_at else None)
                for r in sales_selectors.not_seen_list(agent=user)
            )
        ],
        "today_visits_url": _url("sales:visit_list", agent=user.pk, day=today.isoformat()),
        "target": selectors.target_progress(
            agent=user, month=month, bonus_rate=sales_settings.bonus_rate
        ),
        # The bonus is worked out on the KPI page; the revenue and the clients are lists.
        "target_url": _kpis_url(month),
        "target_revenue_url": _signed_url(month, signed_by=user.pk),
        "target_clients_url": _won_url(month, requested_by=user.pk),
        "my_pipeline": pipeline,
        "my_pipeline_total": sum(row["amount"] for row in pipeline),
        "my_pipeline_count": sum(row["count"] for row in pipeline),
    }


def _review_manager(user: User, today: date, charts: dict) -> dict:
    # Statistics of the user's own queue: cached per user, invalidated by any review write.
    trend = figure_get(
        FigureCache(scope=f"user:{user.pk}"), "response_time", user=user, today=today
    )
    trend = [{**row, **_review_urls(row["month"])} for row in trend]
    charts["response_time"] = {
        "type": "line",
        "dual": True,
        "labels": [_month_label(row["month"]) for row in trend],
        "datasets": [
            {
                "label": _("Median response time (hours)"),
                "data": [row["median_hours"] for row in trend],
                "urls": [row["url"] for row in trend],
            },
            {
                "label": _("90th percentile (hours)"),
                "data": [row["p90_hours"] for row in trend],
                "urls": [row["url"] for row in trend],
            },
            {
                "label": _("Answered within target (%)"),
                "data": [row["share"] for row in trend],
                "urls": [row["within_url"] for row in trend],
                "yAxisID": "y1",
            },
        ],
    }
    return {
        "reviews_overdue": social_selectors.overdue_count(user=user),
        "reviews_unanswered": selectors.unanswered_review_count(user=user),
        "response_trend": trend,
        "response_this_month": trend[-1],
    }
