"""The pipeline: opportunities on a kanban by stage, moved by drag and drop (or the card's form)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Avg
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sales import selectors, services
from sales.enums import Stage
from sales.forms import OpportunityForm
from sales.models import LostReason, Opportunity, SalesSettings, StageChange


@login_required
@permission_required("sales.view_opportunity", raise_exception=True)
def pipeline(request: HttpRequest) -> HttpResponse:
    agent = selectors.agenda_agent(user=request.user, requested=_int(request.GET.get("agent")))
    opportunities = list(
        Opportunity.objects.visible_to(request.user)
        .filter(owner=agent)
        .select_related("restaurant", "pack", "lost_reason")
        .order_by("stage_changed_at", "id")
    )
    idle_days = SalesSettings.load().opportunity_idle_days
    columns = []
    for stage, label in Stage.choices:
        cards = [o for o in opportunities if o.stage == stage]
        for card in cards:
            card.idle = services.opportunity_is_idle(card, idle_days)
        columns.append(
            {
                "stage": stage,
                "label": label,
                "cards": cards,
                "total": sum(c.monthly_amount for c in cards),
            }
        )
    averages = dict(
        StageChange.objects.filter(opportunity__owner=agent)
        .values_list("from_stage")
        .annotate(seconds=Avg("seconds_in_stage"))
    )
    for column in columns:
        seconds = averages.get(column["stage"])
        column["average_days"] = round(seconds / 86400, 1) if seconds is not None else None
    return render(
        request,
        "sales/pipeline.html",
        {
            "agent": agent,
            "agents": services.users_with_sales_role()
            if request.user.has_perm("sales.view_all_opportunities")
            else [],
            "columns": columns,
            "stages": Stage.choices,
            "lost_reasons": LostReason.objects.all(),
            "form": OpportunityForm(user=request.user),
            "idle_days": idle_days,
        },
    )


def _int(value) -> int | None:
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def opportunity_create(request: HttpRequest) -> HttpResponse:
    form = OpportunityForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.opportunity_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Opportunity added."))
    else:
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
    return redirect("sales:pipeline")


@login_required
@require_POST
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_object_or_404(
        Opportunity.objects.visible_to(request.user).select_related("restaurant", "pack"), pk=pk
    )
    stage = request.POST.get("stage", "")
    reason = LostReason.objects.filter(pk=_int(request.POST.get("lost_reason"))).first()
    try:
        services.opportunity_move(
            opportunity=opportunity, by=request.user, stage=stage, lost_reason=reason
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("sales:pipeline")
    if stage == Stage.WON:
        # Won: straight to the contract form, filled with the deal's terms.
        params = {
            "pack": opportunity.pack_id or "",
            "monthly_price": opportunity.monthly_amount,
            "start_date": timezone.localdate().isoformat(),
        }
        return redirect(
            f"{reverse('sales:contract_create', args=[opportunity.restaurant_id])}?{urlencode(params)}"
        )
    messages.success(
        request, _("Opportunity moved to “%(stage)s”.") % {"stage": Stage(stage).label}
    )
    return redirect("sales:pipeline")
