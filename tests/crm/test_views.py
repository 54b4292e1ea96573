import html

import pytest
from django.core import mail
from django.urls import reverse

from crm.enums import RequestStatus
from crm.models import Activity, ChangeRequest, ConversionRequest, Restaurant
from tests.factories import ActivityFactory, RestaurantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(lyon, sales_agent, community_manager, segment):
    """Build n restaurants visible to everyone used below, with contacts and activities."""

    def build(n: int):
        for index in range(n):
            restaurant = RestaurantFactory(
                name=f"Café {index}", client=True, zone=lyon, segment=segment, sales_agent=sales_agent,
                community_manager=community_manager,
            )  # fmt: skip
            ActivityFactory.create_batch(3, restaurant=restaurant)

    return build


@pytest.mark.parametrize("count", [1, 30])
def test_restaurant_list_runs_a_constant_number_of_queries(
    client, direction, many, django_assert_max_num_queries, count
):
    many(count)
    client.force_login(direction)

    with django_assert_max_num_queries(15):
        response = client.get("/restaurants/?sort=-name&status=client")

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize("count", [1, 30])
def test_agent_list_runs_a_constant_number_of_queries(
    client, sales_agent, many, django_assert_max_num_queries, count
):
    many(count)
    client.force_login(sales_agent)

    with django_assert_max_num_queries(16):
        response = client.get("/restaurants/?q=caf*")

    assert response.context["page"].paginator.count == count


@pytest.mark.parametrize("count", [1, 60])
def test_restaurant_page_runs_a_constant_number_of_queries(
    client, direction, lyon, django_assert_max_num_queries, count
):
    restaurant = RestaurantFactory(client=True, zone=lyon)
    ActivityFactory.create_batch(count, restaurant=restaurant)
    client.force_login(direction)

    with django_assert_max_num_queries(32):
        response = client.get(f"/restaurants/{restaurant.pk}/")

    assert response.status_code == 200
    assert len(response.context["timeline"].entries) == min(count, 25)


def test_wildcard_search_ignores_case_and_accents(client, direction):
    RestaurantFactory(name="Café de la Gare")
    RestaurantFactory(name="Brasserie Georges", client=True, client_code="C00042")
    RestaurantFactory(name="Cafétéria")
    client.force_login(direction)

    def names(query):
        response = client.get("/restaurants/", {"q": query})
        return sorted(r.name for r in response.context["page"])

    assert names("cafe*") == ["Café de la Gare", "Cafétéria"]
    assert names("CAFE DE*") == ["Café de la Gare"]
    assert names("c0004?") == ["Brasserie Georges"]
    assert names("gare") == ["Café de la Gare"]
    assert names("100%") == []


def test_list_hides_archived_by_default(client, direction):
    from django.utils import timezone

    RestaurantFactory(name="Active")
    RestaurantFactory(name="Closed", archived_at=timezone.now())
    client.force_login(direction)

    assert [r.name for r in client.get("/restaurants/").context["page"]] == ["Active"]
    assert [r.name for r in client.get("/restaurants/?archived=only").context["page"]] == ["Closed"]


def test_list_filters_on_custom_field(client, direction):
    from crm.models import CustomField

    CustomField.objects.create(key="terrace", label="Terrasse", kind="choice", choices="oui\nnon")
    RestaurantFactory(name="With", custom_data={"terrace": "oui"})
    RestaurantFactory(name="Without", custom_data={"terrace": "non"})
    client.force_login(direction)

    assert [r.name for r in client.get("/restaurants/?cf_terrace=oui").context["page"]] == ["With"]


def test_timeline_pages_by_cursor_and_adds_by_htmx(client, sales_agent):
    restaurant = RestaurantFactory(created_by=sales_agent)
    ActivityFactory.create_batch(30, restaurant=restaurant)
    client.force_login(sales_agent)
    url = f"/restaurants/{restaurant.pk}/timeline/"

    first = client.get(url)
    second = client.get(url, {"before": first.context["timeline"].next_cursor})
    added = client.post(url, {"kind": "call", "subject": "Rappeler lundi"}, HTTP_HX_REQUEST="true")

    assert len(first.context["timeline"].entries) == 25
    assert len(second.context["timeline"].entries) == 5
    assert second.context["timeline"].next_cursor is None
    assert added.status_code == 200
    assert "Rappeler lundi" in added.content.decode()
    assert (
        Activity.objects.filter(restaurant=restaurant, kind="call", author=sales_agent).count() == 1
    )


