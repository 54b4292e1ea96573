from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sales import services
from sales.models import LostReason, Opportunity, StageChange
from tests.factories import RestaurantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(sales_agent, lyon, pack):
    restaurant = RestaurantFactory(
        name="Le Bouchon", created_by=sales_agent, sales_agent=sales_agent, zone=lyon
    )
    return services.opportunity_create(restaurant=restaurant, by=sales_agent, pack=pack)


def test_new_deal_takes_the_pack_price(deal):
    assert (deal.stage, deal.monthly_amount) == ("new", Decimal("149.00"))


def test_each_move_is_logged_with_the_time_spent(deal, sales_agent):
    Opportunity.objects.filter(pk=deal.pk).update(
        stage_changed_at=timezone.now() - timedelta(days=3)
    )

    services.opportunity_move(opportunity=deal, by=sales_agent, stage="meeting")

    change = StageChange.objects.get()
    assert (change.from_stage, change.to_stage) == ("new", "meeting")
    assert 3 * 86400 - 5 <= change.seconds_in_stage <= 3 * 86400 + 5


def test_lost_needs_a_reason(deal, sales_agent):
    with pytest.raises(ValidationError):
        services.opportunity_move(opportunity=deal, by=sales_agent, stage="lost")
    reason = LostReason.objects.create(name="Prix")

    moved = services.opportunity_move(
        opportunity=deal, by=sales_agent, stage="lost", lost_reason=reason
    )

    assert (moved.stage, moved.lost_reason) == ("lost", reason)


def test_another_agents_deal_cannot_be_moved(deal):
    other = UserFactory(roles=["sales_agent"])

    with pytest.raises(PermissionDenied):
        services.opportunity_move(opportunity=deal, by=other, stage="meeting")


def test_idle_flag(deal):
    assert not services.opportunity_is_idle(deal, 21)
    deal.stage_changed_at = timezone.now() - timedelta(days=22)

    assert services.opportunity_is_idle(deal, 21)


def test_won_opens_the_contract_form_prefilled(client, deal, sales_agent, pack):
    client.force_login(sales_agent)

    response = client.post(f"/pipeline/{deal.pk}/move/", {"stage": "won"})
    form = client.get(response["Location"]).context["form"]

    assert response["Location"].startswith(f"/restaurants/{deal.restaurant_id}/contracts/new/?")
    assert (form.initial["pack"], form.initial["monthly_price"]) == (str(pack.pk), "149.00")


def test_dropping_on_lost_without_reason_keeps_the_stage(client, deal, sales_agent):
    client.force_login(sales_agent)

    client.post(f"/pipeline/{deal.pk}/move/", {"stage": "lost"})

    assert Opportunity.objects.get(pk=deal.pk).stage == "new"


@pytest.mark.parametrize("count", [1, 20])
def test_pipeline_page_runs_a_constant_number_of_queries(
    client, sales_agent, lyon, pack, django_assert_max_num_queries, count
):
    for index in range(count):
        restaurant = RestaurantFactory(created_by=sales_agent, sales_agent=sales_agent, zone=lyon)
        deal = services.opportunity_create(restaurant=restaurant, by=sales_agent, pack=pack)
        if index % 2:
            services.opportunity_move(opportunity=deal, by=sales_agent, stage="proposal")
    client.force_login(sales_agent)

    with django_assert_max_num_queries(17):
        response = client.get("/pipeline/")

    assert sum(len(column["cards"]) for column in response.context["columns"]) == count
