import random
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import DataError, IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.enums import RestaurantStatus
from crm.models import ChangeRequest, ConversionRequest, Restaurant
from field import integration, services, snapshots
from field.enums import EnvelopeState, Flag, Reason
from field.integration import _field_label
from field.models import Device, Envelope, FieldSettings, JournalEntry, NameClash
from sales.models import Visit, VisitFormNode
from tests.field.conftest import IBAN, PNG_URL, envelope, new_client_id, version, visit_payload


def receive(agent, items):
    return [r.status for r in services.envelopes_receive(agent=agent, items=items, schedule=False)]


def states(*items) -> list[str]:
    by_name = dict(Envelope.objects.values_list("name", "state"))
    return [by_name.get(item["name"]) for item in items]


def reason_of(item) -> tuple[str, str]:
    stored = Envelope.objects.get(name=item["name"])
    return stored.reason_code, stored.reason


def test_a_visit_is_recorded_through_the_sales_service(agent, client_restaurant):
    group = VisitFormNode.objects.create(kind="radio", label="Intérêt")
    option = VisitFormNode.objects.create(kind="option", label="Fort", parent=group)
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant, payload=visit_payload(
        answers={str(group.pk): [str(option.pk)]},
        revisit_date=(timezone.localdate() + timedelta(days=30)).isoformat(),
    ))  # fmt: skip
    receive(agent, [item])

    report = integration.integrate()

    assert report.integrated == 1
    visit = Visit.objects.get()
    assert visit.answers == [{"node": option.pk, "group": "Intérêt", "option": "Fort"}]
    client_restaurant.refresh_from_db()
    assert client_restaurant.revisit_date == timezone.localdate() + timedelta(days=30)
    assert client_restaurant.activities.filter(origin="field").count() == 1
    assert Device.objects.get().last_seq == 1
    entry = JournalEntry.objects.get()
    assert (entry.name, entry.outcome) == (item["name"], EnvelopeState.INTEGRATED)


def test_a_gap_holds_the_later_envelopes_until_it_is_filled(agent, client_restaurant):
    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"visite {seq}")) for seq in (1, 2, 3, 4)]  # fmt: skip
    receive(agent, [items[0], items[2], items[3]])

    integration.integrate()

    assert states(*items) == ["integrated", None, "pending", "pending"]
    assert Device.objects.get().last_seq == 1
    receive(agent, [items[1]])
    integration.integrate()
    assert states(*items) == ["integrated"] * 4
    assert list(Visit.objects.order_by("id").values_list("report", flat=True)) == [
        "visite 1", "visite 2", "visite 3", "visite 4"
    ]  # fmt: skip


def test_a_gap_in_front_of_a_full_read_ends_the_run(agent, client_restaurant, monkeypatch):
    monkeypatch.setattr(integration, "BATCH", 3)
    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"visite {seq}")) for seq in range(1, 7)]  # fmt: skip
    receive(agent, items[1:])  # number 1 never came
    reads = []
    real = integration._integrate_queue
    monkeypatch.setattr(integration, "_integrate_queue", lambda **kw: reads.append(1) or real(**kw))

    integration.integrate()

    assert len(reads) == 1
    assert states(*items) == [None] + ["pending"] * 5
    receive(agent, items[:1])
    integration.integrate()
    assert states(*items) == ["integrated"] * 6
    assert list(Visit.objects.order_by("id").values_list("report", flat=True)) == [
        f"visite {seq}" for seq in range(1, 7)
    ]


def test_an_envelope_filling_the_gap_during_a_run_is_applied_in_its_place(
    agent, client_restaurant, monkeypatch
):
    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"visite {seq}")) for seq in (1, 2, 3)]  # fmt: skip
    receive(agent, [items[0], items[2]])
    real = integration._fill_decided_gap

    def arrives_meanwhile(device_id, seq):
        # The missing envelope is uploaded after the run read the queue.
        if not Envelope.objects.filter(name=items[1]["name"]).exists():
            receive(agent, [items[1]])
        return real(device_id, seq)

    monkeypatch.setattr(integration, "_fill_decided_gap", arrives_meanwhile)
    integration.integrate()

    assert states(*items) == ["integrated"] * 3
    assert list(Visit.objects.order_by("id").values_list("report", flat=True)) == [
        "visite 1", "visite 2", "visite 3"
    ]  # fmt: skip


def test_what_someone_else_decides_after_the_queue_was_read_rolls_this_run_back(
    agent, admin_user, client_restaurant, monkeypatch
):
    """The guarded cursor and the pending-only outcome, without the advisory lock: another
    integrator applies envelope 1 and an admin discards envelope 2 between this run's read of
    the queue and its transactions; each name is still decided once."""
    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"visite {seq}")) for seq in (1, 2, 3, 4)]  # fmt: skip
    receive(agent, items)
    real = integration._integrate_one
    meddled = []

    def others_first(envelope_row, *, seq, report, context):
        if not meddled:
            meddled.append(True)
            first = Envelope.objects.get(name=items[0]["name"])
            real(first, seq=1, report=integration.RunReport(), context=context)
            second = Envelope.objects.get(name=items[1]["name"])
            services.envelope_discard(envelope=second, by=admin_user, reason="doublon")
        return real(envelope_row, seq=seq, report=report, context=context)

    monkeypatch.setattr(integration, "_integrate_one", others_first)
    integration.integrate()

    assert states(*items) == ["integrated", "discarded", "integrated", "integrated"]
    assert sorted(Visit.objects.values_list("report", flat=True)) == [
        "visite 1", "visite 3", "visite 4"
    ]  # fmt: skip
    assert JournalEntry.objects.count() == 4
    assert Device.objects.get().last_seq == 4


