"""Field statistics of a sales agent: the page (printable on one A4 page) and its one-page PDF.

Agents see their own statistics; whoever sees every agent's (admins, direction) chooses the agent
from a list. The figures come from reports/field_stats.py.
"""

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from reports import charts
from reports.field_stats import FieldStats, Period, field_stats, period_from_params
from reports.pdf import render_pdf
from sales.services import users_with_sales_role

logger = logging.getLogger(__name__)

VIEW_OWN = "reports.view_own_field_stats"
VIEW_ALL = "reports.view_all_field_stats"


@dataclass
class Choice:
    agent: User | None  # None: a manager has not chosen yet
    agents: list[User]  # the list to choose from; empty for an agent
    period: Period

    @property
    def query(self) -> str:
        """The choice as a query string, for the links between the page and its PDF."""
        params = {"from": f"{self.period.start:%Y-%m}", "to": f"{self.period.last:%Y-%m}"}
        if self.agent is not None:
            params = {"agent": self.agent.pk, **params}
        return urlencode(params)


def _choice(request: HttpRequest) -> Choice:
    """Whose statistics, over which months: 403 for roles without field statistics, 404 for an
    agent asking for someone else's or a manager naming someone who is not an agent."""
    user = request.user
    requested = request.GET.get("agent", "").strip()
    if user.has_perm(VIEW_ALL):
        agents = list(users_with_sales_role())
        agent = next((one for one in agents if str(one.pk) == requested), None)
        if requested and agent is None:
            raise Http404
    elif user.has_perm(VIEW_OWN):
        if requested and requested != str(user.pk):
            raise Http404
        agents, agent = [], user
    else:
        raise PermissionDenied
    period = period_from_params(
        request.GET.get("from"), request.GET.get("to"), today=timezone.localdate()
    )
    return Choice(agent=agent, agents=agents, period=period)


def _month_labels(stats: FieldStats) -> list[str]:
    return [f"{month:%m/%y}" for month in stats.months]


def _chart_data(stats: FieldStats) -> dict:
    """What static/js/field_stats.js draws (through json_script)."""
    return {
        "palette": charts.PALETTE,
        "labels": _month_labels(stats),
        "visits": [{"label": s.label, "data": s.values} for s in stats.visits],
        "proposals": [{"label": s.label, "data": s.values} for s in stats.proposals],
        "revenue": [{"label": _("Invoiced (€)"), "data": [float(v) for v in stats.invoiced]}],
        "coverage": {
            "label": _("Share visited (%)"),
            "labels": [_("Clients"), _("Prospects")],
            "data": [stats.clients.share or 0, stats.prospects.share or 0],
        },
    }


def _sparse(labels: list[str], keep: int) -> list[str]:
    """At most `keep` labels (every n-th month), so that a long period stays legible on paper."""
    step = max(1, -(-len(labels) // keep))
    return [label if index % step == 0 else "" for index, label in enumerate(labels)]


def _svg_charts(stats: FieldStats) -> dict[str, str | None]:
    """The PDF's charts as data URIs of SVG drawn by matplotlib at about their printed size; None
    for a chart with nothing to draw (the PDF says so rather than draw an empty axis)."""
    labels = _month_labels(stats)
    proposals = {s.label: s.values for s in stats.proposals}
    # A single series gets no legend from charts.bars: its name becomes the chart's title.
    only_pack = next(iter(proposals)) if len(proposals) == 1 else ""
    shares = [stats.clients.share or 0, stats.prospects.share or 0]
    drawings = {
        "visits": stats.visits_total
        and charts.bars(
            _sparse(labels, 8),
            {s.label: s.values for s in stats.visits},
            stacked=True,
            size=(3.9, 3.0),
        ),
        "proposals": stats.proposals_total
        and charts.bars(
            _sparse(labels, 6), proposals, stacked=True, title=only_pack, size=(2.8, 2.8)
        ),
        "revenue": any(stats.invoiced)
        and charts.bars(
            _sparse(labels, 6), {_("Invoiced"): stats.invoiced}, title="€", size=(3.4, 2.8)
        ),
        "coverage": any(shares)
        and charts.bars([_("Clients"), _("Prospects")], {"": shares}, title="%", size=(2.1, 3.0)),
    }
    return {name: charts.data_uri(svg) if svg else None for name, svg in drawings.items()}


@login_required
def field_stats_page(request: HttpRequest) -> HttpResponse:
    choice = _choice(request)
    stats = field_stats(agent=choice.agent, period=choice.period) if choice.agent else None
    return render(
        request,
        "reports/field_stats.html",
        {
            "choice": choice,
            "stats": stats,
            "chart": _chart_data(stats) if stats else None,
        },
    )


@login_required
def field_stats_pdf(request: HttpRequest) -> HttpResponse:
    choice = _choice(request)
    if choice.agent is None:
        return redirect(f"{reverse('field_stats')}?{choice.query}")
    stats = field_stats(agent=choice.agent, period=choice.period)
    try:
        pdf = render_pdf(
            "reports/pdf/field_stats.html",
            {
                "choice": choice,
                "stats": stats,
                "charts": _svg_charts(stats),
                "generated_at": timezone.localtime(),
            },
            request=request,
        )
    except Exception as error:  # the page stays usable (and printable) without its PDF
        logger.exception("field statistics PDF of %s failed", choice.agent.pk)
        messages.error(request, _("The PDF could not be made: %(error)s") % {"error": error})
        return redirect(f"{reverse('field_stats')}?{choice.query}")
    name = slugify(choice.agent.username) or choice.agent.pk
    filename = f"field-stats-{name}-{choice.period.start:%Y%m}-{choice.period.last:%Y%m}.pdf"
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": content_disposition_header(True, filename)},
    )
