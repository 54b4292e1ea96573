from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from comadvisor.health import health_report
from reports import selectors
from sales import selectors as sales_selectors
from social import selectors as social_selectors


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page: one section per role the user holds."""
    user = request.user
    roles = selectors.dashboard_roles(user=user)
    context = {
        "roles": roles,
        "team": selectors.team_by_role(user=user),
        "logins": selectors.recent_logins(user=user),
        "failed_logins": selectors.recent_failed_logins(user=user),
        "health": health_report() if user.is_staff else None,
    }
    if user.has_perm("sales.view_contract") and (
        user.has_perm("crm.edit_own_prospects") or user.has_perm("sales.manage_contract")
    ):
        # Agents and client managers: contracts ending within the admin-set number of days.
        ending = sales_selectors.contract_list(
            user=user, ending_within=sales_selectors.ending_soon_days()
        )
        context["ending_contracts"] = list(ending[:8])
        context["ending_days"] = sales_selectors.ending_soon_days()
    if user.has_perm("crm.edit_own_prospects"):
        today = timezone.localdate()
        now = timezone.now()
        context["agent_lists"] = True
        context["to_revisit"] = [
            (restaurant, (restaurant.revisit_date - today).days)
            for restaurant in sales_selectors.revisit_list(agent=user)
        ]
        context["not_seen"] = [
            (
                restaurant,
                (now - restaurant.last_visit_at).days if restaurant.last_visit_at else None,
            )
            for restaurant in sales_selectors.not_seen_list(agent=user)
        ]
    if user.has_perm("social.manage_post") and not user.has_perm("crm.view_all_restaurants"):
        context["social_day"] = social_selectors.community_manager_day(user=user)
    if user.has_perm("social.reply_review"):
        context["reviews_overdue"] = social_selectors.overdue_count(user=user)
    return render(request, "reports/dashboard.html", context)
