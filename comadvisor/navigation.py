"""The main navigation, declared once: a link shows when its permission check passes.

Each later page adds its row here; `perm` is a permission name, "staff" for Django admin, or None
for every logged-in user.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: Promise
    icon: str
    # A permission, a tuple of alternatives (any one suffices), "staff", or None for everyone.
    perm: str | tuple[str, ...] | None = None


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("dashboard", _("Dashboard"), "speedometer2"),
    NavItem("crm:restaurant_list", _("Restaurants"), "shop", perm="crm.view_restaurant"),
    NavItem("crm:contact_list", _("Contacts"), "person-lines-fill", perm="crm.view_contact"),
    NavItem("sales:agenda", _("Agenda"), "calendar3", perm="sales.view_visit"),
    NavItem("sales:pipeline", _("Pipeline"), "kanban", perm="sales.view_opportunity"),
    NavItem("sales:kpis", _("KPIs"), "graph-up", perm="sales.view_opportunity"),
    NavItem(
        "field_stats",
        _("Field statistics"),
        "bar-chart-line",
        perm=("reports.view_own_field_stats", "reports.view_all_field_stats"),
    ),
    NavItem("sales:contract_list", _("Contracts"), "file-earmark-text", perm="sales.view_contract"),
    NavItem("social:post_list", _("Posts"), "megaphone", perm="social.view_post"),
    NavItem("social:review_queue", _("Reviews"), "star-half", perm="social.view_review"),
    NavItem(
        "monthly_list", _("Monthly reports"), "file-earmark-pdf", perm="reports.view_monthlyreport"
    ),
    NavItem("sales:invoice_list", _("Invoices"), "receipt", perm="sales.view_invoice"),
    NavItem(
        "crm:request_inbox",
        _("Requests"),
        "inbox",
        perm=("crm.view_changerequest", "crm.add_changerequest"),
    ),
    NavItem("admin:index", _("Administration"), "gear", perm="staff"),
)


def navigation_for(user, current_path: str) -> list[dict]:
    items = []
    for item in NAVIGATION:
        if item.perm == "staff":
            allowed = user.is_staff
        elif isinstance(item.perm, tuple):
            allowed = any(user.has_perm(perm) for perm in item.perm)
        else:
            allowed = item.perm is None or user.has_perm(item.perm)
        if not allowed:
            continue
        url = reverse(item.url_name)
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"url": url, "label": item.label, "icon": item.icon, "active": active})
    return items
