import json

from django.urls import reverse

from field import integration, services
from field.models import Envelope, FieldSettings
from sales.models import Visit
from tests.field.conftest import envelope, visit_payload


def _quarantined(agent, client_restaurant, seq=1):
    item = envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(kind="?"))  # fmt: skip
    services.envelopes_receive(agent=agent, items=[item], schedule=False)
    integration.integrate(notify=False)
    return Envelope.objects.get(name=item["name"])


def test_admins_list_envelopes_by_state_and_reason(client, admin_user, agent, client_restaurant):
    stored = _quarantined(agent, client_restaurant)
    client.force_login(admin_user)

    response = client.get(
        reverse("admin:field_envelope_changelist"), {"state__exact": "quarantined",
                                                     "reason_code__exact": "schema"}
    )  # fmt: skip

    assert response.status_code == 200
    assert stored.name in response.content.decode()


def _change_form(envelope: Envelope, **changes) -> dict:
    """The admin's change form of a quarantined envelope, as the page posts it."""
    form = {
        "payload": json.dumps(envelope.payload),
        "entity_id": envelope.entity_id if envelope.entity_id is not None else "",
        "entity_client_id": envelope.entity_client_id or "",
        "base_version": envelope.base_version,
    }
    form.update(changes)
    return form


def test_an_admin_fixes_the_payload_then_retries(client, admin_user, agent, client_restaurant):
    stored = _quarantined(agent, client_restaurant)
    client.force_login(admin_user)
    fixed = visit_payload(kind="phone")

    client.post(reverse("admin:field_envelope_change", args=[stored.pk]),
                _change_form(stored, payload=json.dumps(fixed)))  # fmt: skip
    client.post(reverse("admin:field_envelope_changelist"),
                {"action": "retry", "_selected_action": [stored.pk]})  # fmt: skip

    stored.refresh_from_db()
    assert stored.payload == fixed
    assert stored.state == "integrated"
    assert Visit.objects.get().kind == "phone"


def test_direction_discards_an_envelope_but_cannot_edit_the_settings(
    client, direction, agent, client_restaurant
):
    stored = _quarantined(agent, client_restaurant)
    client.force_login(direction)

    client.post(reverse("admin:field_envelope_changelist"),
                {"action": "discard", "_selected_action": [stored.pk]})  # fmt: skip
    settings_page = client.get(
        reverse("admin:field_fieldsettings_change", args=[FieldSettings.load().pk])
    )

    stored.refresh_from_db()
    assert (stored.state, stored.journal.by) == ("discarded", direction)
    assert settings_page.status_code in (200, 403)
    assert b'name="freshness_hours"' not in settings_page.content


def test_an_admin_sets_the_drop_folder_and_its_schedule(client, admin_user, tmp_path):
    from django_celery_beat.models import PeriodicTask

    client.force_login(admin_user)
    settings = FieldSettings.load()
    form = {
        "freshness_hours": 12, "idle_prospect_months": 6, "recent_activities": 3,
        "visit_backdate_days": "", "revisit_presets": "7, 30", "drop_folder": str(tmp_path),
        "drop_folder_minutes": 15, "rebuild_after_integration": "on", "notification_emails": "",
        "log_retention_days": 90,
    }  # fmt: skip

    response = client.post(reverse("admin:field_fieldsettings_change", args=[settings.pk]), form)

    assert response.status_code == 302
    job = PeriodicTask.objects.get(task="field.tasks.integrate_drop_folder")
    assert (job.enabled, job.interval.every) == (True, 15)
    assert PeriodicTask.objects.get(task="field.tasks.rebuild_snapshots").enabled is False
    assert FieldSettings.load().revisit_preset_days == [7, 30]


def test_agents_have_no_envelope_admin(client, agent):
    client.force_login(agent)

    response = client.get(reverse("admin:field_envelope_changelist"))

    assert response.status_code == 302


def test_an_admin_points_an_envelope_at_the_right_restaurant_then_retries(
    client, admin_user, agent, client_restaurant, lyon
):
    from tests.factories import RestaurantFactory

    gone = RestaurantFactory(name="Fermé", client=True, zone=lyon, sales_agent=agent)
    item = envelope(agent, seq=1, action="visit", restaurant=gone, payload=visit_payload())
    gone_id = gone.pk
    gone.delete()
    services.envelopes_receive(agent=agent, items=[item], schedule=False)
    integration.integrate(notify=False)
    stored = Envelope.objects.get()
    assert (stored.state, stored.reason_code) == ("quarantined", "not_found")
    client.force_login(admin_user)
    page = client.get(reverse("admin:field_envelope_change", args=[stored.pk]))
    assert b'name="entity_id"' in page.content
    assert b'name="base_version"' in page.content

    client.post(reverse("admin:field_envelope_change", args=[stored.pk]),
                _change_form(stored, entity_id=client_restaurant.pk))  # fmt: skip
    client.post(reverse("admin:field_envelope_changelist"),
                {"action": "retry", "_selected_action": [stored.pk]})  # fmt: skip

    stored.refresh_from_db()
    assert (stored.entity_id, stored.fixed_by) == (client_restaurant.pk, admin_user)
    assert stored.raw["entity"]["id"] == gone_id  # the original is kept
    assert stored.hash == item["hash"]
    assert stored.state == "integrated"
    assert Visit.objects.get().restaurant == client_restaurant