def test_timeline_hides_archived_and_litigation_until_asked(client, direction):
    restaurant = RestaurantFactory()
    ActivityFactory(restaurant=restaurant, subject="visible")
    ActivityFactory(restaurant=restaurant, subject="old", archived=True)
    ActivityFactory(restaurant=restaurant, subject="dispute", origin="litigation")
    client.force_login(direction)
    url = f"/restaurants/{restaurant.pk}/timeline/"

    def subjects(**params):
        return sorted(e.subject for e in client.get(url, params).context["timeline"].entries)

    assert subjects() == ["visible"]
    assert subjects(archived="1", hidden="1") == ["dispute", "old", "visible"]
    assert subjects(kind="call") == []


def test_create_form_shows_duplicates_then_creates_on_confirmation(client, sales_agent):
    existing = RestaurantFactory(name="Le Zinc", phone="+33472102030", created_by=sales_agent)
    client.force_login(sales_agent)
    data = {
        "name": "Le Zinc 2",
        "phone": "04 72 10 20 30",
        "country": "FR",
        "time_zone": "Europe/Paris",
    }

    first = client.post("/restaurants/new/", data)
    confirmed = client.post("/restaurants/new/", {**data, "confirm_duplicates": "1"})

    assert first.status_code == 200
    assert first.context["duplicates"] == [existing]
    assert confirmed.status_code == 302
    assert Restaurant.objects.count() == 2


def test_create_form_keeps_input_and_explains_errors(client, sales_agent):
    client.force_login(sales_agent)

    response = client.post(
        "/restaurants/new/",
        {"name": "Chez Paul", "phone": "abc", "country": "FR", "time_zone": "Europe/Paris"},
    )

    assert response.status_code == 200
    assert "n'est pas un numéro de téléphone" in html.unescape(response.content.decode())
    assert 'value="Chez Paul"' in response.content.decode()


def test_change_request_page_sends_only_changed_fields(
    client, sales_agent, lyon, crm_settings, django_capture_on_commit_callbacks
):
    restaurant = RestaurantFactory(
        client=True, client_code="C00042", name="Café", zone=lyon, city="Lyon"
    )
    client.force_login(sales_agent)
    form = client.get(f"/restaurants/{restaurant.pk}/change-request/").context["form"]
    data = {
        name: (value.pk if hasattr(value, "pk") else value) or ""
        for name, value in form.initial.items()
    }
    data["city"] = "Villeurbanne"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/restaurants/{restaurant.pk}/change-request/", data)

    assert response.status_code == 302
    request = ChangeRequest.objects.get()
    assert [c["field"] for c in request.changes] == ["city"]
    assert mail.outbox[0].subject == "[Modification Client] C00042 Café"


def test_accountant_applies_from_the_request_page(
    client, accountant, sales_agent, lyon, crm_settings
):
    from crm import services

    restaurant = RestaurantFactory(client=True, zone=lyon)
    request = services.change_request_create(
        restaurant=restaurant, by=sales_agent, values={"city": "Bron"}
    )
    client.force_login(accountant)

    response = client.post(f"/requests/changes/{request.pk}/", {"action": "apply"})

    assert response.status_code == 302
    assert ChangeRequest.objects.get().status == RequestStatus.APPLIED
    assert Restaurant.objects.get().city == "Bron"