def _scenario(agent, client_restaurant, prospect):
    client_id = new_client_id()
    base = version(prospect)
    return [
        envelope(agent, seq=1, action="prospect-create", client_id=client_id,
                 payload={"fields": {"name": "Nouveau", "phone": "04 78 00 00 01"}}),
        envelope(agent, seq=2, action="prospect-update", client_id=client_id,
                 base_version=base, payload={"fields": {"city": "Lyon"}, "base": {"city": ""}}),
        envelope(agent, seq=3, action="prospect-update", restaurant=prospect, base_version=base,
                 payload={"fields": {"city": "Villeurbanne"}, "base": {"city": "Lyon"}}),
        envelope(agent, seq=4, action="prospect-update", restaurant=prospect, base_version=base,
                 payload={"fields": {"city": "Bron"}, "base": {"city": "Villeurbanne"}}),
        envelope(agent, seq=5, action="visit", restaurant=client_restaurant, payload=visit_payload()),
        # The second tablet knows the prospects of its snapshot, by their server id (one
        # created offline on the first tablet reaches it only once integrated).
        envelope(agent, seq=1, device="dev9f9f", action="prospect-visit", restaurant=prospect,
                 payload=visit_payload(report="seconde tablette")),
    ]  # fmt: skip


def _state():
    restaurants = sorted(Restaurant.objects.values_list("name", "city", "phone", "status"))
    visits = sorted(Visit.objects.values_list("restaurant__name", "report"))
    envelopes = sorted(Envelope.objects.values_list("name", "state"))
    return restaurants, visits, envelopes


def _ordered_state(items, client_restaurant):
    """The scenario's envelopes applied once each, in order: every row, nothing more."""
    client = (client_restaurant.name, client_restaurant.city, client_restaurant.phone, "client")
    restaurants = sorted([client, ("Chez Nous", "Bron", "+33472111111", "prospect"),
                          ("Nouveau", "Lyon", "+33478000001", "prospect")])  # fmt: skip
    visits = sorted([(client_restaurant.name, "Rencontre avec le gérant"),
                     ("Chez Nous", "seconde tablette")])  # fmt: skip
    return restaurants, visits, sorted((item["name"], "integrated") for item in items)


@pytest.mark.parametrize("seed", range(12))
def test_shuffled_batches_end_in_the_state_of_ordered_ones(
    agent, client_restaurant, prospect, seed, django_db_blocker
):
    items = _scenario(agent, client_restaurant, prospect)
    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    # Delivered in three uploads, each followed by an integration run.
    for start in range(0, len(shuffled), 2):
        receive(agent, shuffled[start : start + 2])
        integration.integrate()

    assert _state() == _ordered_state(items, client_restaurant)


def test_shuffled_and_ordered_deliveries_agree(agent, client_restaurant, prospect):
    """The same scenario delivered in order gives what the shuffled runs above assert."""
    items = _scenario(agent, client_restaurant, prospect)
    receive(agent, items)
    integration.integrate()

    assert _state() == _ordered_state(items, client_restaurant)


def test_a_crash_at_envelope_k_leaves_the_earlier_integrated_and_a_rerun_finishes_once(
    agent, client_restaurant, monkeypatch
):
    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"visite {seq}")) for seq in range(1, 6)]  # fmt: skip
    receive(agent, items)
    real = integration.APPLIERS["visit"]

    def crash_on_third(envelope_row, agent_row, context):
        if envelope_row.seq == 3:
            real(envelope_row, agent_row, context)  # the visit is written, then the process dies
            raise OperationalError("server closed the connection unexpectedly")
        return real(envelope_row, agent_row, context)

    monkeypatch.setitem(integration.APPLIERS, "visit", crash_on_third)
    with pytest.raises(OperationalError):
        integration.integrate()

    assert states(*items) == ["integrated", "integrated", "pending", "pending", "pending"]
    assert Visit.objects.count() == 2
    monkeypatch.setitem(integration.APPLIERS, "visit", real)
    integration.integrate()
    integration.integrate()
    assert states(*items) == ["integrated"] * 5
    assert sorted(Visit.objects.values_list("report", flat=True)) == [
        f"visite {seq}" for seq in range(1, 6)
    ]
    assert JournalEntry.objects.count() == 5


