from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.models import Activity, AssetType, Restaurant, RestaurantAsset
from field import integration, services, snapshots
from field.models import Device, FieldSettings, Snapshot
from sales.models import Contract, ContractTerm, Invoice, Pack, Visit, VisitFormNode
from tests.factories import RestaurantFactory
from tests.field.conftest import envelope, visit_payload


def document(agent) -> dict:
    return snapshots.snapshot_document(snapshots.snapshot_rebuild(agent=agent))


def _age(restaurant, *, months: int) -> None:
    then = timezone.now() - timedelta(days=31 * months)
    Restaurant.objects.filter(pk=restaurant.pk).update(updated_at=then, created_at=then)


def test_idle_prospects_are_left_out(agent, lyon):
    active = RestaurantFactory(name="Récent", created_by=agent, sales_agent=agent, zone=lyon)
    idle = RestaurantFactory(name="Oublié", created_by=agent, sales_agent=agent, zone=lyon)
    revisit = RestaurantFactory(name="À revoir", created_by=agent, sales_agent=agent, zone=lyon,
                                revisit_date=timezone.localdate() + timedelta(days=3))  # fmt: skip
    called = RestaurantFactory(name="Appelé", created_by=agent, sales_agent=agent, zone=lyon)
    for restaurant in (idle, revisit, called):
        _age(restaurant, months=13)
    Activity.objects.create(restaurant=called, kind="call", subject="Rappel",
                            occurred_at=timezone.now() - timedelta(days=40))  # fmt: skip

    names = {p["name"] for p in document(agent)["prospects"]}

    assert names == {active.name, revisit.name, called.name}
    settings = FieldSettings.load()
    settings.idle_prospect_months = 24
    settings.save()
    assert idle.name in {p["name"] for p in document(agent)["prospects"]}


def test_a_colleagues_prospect_of_the_same_zone_is_left_out(agent, colleague, prospect, lyon):
    theirs = RestaurantFactory(name="Chez Gaston", created_by=colleague, sales_agent=colleague,
                               zone=lyon, city="Lyon")  # fmt: skip
    # Given to the agent by a manager: theirs now, whoever created it.
    given = RestaurantFactory(name="Chez Lucie", created_by=colleague, sales_agent=agent,
                              zone=lyon)  # fmt: skip

    mine = document(agent)
    their_own = document(colleague)

    assert sorted(p["name"] for p in mine["prospects"]) == [given.name, prospect.name]
    assert theirs.pk not in {r["id"] for r in mine["prospects"] + mine["clients"]}
    # The colleague keeps the prospects they created, the one they gave away included.
    assert sorted(p["name"] for p in their_own["prospects"]) == [theirs.name, given.name]


