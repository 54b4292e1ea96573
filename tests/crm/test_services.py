import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from crm import services
from crm.enums import ActivityKind, PaymentMode, RequestStatus, RestaurantStatus
from crm.models import (
    Activity,
    ConversionRequest,
    CrmSettings,
    CustomField,
    Restaurant,
)
from tests.factories import UserFactory, ZoneFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 20
IBAN = "FR7630006000011234567890189"


def test_creating_a_prospect_needs_only_a_name(sales_agent):
    restaurant = services.restaurant_create(by=sales_agent, data={"name": "Chez Léon"})

    assert (restaurant.status, restaurant.created_by, restaurant.sales_agent) == (
        "prospect",
        sales_agent,
        sales_agent,
    )
    assert restaurant.search_name == "chez leon"
    assert list(restaurant.activities.values_list("kind", "subject")) == [
        ("system", "Prospect créé")
    ]


def test_phone_is_normalised_to_e164(sales_agent):
    restaurant = services.restaurant_create(
        by=sales_agent, data={"name": "A", "phone": "04 72 10 20 30"}
    )

    assert restaurant.phone == "+33472102030"


def test_bad_identifiers_are_refused_field_by_field(sales_agent):
    with pytest.raises(ValidationError) as error:
        services.restaurant_create(
            by=sales_agent, data={"name": "A", "phone": "12", "siret": "12345678901234"}
        )

    assert set(error.value.message_dict) == {"phone", "siret"}
    assert not Restaurant.objects.exists()


def test_zone_and_department_come_from_the_postal_code(sales_agent):
    ZoneFactory(name="Rhône", departments="69")
    villeurbanne = ZoneFactory(name="Villeurbanne", departments="", postal_prefixes="69100")

    lyon = services.restaurant_create(by=sales_agent, data={"name": "A", "postal_code": "69002"})
    other = services.restaurant_create(by=sales_agent, data={"name": "B", "postal_code": "69100"})
    corsica = services.restaurant_create(by=sales_agent, data={"name": "C", "postal_code": "20090"})

    assert (lyon.zone.name, lyon.department) == ("Rhône", "69")
    assert other.zone == villeurbanne
    assert (corsica.zone, corsica.department) == (None, "2A")


def test_duplicate_phone_stops_creation_until_confirmed(sales_agent, restaurant_factory):
    existing = restaurant_factory(name="Le Zinc", phone="+33472102030", created_by=sales_agent)

    with pytest.raises(services.DuplicatesFound) as found:
        services.restaurant_create(by=sales_agent, data={"name": "Zinc bis", "phone": "0472102030"})
    assert found.value.matches == [existing]

    created = services.restaurant_create(
        by=sales_agent, data={"name": "Zinc bis", "phone": "0472102030"}, confirm_duplicates=True
    )
    assert Restaurant.objects.filter(phone="+33472102030").count() == 2
    assert created.pk != existing.pk


def test_duplicate_of_a_colleagues_prospect_is_counted_not_shown(sales_agent, restaurant_factory):
    other = UserFactory(roles=["sales_agent"])
    restaurant_factory(name="Le Zinc", city="Lyon", created_by=other, sales_agent=other)

    with pytest.raises(services.DuplicatesFound) as found:
        services.restaurant_create(by=sales_agent, data={"name": "le zinc", "city": "LYON"})

    assert (found.value.matches, found.value.hidden) == ([], 1)


def test_custom_fields_are_validated(sales_agent):
    CustomField.objects.create(key="covers", label="Couverts", kind="number", required=True)
    CustomField.objects.create(key="terrace", label="Terrasse", kind="choice", choices="oui\nnon")

    with pytest.raises(ValidationError) as error:
        services.restaurant_create(
            by=sales_agent, data={"name": "A"}, custom={"terrace": "peut-être"}
        )
    assert set(error.value.message_dict) == {"cf_covers", "cf_terrace"}

    restaurant = services.restaurant_create(
        by=sales_agent, data={"name": "A"}, custom={"covers": "40", "terrace": "oui"}
    )
    assert restaurant.custom_data == {"covers": "40", "terrace": "oui"}


def test_agent_edits_own_prospect_but_not_a_client(sales_agent, restaurant_factory, lyon):
    prospect = restaurant_factory(created_by=sales_agent)
    client = restaurant_factory(client=True, zone=lyon)

    services.restaurant_update(restaurant=prospect, by=sales_agent, data={"city": "Villeurbanne"})
    with pytest.raises(PermissionDenied):
        services.restaurant_update(restaurant=client, by=sales_agent, data={"city": "Paris"})

    assert Restaurant.objects.get(pk=prospect.pk).city == "Villeurbanne"


