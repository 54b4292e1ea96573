"""Row scope and per-record rights on CRM records (DESIGN §3), in one place.

`restaurant_scope(user)` is the filter behind Restaurant.objects.visible_to(user); the `may_*`
functions answer what a user may do to one restaurant they can see.
"""

from django.db.models import Q

from crm.enums import RequestStatus, RestaurantStatus

NOTHING = Q(pk__in=[])
CLIENT_STATUSES = (RestaurantStatus.CLIENT, RestaurantStatus.FORMER)


def _shared_with(user, codenames: tuple[str, ...]):
    from crm.models import RestaurantUserObjectPermission

    return RestaurantUserObjectPermission.objects.filter(
        user=user, permission__codename__in=codenames
    ).values("content_object_id")


def restaurant_scope(user) -> Q:
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.has_perm("crm.view_all_restaurants"):
        return Q()
    from crm.models import ConversionRequest, Zone

    scope = NOTHING
    if user.has_perm("crm.view_client_restaurants"):
        scope |= Q(status__in=CLIENT_STATUSES)
    if user.has_perm("crm.decide_conversionrequest"):
        pending = ConversionRequest.objects.filter(status=RequestStatus.PENDING).values(
            "restaurant_id"
        )
        scope |= Q(pk__in=pending)
    if user.has_perm("crm.view_zone_restaurants"):
        zones = Zone.agents.through.objects.filter(user_id=user.pk).values("zone_id")
        scope |= Q(status__in=CLIENT_STATUSES, zone_id__in=zones)
        scope |= Q(sales_agent=user) | Q(created_by=user, status=RestaurantStatus.PROSPECT)
        scope |= Q(pk__in=_shared_with(user, ("view_restaurant", "change_restaurant")))
    if user.has_perm("crm.view_assigned_restaurants"):
        scope |= Q(community_manager=user) | Q(review_manager=user) | Q(sales_agent=user)
    return scope


def contact_scope(user) -> Q:
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.has_perm("crm.view_all_restaurants") or user.has_perm("crm.manage_contact"):
        return Q()
    from crm.models import ContactLink, Restaurant

    linked = ContactLink.objects.filter(restaurant__in=Restaurant.objects.visible_to(user)).values(
        "contact_id"
    )
    return Q(pk__in=linked) | Q(created_by=user)


def _owns_prospect(user, restaurant) -> bool:
    return restaurant.created_by_id == user.pk or restaurant.sales_agent_id == user.pk


def may_edit(user, restaurant) -> bool:
    """Managers edit every record; agents edit their own prospects; the rest ask for changes."""
    if restaurant.is_archived:
        return False
    if user.has_perm("crm.change_restaurant"):
        return True
    if restaurant.status != RestaurantStatus.PROSPECT or not user.has_perm(
        "crm.edit_own_prospects"
    ):
        return False
    return _owns_prospect(user, restaurant) or user.has_perm("crm.change_restaurant", restaurant)


def may_delete(user, restaurant) -> bool:
    if restaurant.status != RestaurantStatus.PROSPECT:
        return False
    if user.has_perm("crm.delete_restaurant"):
        return True
    return user.has_perm("crm.edit_own_prospects") and _owns_prospect(user, restaurant)


def may_archive(user, restaurant) -> bool:
    return not restaurant.is_archived and user.has_perm("crm.archive_restaurant")


def may_unarchive(user, restaurant) -> bool:
    return restaurant.is_archived and user.has_perm("crm.unarchive_restaurant")


def may_request_change(user, restaurant) -> bool:
    return (
        restaurant.status != RestaurantStatus.PROSPECT
        and not restaurant.is_archived
        and user.has_perm("crm.add_changerequest")
        and not may_edit(user, restaurant)
    )


def may_request_conversion(user, restaurant) -> bool:
    return (
        restaurant.status == RestaurantStatus.PROSPECT
        and user.has_perm("crm.add_conversionrequest")
        and may_edit(user, restaurant)
    )


def may_add_activity(user, restaurant) -> bool:
    return not restaurant.is_archived and user.has_perm("crm.add_activity")
