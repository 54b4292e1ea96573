import re

import pytest
from django.core import mail

from crm.models import ConversionRequest, Restaurant
from tests.browser.conftest import login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crm_ready(sales_agent, accountant):
    from crm.models import CrmSettings
    from tests.factories import SegmentFactory, ZoneFactory

    zone = ZoneFactory(name="Lyon", departments="69")
    zone.agents.add(sales_agent)
    SegmentFactory(code="brasserie", name="Brasserie")
    settings = CrmSettings.load()
    settings.accountant_email = "compta@comadvisor.example"
    settings.save()


def test_agent_prospect_call_conversion_then_accountant_validates(
    page, live_server, sales_agent, accountant, crm_ready
):
    login(page, sales_agent.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    # A new prospect, with what the conversion will need.
    page.goto("/restaurants/new/")
    page.fill("input[name=name]", "Bistrot des Canuts")
    page.fill("input[name=address]", "12 rue d'Austerlitz")
    page.fill("input[name=postal_code]", "69004")
    page.fill("input[name=city]", "Lyon")
    page.fill("input[name=phone]", "04 78 28 00 00")
    page.fill("input[name=siret]", "732 829 320 00074")
    page.select_option("select[name=segment]", label="Brasserie")
    page.click("[data-testid=save-restaurant]")
    page.wait_for_url(re.compile(r"/restaurants/\d+/$"))
    assert page.locator("[data-testid=restaurant-name]").inner_text() == "Bistrot des Canuts"
    restaurant = Restaurant.objects.get(name="Bistrot des Canuts")
    assert (restaurant.phone, restaurant.zone.name, restaurant.sales_agent) == (
        "+33478280000",
        "Lyon",
        sales_agent,
    )

    # A call, logged in one line without reloading the page.
    page.select_option("[data-testid=activity-form] select[name=kind]", "call")
    page.fill("[data-testid=activity-form] input[name=subject]", "Appel du gérant, très intéressé")
    url_before = page.url
    page.click("[data-testid=add-activity]")
    page.locator("[data-testid=timeline-entry][data-kind=call]").wait_for()
    assert page.url == url_before
    assert "Appel du gérant, très intéressé" in page.locator("#timeline").inner_text()

    # Conversion by direct debit: IBAN, BIC and a signature drawn in the page.
    page.click("[data-testid=convert]")
    page.wait_for_url(re.compile(r"/convert/$"))
    page.select_option("select[name=payment_mode]", "direct_debit")
    page.fill("input[name=payment_days]", "30")
    page.fill("input[name=iban]", "FR76 3000 6000 0112 3456 7890 189")
    page.fill("input[name=bic]", "BNPAFRPP")
    box = page.locator("canvas[data-signature-pad]").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 20, box["y"] + 40 + (step % 3) * 25, steps=3)
    page.mouse.up()
    page.click("[data-testid=send-conversion]")
    page.wait_for_url(re.compile(r"/restaurants/\d+/$"))
    assert page.locator("[data-testid=conversion-pending]").is_visible()
    conversion = ConversionRequest.objects.get()
    assert conversion.iban == "FR7630006000011234567890189"
    assert conversion.signature.read().startswith(b"\x89PNG")
    assert [m.subject for m in mail.outbox] == ["[Création Client] Bistrot des Canuts"]
    page.click("[data-testid=logout]")

    # The accountant completes the client code and validates.
    login(page, accountant.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto("/requests/")
    page.get_by_role("link", name="Bistrot des Canuts").click()
    width = page.locator("[data-testid=signature]").evaluate(
        "img => img.complete ? img.naturalWidth : new Promise(done => img.addEventListener('load', () => done(img.naturalWidth)))"
    )
    assert width > 0
    page.fill("input[name=client_code]", "C00777")
    page.click("[data-testid=validate-conversion]")
    page.wait_for_url(re.compile(rf"/restaurants/{restaurant.pk}/$"))
    assert page.locator("[data-testid=client-code]").inner_text() == "C00777"
    assert page.locator("[data-testid=restaurant-status]").inner_text() == "Client"
    assert mail.outbox[-1].subject == "[Création Client] C00777 Bistrot des Canuts"
    assert mail.outbox[-1].to == [sales_agent.email]