@pytest.fixture
def bad_batch(agent, colleague, client_restaurant, prospect, lyon, restaurant_factory):
    """One good envelope between envelopes each wrong in its own way."""
    theirs = restaurant_factory(name="Chez l'autre", zone=lyon, created_by=colleague,
                                sales_agent=colleague)  # fmt: skip
    future = timezone.localdate() + timedelta(days=2)
    old = envelope(agent, seq=2, action="visit", restaurant=client_restaurant,
                   payload=visit_payload())  # fmt: skip
    old["schema"] = 2
    tampered = envelope(agent, seq=3, action="visit", restaurant=client_restaurant,
                        payload=visit_payload())  # fmt: skip
    tampered["payload"] = visit_payload(report="modifié en route")
    return {
        "good": envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                         payload=visit_payload()),
        "schema": old,
        "hash": tampered,
        "rights": envelope(agent, seq=4, action="prospect-update", restaurant=theirs,
                           base_version=version(theirs),
                           payload={"fields": {"city": "Lyon"}, "base": {"city": "Lyon"}}),
        "rules": envelope(agent, seq=5, action="visit", restaurant=client_restaurant,
                          payload=visit_payload(day=future)),
        "payment": envelope(agent, seq=6, action="conversion-request", restaurant=prospect,
                            payload={"fields": {}, "payment_mode": "direct_debit",
                                     "payment_days": 30, "iban": "FR76 0000", "bic": "BNPAFRPP",
                                     "signature": PNG_URL}),
        "unknown": envelope(agent, seq=7, action="visit", kind="client",
                            payload=visit_payload(), restaurant=None, client_id=new_client_id()),
        "last": envelope(agent, seq=8, action="visit", restaurant=client_restaurant,
                         payload=visit_payload(report="après les refus")),
    }  # fmt: skip


