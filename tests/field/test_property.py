"""Property: whatever the duplicates, the order of delivery and the crash points, every stored
name ends integrated, quarantined or pending, the journal holds one row per name, and the final
state is that of the unique envelopes applied once, in sequence order."""

import contextlib
from collections import Counter

import pytest
from django.db import OperationalError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.models import Restaurant
from field import integration, services
from field.models import Device, Envelope, JournalEntry
from sales.models import Visit
from tests.field.conftest import envelope, version, visit_payload

DEVICES = ("dev00000a", "dev00000b")


class Rollback(Exception):
    pass


@st.composite
def scenarios(draw):
    # Device a visits the client and edits the prospect; device b only visits. "bad" envelopes
    # carry an unknown visit kind and must end quarantined.
    kinds = {
        DEVICES[0]: draw(st.lists(st.sampled_from(["visit", "update", "bad"]), min_size=1, max_size=6)),
        DEVICES[1]: draw(st.lists(st.sampled_from(["visit", "bad"]), max_size=4)),
    }  # fmt: skip
    count = sum(len(k) for k in kinds.values())
    order = draw(st.permutations(range(count)))
    duplicates = draw(st.lists(st.integers(0, count - 1), max_size=4))
    positions = [draw(st.integers(0, count + i)) for i in range(len(duplicates))]
    return {
        "kinds": kinds,
        "order": order,
        "duplicates": list(zip(duplicates, positions, strict=True)),
        "batch": draw(st.integers(1, 4)),
        "crashes": draw(st.lists(st.integers(1, count + 2), max_size=2, unique=True)),
        "withheld": draw(st.integers(0, min(2, count - 1))),
    }


@pytest.fixture
def crashing(monkeypatch):
    """The appliers, counting their calls and failing like a lost database at given calls."""
    state = {"calls": 0, "crash_at": set()}
    for action in ("visit", "prospect-update"):
        real = integration.APPLIERS[action]

        def wrapper(*args, real=real):
            state["calls"] += 1
            result = real(*args)
            if state["calls"] in state["crash_at"]:
                raise OperationalError("connection lost")
            return result

        monkeypatch.setitem(integration.APPLIERS, action, wrapper)
    return state


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(scenario=scenarios())
def test_duplicates_reorderings_and_crashes_end_in_the_ordered_state(
    scenario, agent, client_restaurant, prospect, crashing
):
    try:
        with transaction.atomic():
            _run(scenario, agent, client_restaurant, prospect, crashing)
            raise Rollback
    except Rollback:
        pass


def _run(scenario, agent, client_restaurant, prospect, crashing):
    crashing["calls"], crashing["crash_at"] = 0, set(scenario["crashes"])
    base = version(prospect)
    items, expected_visits, expected_city, bad = [], [], prospect.city, set()
    for device, kinds in scenario["kinds"].items():
        for seq, kind in enumerate(kinds, start=1):
            if kind == "update":
                city = f"Ville {device[-1]}{seq}"
                item = envelope(agent, seq=seq, device=device, action="prospect-update",
                                restaurant=prospect, base_version=base,
                                payload={"fields": {"city": city}, "base": {"city": "Lyon"}})  # fmt: skip
                expected_city = city
            else:
                report = f"{device}-{seq}"
                payload = visit_payload(report=report, kind="?" if kind == "bad" else "visit")
                item = envelope(agent, seq=seq, device=device, action="visit",
                                restaurant=client_restaurant, payload=payload)  # fmt: skip
                if kind == "bad":
                    bad.add(item["name"])
                else:
                    expected_visits.append(report)
            items.append(item)
    stream = [items[i] for i in scenario["order"]]
    for index, position in scenario["duplicates"]:
        stream.insert(position, items[index])
    withheld_names = {item["name"] for item in stream[len(stream) - scenario["withheld"] :]}
    early = [item for item in stream if item["name"] not in withheld_names]
    late = [item for item in stream if item["name"] in withheld_names]

    for start in range(0, len(early), scenario["batch"]):
        batch = early[start : start + scenario["batch"]]
        receipts = services.envelopes_receive(agent=agent, items=batch, schedule=False)
        assert {r.status for r in receipts} <= {"received", "duplicate"}
        with contextlib.suppress(OperationalError):  # the process died; the next run goes on
            integration.integrate(notify=False)
        _check_invariants()

    services.envelopes_receive(agent=agent, items=late, schedule=False)
    crashing["crash_at"] = set()
    integration.integrate(notify=False)
    _check_invariants()

    names = {item["name"] for item in items}
    assert Envelope.objects.count() == len(names)
    states = dict(Envelope.objects.values_list("name", "state"))
    assert states == {name: "quarantined" if name in bad else "integrated" for name in names}
    assert Counter(JournalEntry.objects.values_list("name", flat=True)) == Counter(names)
    assert sorted(Visit.objects.values_list("report", flat=True)) == sorted(expected_visits)
    assert Restaurant.objects.get(pk=prospect.pk).city == expected_city


def _check_invariants():
    cursors = dict(Device.objects.values_list("pk", "last_seq"))
    for device_id, seq, state in Envelope.objects.values_list("device_id", "seq", "state"):
        assert state in ("integrated", "quarantined", "pending")
        assert (state == "pending") == (seq > cursors[device_id])
    decided = Envelope.objects.exclude(state="pending").count()
    assert JournalEntry.objects.count() == decided