def test_history_records_who_changed_what(client_manager, restaurant_factory):
    restaurant = restaurant_factory(name="Old name")

    services.restaurant_update(restaurant=restaurant, by=client_manager, data={"name": "New name"})

    latest = restaurant.history.first()
    assert latest.history_user == client_manager
    assert latest.diff_against(latest.prev_record).changed_fields == ["name"]


def test_unarchive_is_for_admins_only(client_manager, admin_user, restaurant_factory):
    restaurant = restaurant_factory()
    services.restaurant_archive(restaurant=restaurant, by=client_manager)

    with pytest.raises(PermissionDenied):
        services.restaurant_unarchive(restaurant=restaurant, by=client_manager)
    services.restaurant_unarchive(restaurant=restaurant, by=admin_user)

    assert Restaurant.objects.get(pk=restaurant.pk).archived_at is None


def test_prospect_deletion_rights(sales_agent, client_manager, restaurant_factory):
    mine = restaurant_factory(created_by=sales_agent)
    client = restaurant_factory(client=True)

    services.restaurant_delete(restaurant=mine, by=sales_agent)
    with pytest.raises(PermissionDenied):
        services.restaurant_delete(restaurant=client, by=client_manager)

    assert not Restaurant.objects.filter(pk=mine.pk).exists()


def test_activity_in_the_future_is_refused(sales_agent, restaurant_factory):
    from datetime import timedelta

    from django.utils import timezone

    restaurant = restaurant_factory(created_by=sales_agent)

    with pytest.raises(ValidationError):
        services.activity_add(
            restaurant=restaurant, by=sales_agent, kind=ActivityKind.CALL, subject="x",
            occurred_at=timezone.now() + timedelta(days=1),
        )  # fmt: skip
    assert not Activity.objects.exists()


def test_change_request_mails_the_accountant_with_each_change(
    sales_agent, restaurant_factory, lyon, crm_settings, segment, django_capture_on_commit_callbacks
):
    restaurant = restaurant_factory(
        client=True, client_code="C00042", name="Café de la Gare", zone=lyon, phone="+33472102030"
    )

    with django_capture_on_commit_callbacks(execute=True):
        request = services.change_request_create(
            restaurant=restaurant,
            by=sales_agent,
            values={"phone": "04 78 00 00 01", "segment": segment},
            comment="Nouveau numéro",
        )

    assert request.status == RequestStatus.PENDING
    assert [c["field"] for c in request.changes] == ["phone", "segment"]
    message = mail.outbox[0]
    assert message.to == ["compta@comadvisor.example"]
    assert message.subject == "[Modification Client] C00042 Café de la Gare"
    assert 'Téléphone : "+33472102030" remplacé par "+33478000001"' in message.body
    assert 'Segment : "" remplacé par "Brasserie"' in message.body
    assert "Commentaire : Nouveau numéro" in message.body
    assert restaurant.activities.filter(subject="Modification demandée").exists()