def test_the_snapshot_holds_clients_with_revenue_visits_and_lists(
    agent, colleague, client_restaurant, lyon, segment
):
    today = timezone.localdate()
    pack = Pack.objects.create(code="essentiel", name="Essentiel", monthly_price=Decimal("149"))
    contract = Contract.objects.create(
        restaurant=client_restaurant, start_date=date(today.year - 1, 1, 1), duration_months=26,
        end_date=date(today.year + 1, 2, 28), signed_by=agent, status="active",
    )  # fmt: skip
    ContractTerm.objects.create(contract=contract, starts_on=contract.start_date, pack=pack,
                                monthly_price=Decimal("149"), posts_per_month=4,
                                changed_by=agent)  # fmt: skip
    for month, amount in (
        (date(today.year, 1, 1), "149.00"),
        (date(today.year - 1, 3, 1), "100.50"),
    ):
        Invoice.objects.create(number=f"F{month:%Y%m}", contract=contract, restaurant=client_restaurant,
                               month=month, amount=Decimal(amount), pack_name="Essentiel")  # fmt: skip
    screens = AssetType.objects.create(name="Écrans")
    RestaurantAsset.objects.create(restaurant=client_restaurant, asset_type=screens, count=2)
    now = timezone.now()
    for who, report in ((agent, "moi"), (colleague, "collègue")):
        Visit.objects.create(restaurant=client_restaurant, agent=who, start=now, end=now,
                             status="done", report=report, pack_offered=pack)  # fmt: skip
    elsewhere = RestaurantFactory(name="Ailleurs", client=True)
    Visit.objects.create(restaurant=elsewhere, agent=colleague, start=now, end=now, status="done")
    Activity.objects.create(restaurant=client_restaurant, kind="note", subject="Visible")
    Activity.objects.create(restaurant=client_restaurant, kind="note", subject="Archivée",
                            archived=True)  # fmt: skip
    group = VisitFormNode.objects.create(kind="radio", label="Intérêt", order=999)
    option = VisitFormNode.objects.create(kind="option", label="Fort", parent=group)

    data = document(agent)

    [client] = data["clients"]
    assert (client["id"], client["code"], client["zone"]) == (
        client_restaurant.pk, client_restaurant.client_code, "Lyon"
    )  # fmt: skip
    assert client["assigned"] is True
    assert (client["revenue_this_year"], client["revenue_last_year"]) == ("149.00", "100.50")
    assert client["assets"] == {str(screens.pk): 2}
    assert sorted((v["report"], v["agent"], v["pack"]) for v in data["visits"]) == [
        ("collègue", "collegue", "essentiel"), ("moi", agent.username, "essentiel")
    ]  # fmt: skip
    assert [a["subject"] for a in data["activities"]] == ["Visible"]
    assert data["visit_form"][-1:] == [{"id": group.pk, "kind": "radio", "label": "Intérêt", "options": [
        {"id": option.pk, "label": "Fort", "groups": []}]}]  # fmt: skip
    assert data["lists"]["segments"] == [{"code": "brasserie", "name": "Brasserie"}]
    assert data["lists"]["asset_types"] == [{"code": str(screens.pk), "name": "Écrans"}]
    assert {"name": "phone", "label": "Téléphone"} in data["lists"]["change_request_fields"]
    assert data["stats"]["contracts"] == [
        {"signed_on": today.isoformat(), "monthly_price": "149.00", "duration_months": 26}
    ]
    assert data["stats"]["invoices"] == [
        {"month": f"{today.year - 1}-03", "amount": "100.50"},
        {"month": f"{today.year}-01", "amount": "149.00"},
    ]
    assert data["settings"]["freshness_hours"] == 24
    assert data["agent"]["code"] == agent.username


def test_devices_and_rejected_envelopes_reach_the_agent(agent, client_restaurant):
    good = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    bad = envelope(agent, seq=2, action="visit", restaurant=client_restaurant,
                   payload=visit_payload(kind="?"))  # fmt: skip
    services.envelopes_receive(agent=agent, items=[good, bad], schedule=False)
    integration.integrate()

    data = document(agent)

    assert data["devices"] == {"dev0a1b2c": 2}
    assert data["skipped"] == {}
    [rejected] = data["rejected"]
    assert (rejected["name"], rejected["state"]) == (bad["name"], "quarantined")
    assert "?" in rejected["reason"]


def test_the_numbers_an_admin_gave_up_reach_the_device_that_may_hold_them(
    agent, admin_user, client_restaurant
):
    later = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"visite {seq}")) for seq in (3, 7)]  # fmt: skip
    other = envelope(agent, seq=1, action="visit", restaurant=client_restaurant, device="dev99ff",
                     payload=visit_payload())  # fmt: skip
    services.envelopes_receive(agent=agent, items=[*later, other], schedule=False)
    device = Device.objects.get(device="dev0a1b2c")
    assert services.device_skip_gap(device=device, by=admin_user) == [1, 2]
    integration.integrate()
    assert services.device_skip_gap(device=device, by=admin_user) == [4, 5, 6]
    integration.integrate()

    data = document(agent)

    assert data["devices"] == {"dev0a1b2c": 7, "dev99ff": 1}
    assert data["skipped"] == {"dev0a1b2c": [1, 2, 4, 5, 6]}