def test_every_kind_of_bad_envelope_is_quarantined_with_its_reason_and_the_rest_proceed(
    agent, bad_batch, admins_notified, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    assert receive(agent, list(bad_batch.values())) == ["received"] * 8

    with django_capture_on_commit_callbacks(execute=True):
        report = integration.integrate()

    assert report.integrated == 2
    assert states(*bad_batch.values()) == ["integrated", *["quarantined"] * 6, "integrated"]
    assert reason_of(bad_batch["schema"]) == (
        Reason.SCHEMA,
        _("unknown schema %(schema)s") % {"schema": 2},
    )
    assert reason_of(bad_batch["hash"]) == (Reason.HASH, _("the content does not match its hash"))
    assert reason_of(bad_batch["rights"]) == (
        Reason.RIGHTS,
        _("this restaurant is not in your portfolio"),
    )
    code, reason = reason_of(bad_batch["rules"])
    assert code == Reason.RULES and _("A visit cannot be recorded in the future.") in reason
    code, reason = reason_of(bad_batch["payment"])
    assert code == Reason.PAYMENT and "IBAN" in reason
    assert reason_of(bad_batch["unknown"])[0] == Reason.NOT_FOUND
    assert Visit.objects.count() == 2
    assert not ConversionRequest.objects.exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == admins_notified
    for name in ("schema", "hash", "rights", "rules", "payment", "unknown"):
        assert bad_batch[name]["name"] in mail.outbox[0].body
    assert JournalEntry.objects.filter(outcome="quarantined").count() == 6


def test_more_kinds_of_bad_envelopes_are_quarantined_with_their_reason(
    agent, client_restaurant, prospect, restaurant_factory, lyon, crm_settings, segment,
    settings, tmp_path,
):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    waiting = restaurant_factory(name="En attente", zone=lyon, created_by=agent, sales_agent=agent)
    ConversionRequest.objects.create(
        restaurant=waiting, requested_by=agent, status="pending", payment_days=30
    )
    full = {"segment": "brasserie", "address": "1 rue de la République", "postal_code": "69002",
            "city": "Lyon", "siret": "73282932000074"}  # fmt: skip
    renamed = envelope(
        agent, seq=1, action="visit", restaurant=client_restaurant, payload=visit_payload()
    )
    renamed["name"] = renamed["name"].replace("_visit_", "_change-request_")
    unknown_action = envelope(
        agent, seq=2, action="teleport", kind="client", restaurant=client_restaurant, payload={}
    )
    wrong_kind = envelope(
        agent,
        seq=3,
        action="visit",
        kind="prospect",
        restaurant=client_restaurant,
        payload=visit_payload(),
    )
    batch = {
        "name": renamed,
        "action": unknown_action,
        "kind": wrong_kind,
        "answer": envelope(agent, seq=4, action="visit", restaurant=client_restaurant,
                           payload=visit_payload(answers={"999999": ["999998"]})),
        "phone": envelope(agent, seq=5, action="prospect-create", client_id=new_client_id(),
                          payload={"fields": {"name": "Mauvais numéro", "phone": "12"}}),
        "siret": envelope(agent, seq=6, action="prospect-update", restaurant=prospect,
                          base_version=version(prospect),
                          payload={"fields": {"siret": "12345678901234"}, "base": {"siret": ""}}),
        "signature": envelope(agent, seq=7, action="conversion-request", restaurant=prospect,
                              payload={"fields": full, "payment_mode": "direct_debit",
                                       "payment_days": 30, "iban": IBAN, "bic": "BNPAFRPP",
                                       "signature": ""}),
        "bic": envelope(agent, seq=8, action="conversion-request", restaurant=prospect,
                        payload={"fields": full, "payment_mode": "direct_debit",
                                 "payment_days": 30, "iban": IBAN, "bic": "NOTABIC",
                                 "signature": PNG_URL}),
        "mandatory": envelope(agent, seq=9, action="conversion-request", restaurant=prospect,
                              payload={"fields": {}, "payment_mode": "direct_debit",
                                       "payment_days": 30, "iban": IBAN, "bic": "BNPAFRPP",
                                       "signature": PNG_URL}),
        "delete": envelope(agent, seq=10, action="prospect-delete", restaurant=waiting,
                           base_version=version(waiting), payload={}),
        "last": envelope(agent, seq=11, action="visit", restaurant=client_restaurant,
                         payload=visit_payload(report="après les refus")),
    }  # fmt: skip
    assert receive(agent, list(batch.values())) == ["received"] * len(batch)

    integration.integrate()

    assert states(*batch.values()) == ["quarantined"] * (len(batch) - 1) + ["integrated"]
    reasons = {key: reason_of(item) for key, item in batch.items()}
    assert reasons["name"] == (Reason.SCHEMA, _("the name does not match the envelope's fields"))
    assert reasons["action"] == (
        Reason.SCHEMA, _("unknown action %(action)s") % {"action": "teleport"}
    )  # fmt: skip
    assert reasons["kind"][0] == Reason.SCHEMA and "client" in reasons["kind"][1]
    assert reasons["answer"] == (
        Reason.RULES,
        f"{_('Answers to the visit form')}: {_('An answer is not part of the visit form.')}",
    )
    assert reasons["phone"][0] == Reason.RULES
    assert reasons["phone"][1].startswith(f"{_field_label('phone')}: ")
    assert reasons["siret"][0] == Reason.RULES
    assert reasons["siret"][1].startswith(f"{_field_label('siret')}: ")
    assert reasons["signature"][0] == Reason.PAYMENT
    assert _("Signature") in reasons["signature"][1]
    assert reasons["bic"][0] == Reason.PAYMENT and "BIC" in reasons["bic"][1]
    assert reasons["mandatory"][0] == Reason.RULES
    assert _field_label("siret") in reasons["mandatory"][1]
    assert reasons["delete"] == (
        Reason.CONFLICT, _("a client creation is pending for this prospect: not deleted")
    )  # fmt: skip
    assert Restaurant.objects.filter(pk=waiting.pk).exists()
    prospect.refresh_from_db()
    assert prospect.siret == "" and not prospect.conversion_requests.exists()
    assert list(Visit.objects.values_list("report", flat=True)) == ["après les refus"]


def test_a_bad_custom_field_value_is_named_by_its_label_and_the_next_envelope_proceeds(
    agent, client_restaurant
):
    from crm.models import CustomField

    CustomField.objects.create(key="places", label="Nombre de couverts", kind="number")
    bad = envelope(
        agent,
        seq=1,
        action="prospect-create",
        client_id=new_client_id(),
        payload={"fields": {"name": "Couverts"}, "custom": {"places": "beaucoup"}},
    )
    good = envelope(agent, seq=2, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    receive(agent, [bad, good])

    integration.integrate()

    assert states(bad, good) == ["quarantined", "integrated"]
    code, reason = reason_of(bad)
    assert code == Reason.RULES and reason.startswith("Nombre de couverts: ")
    assert not Restaurant.objects.filter(name="Couverts").exists()


def test_an_agent_who_lost_the_right_has_their_envelopes_quarantined(agent, client_restaurant):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    receive(agent, [item])
    agent.groups.clear()

    integration.integrate()

    assert reason_of(item) == (Reason.RIGHTS, _("the agent may no longer use the field kit"))
    assert not Visit.objects.exists()


def test_a_reused_sequence_number_is_quarantined_not_applied(agent, client_restaurant):
    first = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                     payload=visit_payload(report="premier"))  # fmt: skip
    reuse = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                     payload=visit_payload(report="second"), nonce="x")  # fmt: skip
    receive(agent, [first, reuse])

    integration.integrate()

    assert states(first, reuse) == ["integrated", "quarantined"]
    assert reason_of(reuse)[0] == Reason.SEQUENCE
    late = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(report="tardif"), nonce="y")  # fmt: skip
    receive(agent, [late])
    integration.integrate()
    assert states(late) == ["quarantined"]
    assert list(Visit.objects.values_list("report", flat=True)) == ["premier"]


# --- Conflict rules ----------------------------------------------------------------------------


def test_client_records_are_read_only_offline_changes_go_through_a_request(
    agent, client_restaurant, crm_settings, segment, django_capture_on_commit_callbacks
):
    item = envelope(agent, seq=1, action="change-request", restaurant=client_restaurant,
                    payload={"changes": {"phone": "04 72 00 00 00", "segment": "brasserie"},
                             "comment": "Nouveau numéro"})  # fmt: skip
    receive(agent, [item])

    with django_capture_on_commit_callbacks(execute=True):
        integration.integrate()

    client_restaurant.refresh_from_db()
    assert client_restaurant.phone == ""  # unchanged until the accountant applies it
    request = ChangeRequest.objects.get()
    assert [(c["field"], c["new"]) for c in request.changes] == [
        ("phone", "+33472000000"), ("segment", segment.pk)
    ]  # fmt: skip
    assert request.comment == "Nouveau numéro"
    assert mail.outbox[-1].to == ["compta@comadvisor.example"]


