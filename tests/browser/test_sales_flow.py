from datetime import timedelta

import pytest
from django.utils import timezone

from sales.models import Visit
from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.factories import RestaurantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_visit_today_with_answers_and_revisit_preset_then_to_revisit(
    page, live_server, sales_agent, lyon
):
    today = timezone.localdate()
    RestaurantFactory(
        name="Revisit tomorrow",
        client=True,
        zone=lyon,
        sales_agent=sales_agent,
        revisit_date=today + timedelta(days=1),
    )
    RestaurantFactory(
        name="Revisit in ten days",
        client=True,
        zone=lyon,
        sales_agent=sales_agent,
        revisit_date=today + timedelta(days=10),
    )
    bouchon = RestaurantFactory(name="Le Bouchon", client=True, zone=lyon, sales_agent=sales_agent)
    login(page, sales_agent.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"/restaurants/{bouchon.pk}/")
    page.click("[data-testid=visit-today]")
    dialog = page.locator("#dialog [data-testid=visit-today-form]")
    dialog.wait_for()
    dialog.get_by_label("Visite", exact=True).check()
    dialog.get_by_label("Proposition remise").check()
    dialog.get_by_label("Pack Premium").check()
    dialog.locator("textarea[name=report]").fill("Gérant intéressé, rappeler après les vacances.")
    dialog.locator("select[name=revisit_preset]").select_option("1w")
    with page.expect_navigation():
        dialog.locator("[data-testid=save-visit]").click()
    page.locator("[data-testid=visit-history] li a").first.wait_for()
    assert "Pack Premium" in page.locator("[data-testid=visit-history]").inner_text()

    visit = Visit.objects.get(restaurant=bouchon)
    assert [a["option"] for a in visit.answers] == ["Visite", "Proposition remise", "Pack Premium"]
    assert visit.revisit_date == today + timedelta(weeks=1)

    page.goto("/")
    rows = page.locator("[data-testid=to-revisit] tbody tr")
    names = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    assert names == ["Revisit tomorrow", "Le Bouchon", "Revisit in ten days"]
    assert rows.nth(1).locator("[data-testid=revisit-days]").inner_text() == "7"

    rows.nth(1).click()
    summary = page.locator("[data-testid=restaurant-summary]")
    summary.wait_for()
    assert "Le Bouchon" in summary.inner_text()
    assert "CA de l'année : 0 €" in page.locator("[data-testid=summary-revenue]").inner_text()

    page.click("[data-testid=tab-not-seen]")
    not_seen = page.locator("[data-testid=not-seen] tbody tr")
    not_seen.first.wait_for(state="visible")
    assert not_seen.nth(not_seen.count() - 1).locator("td").nth(1).inner_text() == "Le Bouchon"


def test_agenda_shows_the_agents_visits_under_the_strict_policy(
    page, live_server, sales_agent, lyon
):
    restaurant = RestaurantFactory(
        name="Chez Agenda", client=True, zone=lyon, sales_agent=sales_agent
    )
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    Visit.objects.create(
        restaurant=restaurant, agent=sales_agent, start=start, end=start + timedelta(hours=1)
    )
    login(page, sales_agent.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/agenda/")

    event = page.locator(".fc-event", has_text="Chez Agenda")
    event.wait_for()
    assert page.locator(".fc-timegrid").count() == 1
