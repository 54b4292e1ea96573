from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from crm.enums import RestaurantStatus

register = template.Library()

_BADGES = {
    RestaurantStatus.PROSPECT: "text-bg-warning",
    RestaurantStatus.CLIENT: "text-bg-success",
    RestaurantStatus.FORMER: "text-bg-secondary",
}


@register.simple_tag
def status_badge(status: str) -> str:
    label = dict(RestaurantStatus.choices).get(status, status)
    return format_html(
        '<span class="badge {}">{}</span>', _BADGES.get(status, "text-bg-light"), label
    )


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, label: str) -> str:
    """A column header that sorts by `key`, and the other way round when already sorted by it."""
    request = context["request"]
    current = request.GET.get("sort", "name")
    params = request.GET.copy()
    params.pop("page", None)
    descending = current == key
    params["sort"] = f"-{key}" if descending else key
    arrow = ""
    if current.lstrip("-") == key:
        arrow = " ↓" if current.startswith("-") else " ↑"
    title = _("Sort by %(column)s") % {"column": label}
    return format_html('<a href="?{}" title="{}">{}{}</a>', params.urlencode(), title, label, arrow)


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key, "")