def test_a_base_version_that_is_not_a_time_is_refused_by_the_form(
    client, admin_user, agent, client_restaurant
):
    stored = _quarantined(agent, client_restaurant)
    client.force_login(admin_user)

    response = client.post(reverse("admin:field_envelope_change", args=[stored.pk]),
                           _change_form(stored, base_version="yesterday"))  # fmt: skip

    assert response.status_code == 200
    assert "base_version" in response.context["adminform"].form.errors
    stored.refresh_from_db()
    assert (stored.base_version, stored.fixed_at) == ("", None)


def test_an_integrated_envelope_cannot_be_edited(client, admin_user, agent, client_restaurant):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    services.envelopes_receive(agent=agent, items=[item], schedule=False)
    integration.integrate(notify=False)
    stored = Envelope.objects.get()
    client.force_login(admin_user)

    page = client.get(reverse("admin:field_envelope_change", args=[stored.pk]))
    client.post(reverse("admin:field_envelope_change", args=[stored.pk]),
                _change_form(stored, entity_id=stored.entity_id + 1))  # fmt: skip

    assert b'name="entity_id"' not in page.content
    stored.refresh_from_db()
    assert (stored.entity_id, stored.fixed_at) == (client_restaurant.pk, None)


# --- Devices: waiting envelopes, giving up missing numbers -------------------------------------


def _held_device(agent, client_restaurant, *, seqs=(3, 4), received_hours_ago=0):
    """A device whose numbers 1 and 2 never came: its envelopes 3 and 4 wait."""
    from datetime import timedelta

    from django.utils import timezone

    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"n°{seq}")) for seq in seqs]  # fmt: skip
    services.envelopes_receive(agent=agent, items=items, schedule=False)
    integration.integrate(notify=False)
    Envelope.objects.update(received_at=timezone.now() - timedelta(hours=received_hours_ago))
    return Envelope.objects.first().device


def test_the_device_list_shows_waiting_envelopes_and_missing_numbers(
    client, admin_user, agent, client_restaurant, django_assert_max_num_queries
):
    from field.models import Device

    device = _held_device(agent, client_restaurant)
    Device.objects.create(agent=agent, device="devffff01", last_seq=7)
    client.force_login(admin_user)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:field_device_changelist"), {"waiting": "held"})

    rows = response.context["cl"].result_list
    assert [(row.device, row.pending_count, row.first_pending_seq) for row in rows] == [
        (device.device, 2, 3)
    ]
    content = response.content.decode()
    assert '<td class="field-missing">1-2</td>' in content
    assert '<td class="field-pending">2</td>' in content


def test_the_device_list_takes_as_many_queries_for_one_device_as_for_three(
    client, admin_user, make_user, django_assert_max_num_queries
):
    from field.models import Device

    client.force_login(admin_user)
    url = reverse("admin:field_device_changelist")
    Device.objects.create(agent=admin_user, device="dev000001")
    client.get(url)
    with django_assert_max_num_queries(12) as one:
        client.get(url)
    for n in range(2, 4):
        Device.objects.create(agent=make_user(username=f"agent{n}"), device=f"dev00000{n}")

    with django_assert_max_num_queries(len(one)):
        response = client.get(url)

    assert len(response.context["cl"].result_list) == 3


def test_direction_gives_up_the_missing_numbers_of_a_device_and_the_rest_is_integrated(
    client, direction, agent, client_restaurant, django_capture_on_commit_callbacks
):
    device = _held_device(agent, client_restaurant)
    assert set(Envelope.objects.values_list("state", flat=True)) == {"pending"}
    client.force_login(direction)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:field_device_changelist"),
            {"action": "give_up_missing_numbers", "_selected_action": [device.pk]},
            follow=True,
        )

    device.refresh_from_db()
    assert device.last_seq == 4
    [entry] = device.skipped
    assert (entry["seqs"], entry["by"]) == ([1, 2], direction.username)
    assert set(Envelope.objects.values_list("state", flat=True)) == {"integrated"}
    assert sorted(Visit.objects.values_list("report", flat=True)) == ["n°3", "n°4"]
    assert "1, 2" in response.content.decode()


def test_an_agent_cannot_give_up_numbers(client, agent, client_restaurant):
    device = _held_device(agent, client_restaurant)
    client.force_login(agent)

    client.post(reverse("admin:field_device_changelist"),
                {"action": "give_up_missing_numbers", "_selected_action": [device.pk]})  # fmt: skip

    device.refresh_from_db()
    assert (device.last_seq, device.skipped) == (0, [])