def test_a_client_cannot_be_edited_as_a_prospect(agent, client_restaurant):
    item = envelope(agent, seq=1, action="prospect-update", restaurant=client_restaurant,
                    base_version=version(client_restaurant),
                    payload={"fields": {"city": "Bron"}, "base": {"city": "Lyon"}})  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    assert reason_of(item)[0] == Reason.CONFLICT
    client_restaurant.refresh_from_db()
    assert client_restaurant.city == "Lyon"


def test_a_visit_made_offline_within_the_bound_is_integrated_days_later(agent, client_restaurant):
    """The backdating bound counts from when the agent recorded the visit, not from the sync."""
    from crm.models import Activity
    from field.models import FieldSettings

    FieldSettings.objects.update(visit_backdate_days=7)
    made = timezone.now() - timedelta(days=9)
    day = timezone.localtime(made).date()
    within = envelope(
        agent,
        seq=1,
        action="visit",
        restaurant=client_restaurant,
        when=made,
        payload=visit_payload(day - timedelta(days=7), report="dans la limite"),
    )
    beyond = envelope(
        agent,
        seq=2,
        action="visit",
        restaurant=client_restaurant,
        when=made,
        payload=visit_payload(day - timedelta(days=8), report="trop ancienne"),
    )
    ahead = envelope(agent, seq=3, action="visit", restaurant=client_restaurant, when=made,
                     payload=visit_payload(day + timedelta(days=1), report="après coup"))  # fmt: skip
    receive(agent, [within, beyond, ahead])

    integration.integrate()

    assert states(within, beyond, ahead) == ["integrated", "quarantined", "quarantined"]
    visit = Visit.objects.get()
    assert timezone.localtime(visit.start).date() == day - timedelta(days=7)
    assert visit.start <= made
    entry = Activity.objects.get(restaurant=client_restaurant, origin="field")
    assert entry.occurred_at == visit.start
    client_restaurant.refresh_from_db()
    assert client_restaurant.last_visit_at == visit.start
    assert "au plus tôt" in reason_of(beyond)[1] or "earliest" in reason_of(beyond)[1]


def test_a_device_clock_ahead_of_the_server_does_not_date_a_visit_in_the_future(
    agent, client_restaurant
):
    tomorrow = timezone.localdate() + timedelta(days=1)
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    when=timezone.now() + timedelta(days=1), payload=visit_payload(tomorrow))  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    assert reason_of(item)[0] == Reason.RULES
    assert not Visit.objects.exists()


def test_an_older_visit_integrated_last_does_not_move_the_last_visit_back(agent, client_restaurant):
    recent = timezone.now() - timedelta(hours=1)
    Visit.objects.create(restaurant=client_restaurant, agent=agent, start=recent, end=recent,
                         status="done", report="en ligne")  # fmt: skip
    Restaurant.objects.filter(pk=client_restaurant.pk).update(last_visit_at=recent)
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    when=timezone.now() - timedelta(days=2),
                    payload=visit_payload(timezone.localdate() - timedelta(days=2)))  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    assert states(item) == ["integrated"]
    client_restaurant.refresh_from_db()
    assert client_restaurant.last_visit_at == recent


def test_visits_only_add(agent, client_restaurant):
    Visit.objects.create(restaurant=client_restaurant, agent=agent, start=timezone.now(),
                         end=timezone.now(), status="done", report="en ligne")  # fmt: skip
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(report="hors ligne"))  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    assert sorted(Visit.objects.values_list("report", flat=True)) == ["en ligne", "hors ligne"]


def test_prospect_edits_merge_field_by_field(agent, prospect, client_manager):
    base = version(prospect)
    prospect.refresh_from_db()
    # Meanwhile a manager changes the e-mail on the server.
    from crm import services as crm_services

    crm_services.restaurant_update(restaurant=prospect, by=client_manager,
                                   data={"email": "contact@cheznous.fr"})  # fmt: skip
    item = envelope(agent, seq=1, action="prospect-update", restaurant=prospect, base_version=base,
                    payload={"fields": {"city": "Villeurbanne", "phone": "04 72 22 22 22"},
                             "base": {"city": "Lyon", "phone": "+33472111111"}})  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    assert states(item) == ["integrated"]
    prospect.refresh_from_db()
    assert (prospect.city, prospect.phone, prospect.email) == (
        "Villeurbanne", "+33472222222", "contact@cheznous.fr"
    )  # fmt: skip


def test_the_same_field_changed_on_the_server_is_a_conflict(agent, prospect, client_manager):
    base = version(prospect)
    from crm import services as crm_services

    crm_services.restaurant_update(restaurant=prospect, by=client_manager,
                                   data={"phone": "04 72 99 99 99"})  # fmt: skip
    conflicting = envelope(agent, seq=1, action="prospect-update", restaurant=prospect,
                           base_version=base,
                           payload={"fields": {"phone": "04 72 22 22 22", "city": "Bron"},
                                    "base": {"phone": "+33472111111", "city": "Lyon"}})  # fmt: skip
    same_value = envelope(agent, seq=2, action="prospect-update", restaurant=prospect,
                          base_version=base,
                          payload={"fields": {"phone": "+33472999999"},
                                   "base": {"phone": "+33472111111"}})  # fmt: skip
    receive(agent, [conflicting, same_value])

    integration.integrate()

    assert states(conflicting, same_value) == ["quarantined", "integrated"]
    code, reason = reason_of(conflicting)
    assert code == Reason.CONFLICT
    assert "+33472999999" in reason and "04 72 22 22 22" in reason
    prospect.refresh_from_db()
    assert (prospect.phone, prospect.city) == ("+33472999999", "Lyon")  # validated whole