def test_an_integration_touching_the_agent_rebuilds_their_snapshot(
    client, agent, client_restaurant, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    first = client.get("/field/api/snapshot")
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(report="nouvelle"))  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/field/api/envelopes", {"envelopes": [item]}, content_type="application/json")

    snapshot = Snapshot.objects.get(agent=agent)
    assert not snapshot.stale
    assert snapshot.etag != first["ETag"]
    second = client.get("/field/api/snapshot", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert [v["report"] for v in snapshots.snapshot_document(snapshot)["visits"]] == ["nouvelle"]


def test_a_stale_snapshot_is_rebuilt_when_read(client, agent, client_restaurant):
    client.force_login(agent)
    first = client.get("/field/api/snapshot")
    Snapshot.objects.update(stale=True)

    second = client.get("/field/api/snapshot", HTTP_IF_NONE_MATCH=first["ETag"])

    assert second.status_code == 200
    assert second["ETag"] != first["ETag"]


def test_the_snapshot_command_rebuilds_every_agent(agent, colleague, capsys):
    from django.core.management import call_command

    call_command("field_snapshots")

    assert set(Snapshot.objects.values_list("agent__username", flat=True)) == {
        agent.username, colleague.username
    }  # fmt: skip
    assert "2 snapshot(s) rebuilt" in capsys.readouterr().out


@pytest.mark.parametrize("rows", [1, 30])
def test_building_a_snapshot_takes_a_fixed_number_of_queries(
    agent, lyon, rows, django_assert_max_num_queries
):
    for n in range(rows):
        restaurant = RestaurantFactory(client=True, zone=lyon, sales_agent=agent)
        Visit.objects.create(restaurant=restaurant, agent=agent, start=timezone.now(),
                             end=timezone.now(), status="done")  # fmt: skip
        RestaurantFactory(name=f"P{n}", created_by=agent, sales_agent=agent, zone=lyon)

    snapshots.snapshot_data(agent=agent)  # creates the settings rows on first read

    with django_assert_max_num_queries(24):
        data = snapshots.snapshot_data(agent=agent)

    assert len(data["clients"]) == rows


def test_a_conversion_makes_the_agents_snapshot_stale(
    agent, prospect, accountant, crm_settings, django_capture_on_commit_callbacks
):
    from crm import services as crm_services
    from crm.models import ConversionRequest

    snapshots.snapshot_rebuild(agent=agent)
    request = ConversionRequest.objects.create(restaurant=prospect, requested_by=agent,
                                               payment_mode="transfer", payment_days=30)  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        crm_services.conversion_validate(conversion=request, by=accountant, client_code="C777")

    assert Snapshot.objects.get(agent=agent).stale
    assert [c["code"] for c in snapshots.snapshot_data(agent=agent)["clients"]] == ["C777"]


def test_an_admins_kit_holds_the_restaurants_in_their_hands_not_the_company(
    client, admin_user, agent, lyon
):
    assigned = RestaurantFactory(name="Confié", client=True, zone=lyon, sales_agent=admin_user)
    created = RestaurantFactory(name="Trouvé", created_by=admin_user, zone=lyon)
    RestaurantFactory(name="De l'agent", client=True, zone=lyon, sales_agent=agent)
    RestaurantFactory(name="Prospect de l'agent", created_by=agent, sales_agent=agent, zone=lyon)

    data = document(admin_user)

    assert [c["name"] for c in data["clients"]] == [assigned.name]
    assert [p["name"] for p in data["prospects"]] == [created.name]
    # An agent still gets the clients of their zones, the one in the admin's hands included.
    assert {c["name"] for c in document(agent)["clients"]} == {assigned.name, "De l'agent"}


def test_the_nightly_rebuild_is_for_sales_agents_not_whoever_opened_the_kit(
    client, admin_user, direction, agent
):
    for user in (admin_user, direction):
        client.force_login(user)
        assert client.get("/field/api/snapshot").status_code == 200
    built = dict(Snapshot.objects.values_list("agent_id", "generated_at"))

    rebuilt = snapshots.snapshots_rebuild_all()

    assert snapshots.field_kit_users() == [agent]
    assert rebuilt == 1
    after = dict(Snapshot.objects.values_list("agent_id", "generated_at"))
    assert after[admin_user.pk] == built[admin_user.pk]
    assert after[direction.pk] == built[direction.pk]
    assert agent.pk in after


def test_the_nightly_rebuild_drops_the_snapshots_of_users_who_left(agent, colleague):
    snapshots.snapshot_rebuild(agent=colleague)
    colleague.is_active = False
    colleague.save()

    assert snapshots.snapshots_rebuild_all() == 1

    assert list(Snapshot.objects.values_list("agent_id", flat=True)) == [agent.pk]


# --- Rebuilt when read: too old, or what it copies changed since ------------------------------


def _read(client, agent, etag=None):
    client.force_login(agent)
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get("/field/api/snapshot", **headers)


def _built_hours_ago(agent, hours: float) -> None:
    """As if the snapshot had been built `hours` ago, after everything the test made."""
    then = timezone.now() - timedelta(hours=hours)
    Restaurant.history.model.objects.update(history_date=then - timedelta(minutes=1))
    Snapshot.objects.filter(agent=agent).update(generated_at=then)


def test_a_snapshot_past_half_the_freshness_limit_is_rebuilt_when_read_without_the_nightly_job(
    client, agent, client_restaurant
):
    FieldSettings.load()
    FieldSettings.objects.update(freshness_hours=8, rebuild_nightly=False)
    etag = _read(client, agent)["ETag"]
    _built_hours_ago(agent, 3.9)

    kept = _read(client, agent, etag)
    _built_hours_ago(agent, 4.1)
    rebuilt = _read(client, agent, etag)

    assert kept.status_code == 304
    assert rebuilt.status_code == 200
    assert rebuilt["ETag"] != etag
    age = timezone.now() - Snapshot.objects.get(agent=agent).generated_at
    assert age < timedelta(minutes=1)


def test_an_unchanged_snapshot_is_answered_304_in_a_few_queries(
    client, agent, client_restaurant, lyon, django_assert_max_num_queries
):
    etag = _read(client, agent)["ETag"]
    other_zone = RestaurantFactory(name="Ailleurs", client=True, postal_code="13001")
    other_zone.name = "Ailleurs encore"
    other_zone.save()  # nothing of the agent's
    client.force_login(agent)
    # The content types of the admin's lists are cached per process after their first read,
    # whichever test ran before this one.
    ContentType.objects.get_for_models(*snapshots._admin_lists())

    with django_assert_max_num_queries(12):
        response = client.get("/field/api/snapshot", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304


def test_a_reassignment_on_the_web_reaches_both_agents_at_their_next_read(
    client, client_manager, agent, colleague, client_restaurant
):
    from crm import services as crm_services

    mine = _read(client, agent)["ETag"]
    theirs = _read(client, colleague)["ETag"]

    crm_services.restaurants_reassign(by=client_manager, restaurants=[client_restaurant],
                                      agent=colleague)  # fmt: skip

    for user, etag in ((agent, mine), (colleague, theirs)):
        response = _read(client, user, etag)
        assert response.status_code == 200, user
    data = snapshots.snapshot_document(Snapshot.objects.get(agent=agent))
    assert [(c["name"], c["assigned"]) for c in data["clients"]] == [("Le Bouchon", False)]


def test_a_restaurant_leaving_the_agents_hands_outdates_their_snapshot(
    client, client_manager, agent, prospect
):
    from crm import services as crm_services

    etag = _read(client, agent)["ETag"]
    crm_services.restaurant_archive(restaurant=prospect, by=client_manager)

    response = _read(client, agent, etag)

    assert response.status_code == 200
    assert snapshots.snapshot_document(Snapshot.objects.get(agent=agent))["prospects"] == []


def test_a_colleagues_visit_on_the_agents_client_outdates_their_snapshot(
    client, agent, colleague, client_restaurant
):
    from sales import services as sales_services

    etag = _read(client, agent)["ETag"]
    sales_services.visit_record_today(restaurant=client_restaurant, by=colleague,
                                      day=timezone.localdate(), report="Passé par là")  # fmt: skip

    response = _read(client, agent, etag)

    assert response.status_code == 200
    visits = snapshots.snapshot_document(Snapshot.objects.get(agent=agent))["visits"]
    assert [(v["agent"], v["report"]) for v in visits] == [(colleague.username, "Passé par là")]


def test_lists_and_settings_saved_in_the_admin_outdate_every_snapshot(
    client, admin_user, agent, client_restaurant
):
    etag = _read(client, agent)["ETag"]
    client.force_login(admin_user)
    response = client.post(
        f"/admin/field/fieldsettings/{FieldSettings.load().pk}/change/",
        {
            "freshness_hours": 6, "idle_prospect_months": 12, "recent_activities": 3,
            "visit_backdate_days": "", "revisit_presets": "7, 30", "drop_folder": "",
            "drop_folder_minutes": 5, "rebuild_after_integration": "on",
            "rebuild_nightly": "on", "notification_emails": "", "log_retention_days": 180,
        },
    )  # fmt: skip
    assert response.status_code == 302

    response = _read(client, agent, etag)

    assert response.status_code == 200
    data = snapshots.snapshot_document(Snapshot.objects.get(agent=agent))
    assert data["settings"]["freshness_hours"] == 6


def test_a_burst_of_changes_elsewhere_rebuilds_without_looking_which(
    client, agent, client_restaurant, monkeypatch
):
    monkeypatch.setattr(snapshots, "CHANGES_LOOKED_AT", 2)
    etag = _read(client, agent)["ETag"]
    for n in range(2):
        RestaurantFactory(name=f"Ailleurs {n}", client=True, postal_code="13001")
    assert _read(client, agent, etag).status_code == 304  # two: looked at, not the agent's

    RestaurantFactory(name="Ailleurs 2", client=True, postal_code="13001")

    assert _read(client, agent, etag).status_code == 200
