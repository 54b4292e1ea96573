"""Every read of CRM records, always scoped through visible_to(user)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from crm.enums import RestaurantStatus
from crm.models import (
    Activity,
    AssetType,
    ChangeRequest,
    Contact,
    ContactLink,
    ConversionRequest,
    CrmSettings,
    CustomField,
    Restaurant,
    RestaurantAsset,
)
from crm.text import normalize_search, wildcard_to_like

# Sortable columns of the list: public name -> ORDER BY (a unique tail keeps pages stable).
SORTS = {
    "name": ("search_name", "id"),
    "-name": ("-search_name", "-id"),
    "code": ("client_code", "id"),
    "-code": ("-client_code", "-id"),
    "city": ("search_city", "search_name", "id"),
    "-city": ("-search_city", "-search_name", "-id"),
    "status": ("status", "search_name", "id"),
    "-status": ("-status", "-search_name", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


@dataclass
class RestaurantFilters:
    q: str = ""
    status: str = ""
    zone: int | None = None
    sales_agent: int | None = None
    community_manager: int | None = None
    without_community_manager: bool = False
    segment: int | None = None
    city: str = ""
    archived: str = ""  # "" active only, "only" archived only, "all"
    custom: dict[str, str] | None = None
    sort: str = "name"


def restaurant_search(queryset: QuerySet, query: str) -> QuerySet:
    """Name or client code, `*`/`?` wildcards, ignoring case and accents."""
    pattern = wildcard_to_like(query)
    return queryset.annotate(code_lower=Lower("client_code")).filter(
        Q(search_name__like=pattern) | Q(code_lower__like=pattern)
    )


def restaurant_list(*, user: User, filters: RestaurantFilters) -> QuerySet:
    queryset = Restaurant.objects.visible_to(user).select_related(
        "zone", "segment", "sales_agent", "community_manager"
    )
    if filters.q.strip():
        queryset = restaurant_search(queryset, filters.q)
    if filters.status in RestaurantStatus.values:
        queryset = queryset.filter(status=filters.status)
    if filters.zone:
        queryset = queryset.filter(zone_id=filters.zone)
    if filters.sales_agent:
        queryset = queryset.filter(sales_agent_id=filters.sales_agent)
    if filters.community_manager:
        queryset = queryset.filter(community_manager_id=filters.community_manager)
    if filters.without_community_manager:
        queryset = queryset.filter(community_manager__isnull=True)
    if filters.segment:
        queryset = queryset.filter(segment_id=filters.segment)
    if filters.city.strip():
        queryset = queryset.filter(search_city=normalize_search(filters.city))
    if filters.archived == "only":
        queryset = queryset.filter(archived_at__isnull=False)
    elif filters.archived != "all":
        queryset = queryset.filter(archived_at__isnull=True)
    for key, value in (filters.custom or {}).items():
        if value not in (None, ""):
            if connection.vendor == "postgresql":
                # Containment is what the GIN index on custom_data answers.
                queryset = queryset.filter(custom_data__contains={key: value})
            else:
                queryset = queryset.filter(**{f"custom_data__{key}": value})
    return queryset.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def restaurant_get(*, user: User, pk: int) -> Restaurant:
    """One restaurant the user may see (404 otherwise)."""
    queryset = Restaurant.objects.visible_to(user).select_related(
        "zone", "segment", "sales_agent", "community_manager", "review_manager", "created_by"
    )
    return get_object_or_404(queryset, pk=pk)


def restaurant_contacts(*, restaurant: Restaurant) -> list[ContactLink]:
    return list(
        ContactLink.objects.filter(restaurant=restaurant)
        .select_related("contact", "contact__contact_type")
        .order_by("role", "contact__search_name")
    )


def restaurant_assets(*, restaurant: Restaurant) -> list[tuple[AssetType, int]]:
    counts = dict(
        RestaurantAsset.objects.filter(restaurant=restaurant).values_list("asset_type_id", "count")
    )
    return [
        (asset_type, counts.get(asset_type.pk, 0))
        for asset_type in AssetType.objects.filter(active=True)
    ]


def restaurant_custom_values(*, restaurant: Restaurant) -> list[tuple[CustomField, object]]:
    return [
        (field, restaurant.custom_data.get(field.key))
        for field in CustomField.objects.filter(active=True)
    ]


@dataclass
class TimelinePage:
    entries: list[Activity]
    next_cursor: str | None


def timeline_page(
    *,
    restaurant: Restaurant,
    kinds: list[str] | None = None,
    include_archived: bool = False,
    include_hidden_origins: bool = False,
    before: str | None = None,
    size: int = 25,
) -> TimelinePage:
    """Newest first, by keyset ("occurred_at|id" cursor): as fast on entry 10,000 as on entry 1."""
    queryset = Activity.objects.filter(restaurant=restaurant).select_related("author")
    if not include_archived:
        queryset = queryset.filter(archived=False)
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    if not include_hidden_origins:
        hidden = CrmSettings.load().hidden_origins
        if hidden:
            queryset = queryset.exclude(origin__in=hidden)
    if before:
        try:
            stamp, last_id = before.rsplit("|", 1)
            moment, last_pk = datetime.fromisoformat(stamp), int(last_id)
        except ValueError:
            moment = None
        if moment is not None:
            queryset = queryset.filter(
                Q(occurred_at__lt=moment) | Q(occurred_at=moment, id__lt=last_pk)
            )
    entries = list(queryset.order_by("-occurred_at", "-id")[: size + 1])
    next_cursor = None
    if len(entries) > size:
        entries = entries[:size]
        last = entries[-1]
        next_cursor = f"{last.occurred_at.isoformat()}|{last.pk}"
    return TimelinePage(entries, next_cursor)


def restaurant_history(*, restaurant: Restaurant, limit: int = 50) -> list[dict]:
    """Field changes (who, when, field, from, to), newest first, from the history records."""
    records = list(
        restaurant.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    changes = []
    for newer, older in pairwise(records):
        delta = newer.diff_against(older)
        for change in delta.changes:
            if change.field == "custom_data" and isinstance(change.old, dict):
                continue
            changes.append(
                {
                    "when": newer.history_date,
                    "who": newer.history_user,
                    "field": Restaurant._meta.get_field(change.field).verbose_name,
                    "old": change.old,
                    "new": change.new,
                }
            )
    return changes


def contact_list(*, user: User, q: str = "") -> QuerySet:
    queryset = Contact.objects.visible_to(user).select_related("contact_type")
    if q.strip():
        pattern = wildcard_to_like(q)
        queryset = queryset.filter(Q(search_name__like=pattern) | Q(email__icontains=q.strip()))
    links = ContactLink.objects.filter(
        restaurant__in=Restaurant.objects.visible_to(user)
    ).select_related("restaurant")
    return queryset.prefetch_related(
        Prefetch("links", queryset=links, to_attr="visible_links")
    ).order_by("search_name", "id")


def contact_get(*, user: User, pk: int) -> Contact:
    return get_object_or_404(Contact.objects.visible_to(user).select_related("contact_type"), pk=pk)


def pending_requests(*, user: User) -> dict[str, QuerySet]:
    return {
        "changes": ChangeRequest.objects.visible_to(user)
        .filter(status="pending")
        .select_related("restaurant", "requested_by"),
        "conversions": ConversionRequest.objects.visible_to(user)
        .filter(status="pending")
        .select_related("restaurant", "requested_by"),
    }


def request_inbox(
    *,
    user: User,
    status: str,
    kind: str = "",
    decided_in: date | None = None,
    requested_by: int | None = None,
) -> dict[str, QuerySet]:
    """The inbox's lists of `status`, newest first: "changes" and "conversions", or only the
    one `kind` names. `decided_in`: the first day of a month: the requests decided that month
    (local time; a conversion applied that month is a client won that month). `requested_by`:
    the id of who asked. Both lists ride the (status, decided_at) and (status, created_at)
    indexes."""
    models = {"changes": ChangeRequest, "conversions": ConversionRequest}
    wanted = {"change": ["changes"], "conversion": ["conversions"]}.get(kind, list(models))
    lists = {}
    for name in wanted:
        queryset = (
            models[name]
            .objects.visible_to(user)
            .filter(status=status)
            .select_related("restaurant", "requested_by")
        )
        if decided_in is not None:
            start = timezone.make_aware(datetime.combine(decided_in, time()))
            following = (decided_in.replace(day=28) + timedelta(days=4)).replace(day=1)
            end = timezone.make_aware(datetime.combine(following, time()))
            queryset = queryset.filter(decided_at__gte=start, decided_at__lt=end)
        if requested_by is not None:
            queryset = queryset.filter(requested_by_id=requested_by)
        lists[name] = queryset
    return lists


def restaurant_shared_with(*, restaurant: Restaurant) -> list[User]:
    """Colleagues this prospect is shared with (explicit grants)."""
    from crm.models import RestaurantUserObjectPermission

    user_ids = RestaurantUserObjectPermission.objects.filter(
        content_object=restaurant, permission__codename="view_restaurant"
    ).values("user_id")
    return list(User.objects.filter(pk__in=user_ids).order_by("first_name", "last_name"))
