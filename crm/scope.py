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


def zone_ids(user) -> frozenset[int]:
    """The zones `user` belongs to, read once per user object (a request's, or an integration
    run's), as Django keeps its permission cache."""
    cached = getattr(user, "_crm_zone_ids", None)
    if cached is None:
        from crm.models import Zone

        cached = frozenset(
            Zone.agents.through.objects.filter(user_id=user.pk).values_list("zone_id", flat=True)
        )
        user._crm_zone_ids = cached
    return cached


def sees(user, restaurant) -> bool:
    """Whether the loaded `restaurant` is in `user`'s scope: `restaurant_scope`'s rules read on
    the instance, the database asked only for what the instance cannot tell (a colleague's
    share, a pending client creation). tests/crm/test_scope.py holds both to the same answers."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.has_perm("crm.view_all_restaurants"):
        return True
    client = restaurant.status in CLIENT_STATUSES
    if client and user.has_perm("crm.view_client_restaurants"):
        return True
    zone_agent = user.has_perm("crm.view_zone_restaurants")
    if zone_agent and (
        (client and restaurant.zone_id in zone_ids(user))
        or restaurant.sales_agent_id == user.pk
        or (restaurant.created_by_id == user.pk and restaurant.status == RestaurantStatus.PROSPECT)
    ):
        return True
    if user.has_perm("crm.view_assigned_restaurants") and user.pk in (
        restaurant.community_manager_id,
        restaurant.review_manager_id,
        restaurant.sales_agent_id,
    ):
        return True
    if zone_agent or user.has_perm("crm.decide_conversionrequest"):
        from crm.models import Restaurant

        return Restaurant.objects.visible_to(user).filter(pk=restaurant.pk).exists()
    return False


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
