"""The one registry of metrics: the desk's own names, how they add up, and which name each
network's API (per version) gives them.

Snapshots store the desk's names, so a platform renaming or retiring a metric (Meta did in 2025)
changes a line here and keeps the history continuous.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sales.enums import Network


@dataclass(frozen=True)
class Metric:
    name: str
    label: Promise
    # "sum": daily amounts add up over a period; "last": a level (followers) read at the end.
    aggregate: str = "sum"


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("followers", _("Followers"), aggregate="last"),
        Metric("new_followers", _("New followers")),
        Metric("reach", _("Reach")),
        Metric("views", _("Views")),
        Metric("interactions", _("Interactions")),
        Metric("bookings", _("Bookings")),
        Metric("food_orders", _("Food orders")),
        Metric("menu_clicks", _("Menu clicks")),
        Metric("calls", _("Calls")),
        Metric("website_clicks", _("Website clicks")),
        Metric("directions", _("Direction requests")),
    )
}

# The groups the social page charts, each a list of desk metric names.
CHARTS: tuple[tuple[str, Promise, tuple[str, ...]], ...] = (
    ("audience", _("Followers"), ("followers",)),
    ("reach", _("Reach and views"), ("reach", "views")),
    ("interactions", _("Interactions"), ("interactions", "new_followers")),
    (
        "actions",
        _("Bookings and other actions"),
        ("bookings", "food_orders", "menu_clicks", "calls", "website_clicks", "directions"),
    ),
)

# API versions the connectors speak; a registry row is chosen by (network, version).
GRAPH_VERSION = "v26.0"
GOOGLE_PERFORMANCE_VERSION = "v1"

# API metric name -> desk metric name. Several API names may add into one desk metric (Google's
# four impression counters make "views").
API_METRICS: dict[tuple[str, str], dict[str, str]] = {
    (Network.FACEBOOK, GRAPH_VERSION): {
        "page_follows": "followers",
        "page_daily_follows_unique": "new_followers",
        "page_media_view": "views",
        "page_total_media_view_unique": "reach",
        "page_post_engagements": "interactions",
    },
    (Network.INSTAGRAM, GRAPH_VERSION): {
        "reach": "reach",
        "views": "views",
        "total_interactions": "interactions",
        "follows_and_unfollows": "new_followers",
        # "field:" names are read from the account's profile (today's level), not from insights.
        "field:followers_count": "followers",
    },
    (Network.GOOGLE, GOOGLE_PERFORMANCE_VERSION): {
        "BUSINESS_BOOKINGS": "bookings",
        "BUSINESS_FOOD_ORDERS": "food_orders",
        "BUSINESS_FOOD_MENU_CLICKS": "menu_clicks",
        "CALL_CLICKS": "calls",
        "WEBSITE_CLICKS": "website_clicks",
        "BUSINESS_DIRECTION_REQUESTS": "directions",
        "BUSINESS_IMPRESSIONS_DESKTOP_MAPS": "views",
        "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH": "views",
        "BUSINESS_IMPRESSIONS_MOBILE_MAPS": "views",
        "BUSINESS_IMPRESSIONS_MOBILE_SEARCH": "views",
    },
}


def api_metrics(network: str, version: str) -> dict[str, str]:
    return API_METRICS.get((network, version), {})


def desk_metrics_of(network: str) -> list[str]:
    """The desk metrics a network can feed (for the demo provider and the page legends)."""
    names: list[str] = []
    for (row_network, _version), mapping in API_METRICS.items():
        if row_network == network:
            names += [name for name in mapping.values() if name not in names]
    return names