def test_the_agents_own_successive_edits_never_conflict(agent, prospect):
    base = version(prospect)
    first = envelope(
        agent,
        seq=1,
        action="prospect-update",
        restaurant=prospect,
        base_version=base,
        payload={"fields": {"city": "Bron"}, "base": {"city": "Lyon"}},
    )
    second = envelope(agent, seq=2, action="prospect-update", restaurant=prospect, base_version=base,
                      payload={"fields": {"city": "Vénissieux"}, "base": {"city": "Lyon"}})  # fmt: skip
    receive(agent, [first, second])

    integration.integrate()

    assert states(first, second) == ["integrated", "integrated"]
    prospect.refresh_from_db()
    assert prospect.city == "Vénissieux"


def test_deleting_a_converted_prospect_is_refused(agent, prospect):
    base = version(prospect)
    Restaurant.objects.filter(pk=prospect.pk).update(
        status=RestaurantStatus.CLIENT, client_code="C9"
    )
    item = envelope(agent, seq=1, action="prospect-delete", restaurant=prospect, base_version=base,
                    payload={})  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    assert reason_of(item)[0] == Reason.CONFLICT
    assert Restaurant.objects.filter(pk=prospect.pk).exists()


def test_deleting_a_prospect_changed_meanwhile_is_refused(agent, prospect, client_manager):
    base = version(prospect)
    from crm import services as crm_services

    crm_services.restaurant_update(restaurant=prospect, by=client_manager, data={"city": "Bron"})
    item = envelope(agent, seq=1, action="prospect-delete", restaurant=prospect, base_version=base,
                    payload={})  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    code, reason = reason_of(item)
    assert code == Reason.CONFLICT
    assert _field_label("city") in reason
    assert Restaurant.objects.filter(pk=prospect.pk).exists()


def test_deleting_an_unchanged_prospect_deletes_it(agent, prospect):
    item = envelope(agent, seq=1, action="prospect-delete", restaurant=prospect,
                    base_version=version(prospect), payload={})  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    assert states(item) == ["integrated"]
    assert not Restaurant.objects.filter(pk=prospect.pk).exists()


def test_two_agents_creating_the_same_prospect_offline_flag_a_duplicate(agent, colleague):
    mine = envelope(
        agent,
        seq=1,
        action="prospect-create",
        client_id=new_client_id(),
        payload={"fields": {"name": "Le Comptoir", "phone": "04 78 12 34 56"}},
    )
    theirs = envelope(colleague, seq=1, device="dev7e7e7e", action="prospect-create",
                      client_id=new_client_id(),
                      payload={"fields": {"name": "Comptoir (le)", "phone": "+33478123456"}})  # fmt: skip
    receive(agent, [mine])
    receive(colleague, [theirs])

    integration.integrate()

    assert states(mine, theirs) == ["integrated", "integrated"]
    assert Restaurant.objects.filter(phone="+33478123456").count() == 2
    flagged = Envelope.objects.get(flag=Flag.DUPLICATE)
    assert flagged.name == theirs["name"]
    first = Restaurant.objects.get(name="Le Comptoir")
    # The agent's prospect is private: the colleague's note counts it without naming it.
    assert flagged.note == _("Possible duplicate of: %(matches)s") % {
        "matches": _("%(count)d restaurant(s) of a colleague's portfolio") % {"count": 1}
    }
    assert first.pk != flagged.restaurant_id
    assert list(flagged.restaurant.activities.values_list("subject", flat=True)) == [
        _("Created offline: possible duplicate"),
        _("Prospect created"),
    ]


def test_a_conversion_request_made_offline(agent, prospect, lyon, segment, crm_settings, settings,
                                           tmp_path):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    item = envelope(agent, seq=1, action="conversion-request", restaurant=prospect, payload={
        "fields": {"segment": "brasserie", "address": "1 rue de la République",
                   "postal_code": "69002", "city": "Lyon", "siret": "73282932000074"},
        "payment_mode": "direct_debit", "payment_days": 30, "iban": IBAN, "bic": "bnpafrpp",
        "signature": PNG_URL,
    })  # fmt: skip
    receive(agent, [item])

    integration.integrate()

    assert states(item) == ["integrated"], reason_of(item)
    request = ConversionRequest.objects.get()
    assert (request.iban, request.bic, request.requested_by) == (IBAN, "BNPAFRPP", agent)
    prospect.refresh_from_db()
    assert (prospect.segment, prospect.siret) == (segment, "73282932000074")


# --- Admin: fix and retry, discard ------------------------------------------------------------