def test_accountant_validates_conversion_from_the_page(
    client, accountant, sales_agent, lyon, segment, crm_settings
):
    from crm import services

    restaurant = RestaurantFactory(
        name="Bistrot", created_by=sales_agent, sales_agent=sales_agent, segment=segment, zone=lyon,
        address="1 rue X", phone="+33472102030", siret="73282932000074",
    )  # fmt: skip
    conversion = services.conversion_request_create(
        restaurant=restaurant, by=sales_agent, payment_mode="transfer", payment_days=30
    )
    client.force_login(accountant)

    empty = client.post(
        f"/requests/conversions/{conversion.pk}/", {"action": "validate", "client_code": ""}
    )
    done = client.post(
        f"/requests/conversions/{conversion.pk}/", {"action": "validate", "client_code": "C00100"}
    )

    assert empty.status_code == 200
    assert done.status_code == 302
    assert ConversionRequest.objects.get().status == RequestStatus.APPLIED
    assert Restaurant.objects.get().client_code == "C00100"


def test_reassign_page_counts_then_moves(client, client_manager, sales_agent, lyon):
    from tests.factories import UserFactory

    other = UserFactory(roles=["sales_agent"])
    RestaurantFactory.create_batch(3, zone=lyon, sales_agent=other, postal_code="69003")
    RestaurantFactory(zone=lyon, sales_agent=other, postal_code="69008", client=True)
    client.force_login(client_manager)
    query = {
        "zone": lyon.pk,
        "postal_prefix": "69003",
        "current_agent": other.pk,
        "status": "prospect",
    }

    counted = client.get("/restaurants/reassign/", query)
    moved = client.post(
        "/restaurants/reassign/", {**query, "new_agent": sales_agent.pk, "confirm": "1"}
    )

    assert counted.context["matches"] == 3
    assert moved.status_code == 302
    assert Restaurant.objects.filter(sales_agent=sales_agent).count() == 3


def test_contact_owner_of_several_restaurants_appears_once(client, direction):
    from crm.models import ContactLink
    from tests.factories import ContactFactory

    owner = ContactFactory(last_name="Dupont")
    for name in ("A", "B"):
        ContactLink.objects.create(
            restaurant=RestaurantFactory(name=name), contact=owner, role="owner"
        )
    client.force_login(direction)

    page = client.get("/contacts/").context["page"]

    assert [c.last_name for c in page] == ["Dupont"]
    assert sorted(link.restaurant.name for link in page[0].visible_links) == ["A", "B"]


@pytest.mark.parametrize("count", [1, 25])
def test_contact_list_runs_a_constant_number_of_queries(
    client, direction, django_assert_max_num_queries, count
):
    from crm.models import ContactLink
    from tests.factories import ContactFactory

    for _ in range(count):
        ContactLink.objects.create(
            restaurant=RestaurantFactory(), contact=ContactFactory(), role="owner"
        )
    client.force_login(direction)

    with django_assert_max_num_queries(12):
        client.get("/contacts/")


def test_signature_is_served_only_within_scope(
    client, sales_agent, community_manager, lyon, segment, crm_settings
):
    from crm import services

    restaurant = RestaurantFactory(
        name="Bistrot", created_by=sales_agent, sales_agent=sales_agent, segment=segment, zone=lyon,
        address="1 rue X", phone="+33472102030", siret="73282932000074",
    )  # fmt: skip
    png = b"\x89PNG\r\n\x1a\nabc"
    conversion = services.conversion_request_create(
        restaurant=restaurant, by=sales_agent, payment_mode="direct_debit", payment_days=30,
        iban="FR7630006000011234567890189", bic="BNPAFRPP", signature=png,
    )  # fmt: skip
    url = reverse("crm:conversion_signature", args=[conversion.pk])

    client.force_login(sales_agent)
    assert b"".join(client.get(url).streaming_content) == png
    client.force_login(community_manager)
    assert client.get(url).status_code == 404


def test_edit_form_keeps_dates_in_iso_for_the_browser(client, direction):
    from datetime import date

    restaurant = RestaurantFactory(revisit_date=date(2026, 12, 24))
    client.force_login(direction)

    page = client.get(f"/restaurants/{restaurant.pk}/edit/").content.decode()

    assert 'type="date" name="revisit_date" value="2026-12-24"' in page