def test_applying_a_change_request_updates_the_record_and_tells_the_requester(
    sales_agent,
    accountant,
    restaurant_factory,
    lyon,
    crm_settings,
    django_capture_on_commit_callbacks,
):
    restaurant = restaurant_factory(client=True, client_code="C00042", name="Café", zone=lyon)
    request = services.change_request_create(
        restaurant=restaurant, by=sales_agent, values={"city": "Villeurbanne"}
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.change_request_apply(change_request=request, by=accountant)

    restaurant.refresh_from_db()
    assert restaurant.city == "Villeurbanne"
    assert restaurant.history.first().history_user == accountant
    assert mail.outbox[0].to == [sales_agent.email]
    assert mail.outbox[0].subject == "[Modification Client] C00042 Café : appliquée"
    with pytest.raises(ValidationError):
        services.change_request_apply(change_request=request, by=accountant)


def test_rejecting_needs_a_reason_and_tells_the_requester(
    sales_agent,
    accountant,
    restaurant_factory,
    lyon,
    crm_settings,
    django_capture_on_commit_callbacks,
):
    restaurant = restaurant_factory(client=True, client_code="C00042", name="Café", zone=lyon)
    request = services.change_request_create(
        restaurant=restaurant, by=sales_agent, values={"city": "Villeurbanne"}
    )
    mail.outbox.clear()

    with pytest.raises(ValidationError):
        services.change_request_reject(change_request=request, by=accountant, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_request_reject(
            change_request=request, by=accountant, reason="Adresse inchangée"
        )

    assert Restaurant.objects.get(pk=restaurant.pk).city == "Lyon"
    assert "Motif : Adresse inchangée" in mail.outbox[0].body


def test_agent_cannot_decide_change_requests(sales_agent, restaurant_factory, lyon, crm_settings):
    restaurant = restaurant_factory(client=True, zone=lyon)
    request = services.change_request_create(
        restaurant=restaurant, by=sales_agent, values={"city": "X"}
    )

    with pytest.raises(PermissionDenied):
        services.change_request_apply(change_request=request, by=sales_agent)


def _complete_prospect(restaurant_factory, sales_agent, segment, lyon):
    return restaurant_factory(
        name="Bistrot Neuf", created_by=sales_agent, sales_agent=sales_agent, segment=segment, zone=lyon,
        address="1 rue de la République", postal_code="69002", city="Lyon", phone="+33472102030",
        siret="73282932000074",
    )  # fmt: skip


def test_conversion_lists_what_is_missing(sales_agent, restaurant_factory):
    restaurant = restaurant_factory(
        name="Incomplet", created_by=sales_agent, sales_agent=sales_agent, postal_code="", city=""
    )

    missing = [field for field, _label in services.conversion_missing_fields(restaurant=restaurant)]

    assert missing == [
        "segment",
        "address",
        "postal_code",
        "city",
        "zone",
        "phone",
        "siret",
        "payment_mode",
        "payment_days",
    ]


def test_direct_debit_needs_valid_iban_bic_and_signature(
    sales_agent, restaurant_factory, segment, lyon, crm_settings
):
    restaurant = _complete_prospect(restaurant_factory, sales_agent, segment, lyon)

    with pytest.raises(ValidationError) as error:
        services.conversion_request_create(
            restaurant=restaurant, by=sales_agent, payment_mode=PaymentMode.DIRECT_DEBIT, payment_days=30,
            iban="FR7630006000011234567890188", bic="NOTABIC", signature=None,
        )  # fmt: skip

    assert set(error.value.message_dict) == {"iban", "bic", "signature"}
    assert not ConversionRequest.objects.exists()


def test_cheque_limited_to_segments_and_forces_its_term(
    sales_agent, restaurant_factory, segment, lyon, crm_settings
):
    from tests.factories import SegmentFactory

    restaurant = _complete_prospect(restaurant_factory, sales_agent, segment, lyon)
    crm_settings.cheque_segments.add(SegmentFactory(code="gastro"))
    with pytest.raises(ValidationError):
        services.conversion_request_create(
            restaurant=restaurant, by=sales_agent, payment_mode=PaymentMode.CHEQUE, payment_days=45
        )

    crm_settings.cheque_segments.add(segment)
    request = services.conversion_request_create(
        restaurant=restaurant, by=sales_agent, payment_mode=PaymentMode.CHEQUE, payment_days=45
    )

    assert request.payment_days == 20


def test_conversion_flow_end_to_end(
    sales_agent,
    accountant,
    restaurant_factory,
    segment,
    lyon,
    crm_settings,
    django_capture_on_commit_callbacks,
):
    restaurant = _complete_prospect(restaurant_factory, sales_agent, segment, lyon)
    call = services.activity_add(
        restaurant=restaurant, by=sales_agent, kind=ActivityKind.CALL, subject="Premier appel"
    )

    with django_capture_on_commit_callbacks(execute=True):
        request = services.conversion_request_create(
            restaurant=restaurant, by=sales_agent, payment_mode=PaymentMode.DIRECT_DEBIT, payment_days=30,
            iban="FR76 3000 6000 0112 3456 7890 189", bic="bnpafrpp", signature=PNG,
        )  # fmt: skip

    assert (request.iban, request.bic) == (IBAN, "BNPAFRPP")
    assert request.signature.read() == PNG
    asked = mail.outbox[-1]
    assert asked.to == ["compta@comadvisor.example"]
    assert asked.subject == "[Création Client] Bistrot Neuf"
    assert f"/requests/conversions/{request.pk}/" in asked.body
    with pytest.raises(ValidationError):
        services.conversion_request_create(
            restaurant=restaurant,
            by=sales_agent,
            payment_mode=PaymentMode.TRANSFER,
            payment_days=30,
        )

    with django_capture_on_commit_callbacks(execute=True):
        services.conversion_validate(conversion=request, by=accountant, client_code="c00099")

    restaurant.refresh_from_db()
    assert (restaurant.status, restaurant.client_code) == (RestaurantStatus.CLIENT, "C00099")
    call.refresh_from_db()
    assert call.while_prospect is True
    done = mail.outbox[-1]
    assert (done.to, done.subject) == ([sales_agent.email], "[Création Client] C00099 Bistrot Neuf")


def test_client_code_must_be_unique(
    sales_agent, accountant, restaurant_factory, segment, lyon, crm_settings
):
    restaurant_factory(client=True, client_code="C00099")
    restaurant = _complete_prospect(restaurant_factory, sales_agent, segment, lyon)
    request = services.conversion_request_create(
        restaurant=restaurant, by=sales_agent, payment_mode=PaymentMode.TRANSFER, payment_days=30
    )

    with pytest.raises(ValidationError) as error:
        services.conversion_validate(conversion=request, by=accountant, client_code="C00099")

    assert "client_code" in error.value.message_dict
    assert Restaurant.objects.get(pk=restaurant.pk).status == "prospect"


def test_reassignment_moves_and_records(client_manager, sales_agent, restaurant_factory):
    other = UserFactory(roles=["sales_agent"])
    first, second = restaurant_factory(sales_agent=other), restaurant_factory(sales_agent=other)

    moved = services.restaurants_reassign(
        by=client_manager,
        restaurants=Restaurant.objects.select_related("sales_agent"),
        agent=sales_agent,
    )

    assert moved == 2
    assert set(Restaurant.objects.values_list("sales_agent", flat=True)) == {sales_agent.pk}
    assert (
        Activity.objects.filter(restaurant=first, subject__startswith="Réattribué de").count() == 1
    )
    assert second.history.count() == 2


def test_reassignment_refuses_a_non_agent(client_manager, accountant, restaurant_factory):
    restaurant_factory()

    with pytest.raises(ValidationError):
        services.restaurants_reassign(
            by=client_manager, restaurants=Restaurant.objects.all(), agent=accountant
        )


def test_crm_settings_defaults():
    settings = CrmSettings.load()

    assert settings.cheque_payment_days == 20
    assert settings.hidden_origins == ["litigation"]


def test_sharing_a_prospect_lets_a_colleague_see_and_edit_it(
    client, sales_agent, restaurant_factory
):
    colleague = UserFactory(roles=["sales_agent"])
    prospect = restaurant_factory(created_by=sales_agent, sales_agent=sales_agent)
    client.force_login(colleague)
    assert client.get(f"/restaurants/{prospect.pk}/").status_code == 404

    services.restaurant_share(restaurant=prospect, by=sales_agent, colleague=colleague)

    assert client.get(f"/restaurants/{prospect.pk}/").status_code == 200
    colleague = type(colleague).objects.get(pk=colleague.pk)
    services.restaurant_update(restaurant=prospect, by=colleague, data={"city": "Bron"})
    services.restaurant_unshare(restaurant=prospect, by=sales_agent, colleague=colleague)
    assert client.get(f"/restaurants/{prospect.pk}/").status_code == 404


def test_only_a_prospect_owner_may_share(sales_agent, restaurant_factory):
    colleague = UserFactory(roles=["sales_agent"])
    prospect = restaurant_factory(created_by=colleague, sales_agent=colleague)

    with pytest.raises(PermissionDenied):
        services.restaurant_share(restaurant=prospect, by=sales_agent, colleague=sales_agent)


def test_change_request_email_body_is_exact(
    sales_agent, restaurant_factory, lyon, crm_settings, django_capture_on_commit_callbacks
):
    restaurant = restaurant_factory(
        client=True, client_code="C00042", name="Café de la Gare", zone=lyon, city="Lyon"
    )

    with django_capture_on_commit_callbacks(execute=True):
        request = services.change_request_create(
            restaurant=restaurant,
            by=sales_agent,
            values={"city": "Villeurbanne", "postal_code": "69100"},
        )

    assert mail.outbox[0].body == (
        "Bonjour,\n\n"
        f"{sales_agent.get_display_name()} demande les modifications suivantes sur le client C00042 Café de la Gare :\n\n"
        'Code postal : "69002" remplacé par "69100"\n'
        'Ville : "Lyon" remplacé par "Villeurbanne"\n'
        "\nCommentaire : \n\n"
        f"Traiter la demande : http://127.0.0.1:8000/requests/changes/{request.pk}/\n"
    )