def test_an_admin_fixes_and_retries_a_quarantined_envelope(agent, admin_user, client_restaurant):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(kind="teleportation"))  # fmt: skip
    receive(agent, [item])
    integration.integrate()
    stored = Envelope.objects.get()
    assert stored.state == EnvelopeState.QUARANTINED

    services.envelope_fix(envelope=stored, by=admin_user, payload=visit_payload(kind="phone"))
    services.envelope_retry(envelope=stored, by=admin_user)

    stored.refresh_from_db()
    assert stored.state == EnvelopeState.INTEGRATED
    assert Visit.objects.get().kind == "phone"
    entry = JournalEntry.objects.get()
    assert (entry.outcome, entry.by) == (EnvelopeState.INTEGRATED, admin_user)
    assert [h["outcome"] for h in entry.history] == ["quarantined"]


def test_the_original_sent_again_after_a_fix_is_a_duplicate_not_a_clash(
    agent, admin_user, client_restaurant, admins_notified, mailoutbox
):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(kind="teleportation"))  # fmt: skip
    receive(agent, [item])
    integration.integrate()
    stored = Envelope.objects.get()
    services.envelope_fix(envelope=stored, by=admin_user, payload=visit_payload(kind="phone"))
    services.envelope_retry(envelope=stored, by=admin_user)
    mailoutbox.clear()

    # The device never got the acknowledgement: it sends its original envelope again.
    [receipt] = receive(agent, [item])

    assert receipt == "duplicate"
    assert not NameClash.objects.exists() and mailoutbox == []
    stored.refresh_from_db()
    assert (stored.hash, stored.raw["payload"]["kind"]) == (item["hash"], "teleportation")
    assert (stored.fixed_by, stored.payload["kind"]) == (admin_user, "phone")
    assert Visit.objects.count() == 1


def test_an_admin_points_a_quarantined_envelope_at_another_restaurant(
    agent, admin_user, client_restaurant
):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    item["entity"]["id"] = 999_999
    receive(agent, [item])
    integration.integrate()
    stored = Envelope.objects.get()
    assert stored.reason_code == "not_found"

    services.envelope_fix(envelope=stored, by=admin_user, entity_id=client_restaurant.pk)
    services.envelope_retry(envelope=stored, by=admin_user)

    stored.refresh_from_db()
    assert stored.state == EnvelopeState.INTEGRATED
    assert Visit.objects.get().restaurant == client_restaurant


def test_discarding_is_recorded_and_releases_a_held_device(agent, admin_user, client_restaurant):
    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload()) for seq in (1, 2, 3, 4)]  # fmt: skip
    receive(agent, [items[0], items[2], items[3]])
    integration.integrate()
    assert states(*items) == ["integrated", None, "pending", "pending"]

    # The second envelope will never come (the tablet was reset): an admin gives it up, and
    # discards the third.
    device = Device.objects.get()
    services.envelope_discard(envelope=Envelope.objects.get(name=items[2]["name"]), by=admin_user)
    assert services.device_skip_gap(device=device, by=admin_user) == [2]
    integration.integrate()

    assert states(*items) == ["integrated", None, "discarded", "integrated"]
    entry = JournalEntry.objects.get(name=items[2]["name"])
    assert (entry.by, entry.outcome) == (admin_user, "discarded")
    device.refresh_from_db()
    assert device.last_seq == 4
    assert [gap["seqs"] for gap in device.skipped] == [[2]]


def test_a_sales_agent_cannot_retry_or_discard(agent, client_restaurant):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(kind="?"))  # fmt: skip
    receive(agent, [item])
    integration.integrate()
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.envelope_retry(envelope=Envelope.objects.get(), by=agent)
    with pytest.raises(PermissionDenied):
        services.envelope_discard(envelope=Envelope.objects.get(), by=agent)


def test_a_prospect_created_offline_can_be_edited_and_deleted_before_any_sync(agent):
    client_id = new_client_id()
    items = [
        envelope(agent, seq=1, action="prospect-create", client_id=client_id,
                 payload={"fields": {"name": "Tout neuf"}}),
        envelope(agent, seq=2, action="prospect-update", client_id=client_id, base_version=None,
                 payload={"fields": {"city": "Lyon"}, "base": {"city": ""}}),
        envelope(agent, seq=3, action="prospect-visit", client_id=client_id,
                 payload=visit_payload()),
    ]  # fmt: skip
    receive(agent, items)

    integration.integrate()

    assert states(*items) == ["integrated"] * 3
    created = Restaurant.objects.get(field_client_id=client_id)
    assert (created.name, created.city, created.created_by) == ("Tout neuf", "Lyon", agent)
    delete = envelope(agent, seq=4, action="prospect-delete", client_id=client_id,
                      base_version=None, payload={})  # fmt: skip
    receive(agent, [delete])
    integration.integrate()
    assert states(delete) == ["integrated"]
    assert not Restaurant.objects.filter(field_client_id=client_id).exists()


def test_a_failing_integration_does_not_fail_the_upload(
    client, agent, client_restaurant, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise OperationalError("database restarting")

    monkeypatch.setattr(integration, "integrate", broken)
    client.force_login(agent)
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/field/api/envelopes", {"envelopes": [item]},
                               content_type="application/json")  # fmt: skip

    assert response.json()["results"] == [{"name": item["name"], "status": "received"}]
    assert states(item) == ["pending"]


