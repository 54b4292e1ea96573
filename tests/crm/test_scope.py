import pytest
from guardian.shortcuts import assign_perm

from crm.models import Restaurant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _visible(user) -> set[str]:
    return set(Restaurant.objects.visible_to(user).values_list("name", flat=True))


@pytest.fixture
def world(restaurant_factory, lyon, sales_agent, community_manager, review_manager):
    other_agent = UserFactory(username="other_agent", roles=["sales_agent"])
    from tests.factories import ZoneFactory

    paris = ZoneFactory(name="Paris", departments="75")
    paris.agents.add(other_agent)
    return {
        "lyon_client": restaurant_factory(
            name="lyon client", client=True, zone=lyon, community_manager=community_manager
        ),
        "paris_client": restaurant_factory(
            name="paris client", client=True, zone=paris, review_manager=review_manager
        ),
        "own_prospect": restaurant_factory(name="own prospect", created_by=sales_agent, zone=lyon),
        "given_prospect": restaurant_factory(
            name="given prospect", sales_agent=sales_agent, zone=paris
        ),
        "other_prospect": restaurant_factory(
            name="other prospect", created_by=other_agent, sales_agent=other_agent, zone=lyon
        ),
        "other_agent": other_agent,
    }


def test_agent_sees_zone_clients_and_own_prospects_only(world, sales_agent):
    assert _visible(sales_agent) == {"lyon client", "own prospect", "given prospect"}


def test_agent_sees_a_prospect_shared_with_them(world, sales_agent):
    assign_perm("crm.view_restaurant", sales_agent, world["other_prospect"])

    assert "other prospect" in _visible(sales_agent)


def test_community_manager_sees_assigned_restaurants(world, community_manager):
    assert _visible(community_manager) == {"lyon client"}


def test_review_manager_sees_assigned_restaurants(world, review_manager):
    assert _visible(review_manager) == {"paris client"}


def test_accountant_sees_every_client_but_no_prospect(world, accountant):
    assert _visible(accountant) == {"lyon client", "paris client"}


@pytest.mark.parametrize("role", ["client_manager", "direction", "admin"])
def test_managers_see_everything(world, persona, role):
    assert _visible(persona(role)) == {
        "lyon client",
        "paris client",
        "own prospect",
        "given prospect",
        "other prospect",
    }


def test_outsider_without_role_sees_nothing(world, persona):
    assert _visible(persona(None)) == set()


def test_agent_opening_another_agents_prospect_gets_404(world, client, sales_agent):
    client.force_login(sales_agent)

    response = client.get(f"/restaurants/{world['other_prospect'].pk}/")

    assert response.status_code == 404


def test_the_check_on_one_loaded_restaurant_answers_as_the_scope_query(
    world,
    persona,
    sales_agent,
    community_manager,
    review_manager,
    accountant,
    django_assert_num_queries,
):
    """`scope.sees` reads restaurant_scope's rules on an instance: for every role and every kind
    of restaurant (zone client, own, given, shared and colleague's prospect, former client, a
    prospect waiting for its client creation), it answers what the query answers."""
    from crm import scope
    from crm.enums import RequestStatus, RestaurantStatus
    from crm.models import ConversionRequest
    from tests.factories import RestaurantFactory

    shared = RestaurantFactory(name="shared prospect", created_by=world["other_agent"])
    assign_perm("crm.change_restaurant", sales_agent, shared)
    RestaurantFactory(name="former", client=True, status=RestaurantStatus.FORMER)
    waiting = RestaurantFactory(name="waiting prospect", created_by=world["other_agent"])
    ConversionRequest.objects.create(
        restaurant=waiting,
        requested_by=world["other_agent"],
        status=RequestStatus.PENDING,
        payment_days=30,
    )
    inactive = UserFactory(username="gone", roles=["client_manager"], is_active=False)
    users = [sales_agent, community_manager, review_manager, accountant, world["other_agent"],
             inactive, persona("client_manager"), persona("direction"), persona(None)]  # fmt: skip
    restaurants = list(Restaurant.objects.all())
    assert len(restaurants) == 8
    for user in users:
        expected = set(Restaurant.objects.visible_to(user).values_list("pk", flat=True))
        answers = {restaurant.pk for restaurant in restaurants if scope.sees(user, restaurant)}
        assert answers == expected, user.username

    # What the instance tells costs no query once the user's zones are known.
    scope.zone_ids(sales_agent)
    with django_assert_num_queries(0):
        assert scope.sees(sales_agent, world["lyon_client"])
        assert scope.sees(sales_agent, world["own_prospect"])
