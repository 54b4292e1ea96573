import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from sales import services
from sales.models import Contract, SalesSettings, SalesTarget, Visit
from tests.factories import RestaurantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures_data(sales_agent, client_manager, lyon, pack, premium):
    """Fixed data in November 2026: 3 meetings (2 with a proposal), 2 contracts signed by the agent."""
    tz = timezone.get_current_timezone()
    restaurants = [
        RestaurantFactory(client=True, zone=lyon, sales_agent=sales_agent) for _ in range(3)
    ]
    for index, restaurant in enumerate(restaurants):
        start = datetime(2026, 11, 3 + index, 10, tzinfo=tz)
        Visit.objects.create(
            restaurant=restaurant, agent=sales_agent, start=start, end=start + timedelta(hours=1), status="done",
            kind="visit", pack_offered=pack if index < 2 else None, while_prospect=index == 0,
        )  # fmt: skip
    for restaurant, chosen, months in ((restaurants[0], pack, 13), (restaurants[1], premium, 26)):
        contract = services.contract_sign(
            restaurant=restaurant,
            by=sales_agent,
            pack=chosen,
            start_date=date(2026, 12, 1),
            duration_months=months,
        )
        Contract.objects.filter(pk=contract.pk).update(
            signed_at=datetime(2026, 11, 20, 12, tzinfo=tz)
        )
    SalesTarget.objects.create(
        agent=sales_agent,
        month=date(2026, 11, 1),
        new_monthly_revenue=Decimal("300.00"),
        new_clients=2,
    )
    settings = SalesSettings.load()
    settings.bonus_rate = Decimal("10")
    settings.save()


def test_kpis_match_hand_computed_figures(client, sales_agent, figures_data):
    client.force_login(sales_agent)

    figures = client.get("/sales/kpis/", {"from": "2026-11", "to": "2026-11"}).context["figures"]

    assert (figures["meetings"], figures["proposals"], figures["contracts"]) == (3, 2, 2)
    assert figures["new_mrr"] == Decimal("398.00")  # 149 + 249
    assert figures["tcv"] == Decimal("8411.00")  # 149 x 13 + 249 x 26
    assert [row["pack_name"] for row in figures["by_pack"]] == ["Essentiel", "Premium"]
    assert figures["target"]["bonus"] == Decimal("9.80")  # 10 % of (398 - 300)
    assert [row["contracts"] for row in figures["months"]] == [2]


def test_kpis_csv(client, sales_agent, figures_data):
    client.force_login(sales_agent)

    response = client.get("/sales/kpis/", {"from": "2026-10", "to": "2026-11", "format": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[:3] == [
        ["month", "contracts", "new_monthly_revenue"],
        ["2026-10", "0", "0.00"],
        ["2026-11", "2", "398.00"],
    ]
    assert ["tcv", "8411.00"] in rows


def test_agents_see_only_their_own_figures(client, sales_agent, figures_data):
    from tests.factories import UserFactory

    other = UserFactory(roles=["sales_agent"])
    client.force_login(other)

    figures = client.get(
        "/sales/kpis/", {"from": "2026-11", "to": "2026-11", "agent": sales_agent.pk}
    ).context["figures"]

    assert (figures["meetings"], figures["contracts"]) == (0, 0)


@pytest.mark.parametrize("extra", [0, 20])
def test_kpi_page_runs_a_constant_number_of_queries(
    client, direction, figures_data, lyon, sales_agent, pack, django_assert_max_num_queries, extra
):
    for _ in range(extra):
        restaurant = RestaurantFactory(client=True, zone=lyon, sales_agent=sales_agent)
        services.contract_sign(
            restaurant=restaurant, by=sales_agent, pack=pack, start_date=date(2026, 12, 1)
        )
    client.force_login(direction)

    with django_assert_max_num_queries(16):
        client.get("/sales/kpis/", {"from": "2026-01", "to": "2026-12"})