def test_the_purge_clears_old_payloads_but_keeps_names(agent, client_restaurant):
    from field.models import FieldSettings

    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    receive(agent, [item])
    integration.integrate()
    retention = FieldSettings.load().log_retention_days

    assert services.field_logs_purge() == {"envelopes": 0, "clashes": 0}
    later = timezone.now() + timedelta(days=retention + 1)
    assert services.field_logs_purge(now=later) == {"envelopes": 1, "clashes": 0}

    stored = Envelope.objects.get()
    assert (stored.payload, stored.raw, stored.state) == ({}, {}, "integrated")
    assert receive(agent, [item]) == ["duplicate"]


def test_a_runs_read_of_a_restaurant_is_what_the_orm_reads(agent, client_restaurant):
    offline_id = uuid.uuid4()
    Restaurant.objects.filter(pk=client_restaurant.pk).update(
        field_client_id=offline_id, custom_data={"terrasse": True, "places": 40},
        payment_days=30, last_visit_at=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    expected = Restaurant.objects.get(pk=client_restaurant.pk)
    columns = [field.attname for field in Restaurant._meta.concrete_fields]
    context = integration._Context()

    with transaction.atomic():  # FOR UPDATE needs one
        reads = [
            context.restaurant(column, value, lock=lock)
            for column, value in (("pk", client_restaurant.pk), ("field_client_id", offline_id))
            for lock in (False, True)
        ]

    for read in reads:
        assert [(type(getattr(read, c)), getattr(read, c)) for c in columns] == [
            (type(getattr(expected, c)), getattr(expected, c)) for c in columns
        ]
        assert (read._state.adding, read._state.db) == (False, "default")
    assert context.restaurant("pk", client_restaurant.pk + 1000) is None
    assert context.restaurant("field_client_id", uuid.uuid4()) is None


def test_a_run_compiles_the_read_of_the_envelopes_restaurants_once(
    agent, client_restaurant, monkeypatch
):
    compiled = []
    real = integration._RowRead._compile
    monkeypatch.setattr(
        integration._RowRead, "_compile", lambda read: compiled.append(read.column) or real(read)
    )
    receive(agent, [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                             payload=visit_payload(report=f"visite {seq}")) for seq in (1, 2, 3)])  # fmt: skip

    report = integration.integrate()

    assert report.integrated == 3
    assert compiled == ["pk"]
    assert Visit.objects.filter(restaurant=client_restaurant).count() == 3


def test_the_field_settings_addresses_replace_the_site_settings_for_quarantines(
    agent, client_restaurant, admins_notified, mailoutbox
):
    field_settings = FieldSettings.load()
    field_settings.notification_emails = "terrain@comadvisor.example, ventes@comadvisor.example"
    field_settings.save()
    tomorrow = timezone.localdate() + timedelta(days=1)
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(day=tomorrow))  # fmt: skip
    receive(agent, [item])

    report = integration.integrate()

    assert [envelope.name for envelope in report.quarantined] == [item["name"]]
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["terrain@comadvisor.example", "ventes@comadvisor.example"]
    assert message.cc == [] and message.bcc == []  # not the site settings' ops@ as well
    assert item["name"] in message.body


@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        (
            IntegrityError(
                'duplicate key value violates unique constraint "crm_visit_pkey"\n'
                "DETAIL:  Key (id)=(42) already exists."
            ),
            Reason.RULES,
            "the database refused this change: it conflicts with data already there",
        ),
        (
            DataError("value too long for type character varying(200)"),
            Reason.RULES,
            "a value is too long or out of range",
        ),
        (
            KeyError("answers_by_group"),
            Reason.ERROR,
            "an unexpected error stopped this change; the administrators were told",
        ),
    ],
)
def test_the_agent_reads_a_plain_reason_and_the_admins_the_technical_detail(
    agent, client_restaurant, admins_notified, mailoutbox, monkeypatch, caplog, error, code, reason
):
    agent.language = "en"
    agent.save(update_fields=["language"])

    def failing(envelope, agent, context):
        raise error

    monkeypatch.setitem(integration.APPLIERS, "visit", failing)
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    after = envelope(agent, seq=2, action="change-request", restaurant=client_restaurant,
                     payload={"changes": {"email": "compta@bouchon.example"}})  # fmt: skip
    receive(agent, [item, after])

    integration.integrate()

    stored = Envelope.objects.get(name=item["name"])
    detail = f"{type(error).__name__}: {error}"
    assert (stored.state, stored.reason_code, stored.reason) == ("quarantined", code, reason)
    assert stored.note == detail  # the administration's copy
    assert states(after) == ["integrated"]  # the rest goes on
    rejected = snapshots.snapshot_document(snapshots.snapshot_rebuild(agent=agent))["rejected"]
    assert [(row["name"], row["reason"]) for row in rejected] == [(item["name"], reason)]
    [message] = [m for m in mailoutbox if m.to == admins_notified]
    assert f"{reason} ({detail})" in message.body
    # and the log, with the error itself (its traceback for a defect).
    logged = [record for record in caplog.records
              if record.name == "field.integration" and item["name"] in record.getMessage()]  # fmt: skip
    assert len(logged) == 1
    assert str(error) in logged[0].getMessage() or logged[0].exc_info[1] is error
