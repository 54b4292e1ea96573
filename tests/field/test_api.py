import gzip
import json

import pytest
from django.core import mail
from django.test import Client
from django.utils.translation import gettext as _

from field import integration
from field.enums import EnvelopeState
from field.models import Envelope, JournalEntry, NameClash
from sales.models import Visit
from tests.field.conftest import envelope, visit_payload

URL = "/field/api/envelopes"


def _post(client, items):
    return client.post(URL, {"envelopes": items}, content_type="application/json")


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def test_envelope_received_then_integrated(
    logged_in, agent, client_restaurant, django_capture_on_commit_callbacks
):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(logged_in, [item])

    assert response.status_code == 200
    assert response.json() == {"results": [{"name": item["name"], "status": "received"}]}
    stored = Envelope.objects.get(name=item["name"])
    assert stored.state == EnvelopeState.INTEGRATED
    assert stored.raw == item
    visit = Visit.objects.get(restaurant=client_restaurant)
    assert (visit.agent, visit.origin, visit.report) == (agent, "field", "Rencontre avec le gérant")


def test_replay_has_one_effect_and_answers_duplicate(
    logged_in, agent, client_restaurant, django_capture_on_commit_callbacks
):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        _post(logged_in, [item])

    with django_capture_on_commit_callbacks(execute=True):
        again = _post(logged_in, [item, item])

    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert Visit.objects.filter(restaurant=client_restaurant).count() == 1
    assert JournalEntry.objects.filter(name=item["name"]).count() == 1


def test_same_name_with_another_content_is_refused_and_admins_told_once(
    logged_in, agent, client_restaurant, admins_notified, django_capture_on_commit_callbacks
):
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        _post(logged_in, [item])
    mail.outbox.clear()
    changed = {
        **item,
        "payload": visit_payload(report="Autre"),
    }
    changed["hash"] = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                               payload=changed["payload"])["hash"]  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        first = _post(logged_in, [changed])
        second = _post(logged_in, [changed])

    expected = {
        "name": item["name"],
        "status": "refused",
        "reason": _("same name, different content"),
    }
    assert first.json()["results"] == [expected]
    assert second.json()["results"] == [expected]
    assert Envelope.objects.get(name=item["name"]).payload == item["payload"]
    clash = NameClash.objects.get()
    assert (clash.hash, clash.count, clash.raw) == (changed["hash"], 2, changed)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == admins_notified
    assert item["name"] in mail.outbox[0].subject


def test_unreadable_and_foreign_envelopes_are_refused_not_stored(logged_in, agent, colleague,
                                                                  client_restaurant):  # fmt: skip
    good = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    foreign = envelope(colleague, seq=1, action="visit", restaurant=client_restaurant,
                       payload=visit_payload())  # fmt: skip
    no_hash = {**good, "name": good["name"] + "X", "hash": "abc"}

    response = _post(logged_in, [42, {**good, "name": "bad name!"}, foreign, no_hash])

    assert response.json()["results"] == [
        {"name": "", "status": "refused", "reason": _("not an envelope")},
        {"name": "bad name!", "status": "refused", "reason": _("unreadable name")},
        {"name": foreign["name"], "status": "refused", "reason": _("another agent's envelope")},
        {"name": no_hash["name"], "status": "refused", "reason": _("unreadable hash")},
    ]
    assert not Envelope.objects.exists()


def test_numbers_no_column_holds_are_refused_or_quarantined_never_a_server_error(
    logged_in, agent, client_restaurant, prospect, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    huge_seq = envelope(
        agent, seq=9, action="visit", restaurant=client_restaurant, payload=visit_payload()
    )
    huge_seq["seq"] = 2**40
    huge_entity = envelope(
        agent, seq=1, action="visit", restaurant=client_restaurant, payload=visit_payload()
    )
    huge_entity["entity"]["id"] = 10**30
    huge_schema = envelope(
        agent, seq=2, action="visit", restaurant=client_restaurant, payload=visit_payload()
    )
    huge_schema["schema"] = 10**12
    long_term = envelope(agent, seq=3, action="conversion-request", restaurant=prospect,
                         payload={"fields": {}, "payment_mode": "transfer",
                                  "payment_days": 40_000})  # fmt: skip

    response = _post(logged_in, [huge_seq, huge_entity, huge_schema, long_term])

    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == [
        "refused", "received", "received", "received"
    ]  # fmt: skip
    integration.integrate()
    stored = {e.seq: e for e in Envelope.objects.all()}
    assert stored[1].entity_id is None and stored[2].schema is None
    assert {seq: e.state for seq, e in stored.items()} == {
        1: "quarantined", 2: "quarantined", 3: "quarantined"
    }  # fmt: skip
    assert stored[3].reason_code == "payment" and "365" in stored[3].reason


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"envelopes": {}}', json.dumps({"envelopes": [{}] * 201}).encode()],
)
def test_bad_bodies_answer_400(logged_in, body):
    response = logged_in.post(URL, body, content_type="application/json")

    assert response.status_code == 400


def test_the_api_needs_a_session_and_the_field_kit_right(client, community_manager):
    assert client.post(URL, {}, content_type="application/json").status_code == 401
    assert client.get("/field/api/snapshot").status_code == 401
    client.force_login(community_manager)
    assert _post(client, []).status_code == 403
    assert client.get("/field/api/snapshot").status_code == 403


def test_the_upload_is_csrf_protected(agent, client_restaurant):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip

    refused = browser.post(URL, {"envelopes": [item]}, content_type="application/json")
    browser.get("/field/api/snapshot")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        URL, {"envelopes": [item]}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200


def test_snapshot_is_gzipped_json_with_an_etag_and_304(logged_in, agent, client_restaurant):
    response = logged_in.get("/field/api/snapshot")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    document = json.loads(gzip.decompress(response.content))
    assert document["version"] == response["ETag"]
    assert response["ETag"].startswith('W/"')
    assert [client["id"] for client in document["clients"]] == [client_restaurant.pk]
    again = logged_in.get("/field/api/snapshot", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    other = logged_in.get("/field/api/snapshot", HTTP_IF_NONE_MATCH='W/"other"')
    assert other.status_code == 200
