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
    # Device a visits the client and edits the prospect; device b visits too. "bad" envelopes
    # carry an unknown visit kind, "foreign" ones visit a colleague's prospect: both must end
    # quarantined.
    kinds = {
        DEVICES[0]: draw(st.lists(st.sampled_from(["visit", "update", "bad"]), min_size=1, max_size=6)),
        DEVICES[1]: draw(st.lists(st.sampled_from(["visit", "bad", "foreign"]), max_size=4)),
    }  # fmt: skip
    count = sum(len(k) for k in kinds.values())
    order = draw(st.permutations(range(count)))
    duplicates = draw(st.lists(st.integers(0, count - 1), max_size=4))
    positions = [draw(st.integers(0, count + i)) for i in range(len(duplicates))]
    # (envelope number, where): the process dies before applying, after applying, or after the
    # outcome and journal row are written, just before the commit.
    crash = st.tuples(st.integers(1, count + 2), st.sampled_from(["before", "after", "decided"]))
    crashes = draw(st.lists(crash, max_size=2, unique_by=lambda item: item[0]))
    return {
        "crashes": crashes,
        "kinds": kinds,
        "order": order,
        "duplicates": list(zip(duplicates, positions, strict=True)),
        "batch": draw(st.integers(1, 4)),
        "withheld": draw(st.integers(0, min(2, count - 1))),
    }


@pytest.fixture
def crashing(monkeypatch):
    """The appliers and the outcome's recording, counting the envelopes and failing like a lost
    database at given ones, at a given point of their transaction."""
    state = {"calls": 0, "crash_at": {}}

    def crash(where: str) -> None:
        if state["crash_at"].get(state["calls"]) == where:
            raise OperationalError("connection lost")

    for action in ("visit", "prospect-update"):
        real = integration.APPLIERS[action]

        def wrapper(*args, real=real):
            state["calls"] += 1
            crash("before")
            result = real(*args)
            crash("after")
            return result

        monkeypatch.setitem(integration.APPLIERS, action, wrapper)
    real_decide = integration.decide

    def decide(*args, **kwargs):
        real_decide(*args, **kwargs)
        crash("decided")

    monkeypatch.setattr(integration, "decide", decide)
    return state


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(scenario=scenarios())
def test_duplicates_reorderings_and_crashes_end_in_the_ordered_state(
    scenario, agent, client_restaurant, prospect, foreign, crashing
):
    try:
        with transaction.atomic():
            _run(scenario, agent, client_restaurant, prospect, foreign, crashing)
            raise Rollback
    except Rollback:
        pass


@pytest.fixture
def foreign(colleague, lyon, restaurant_factory):
    return restaurant_factory(name="Chez l'autre", zone=lyon, created_by=colleague,
                              sales_agent=colleague)  # fmt: skip


def _run(scenario, agent, client_restaurant, prospect, foreign, crashing):
    crashing["calls"], crashing["crash_at"] = 0, dict(scenario["crashes"])
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
                                restaurant=foreign if kind == "foreign" else client_restaurant,
                                payload=payload)  # fmt: skip
                if kind in ("bad", "foreign"):
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
    crashing["crash_at"] = {}
    integration.integrate(notify=False)
    _check_invariants()

    names = {item["name"] for item in items}
    assert Envelope.objects.count() == len(names)
    states = dict(Envelope.objects.values_list("name", "state"))
    assert states == {name: "quarantined" if name in bad else "integrated" for name in names}
    assert Counter(JournalEntry.objects.values_list("name", flat=True)) == Counter(names)
    # Each device's visits were applied once, in its sequence order.
    applied = list(Visit.objects.order_by("id").values_list("report", flat=True))
    assert sorted(applied) == sorted(expected_visits)
    for device in DEVICES:
        assert [r for r in applied if r.startswith(device)] == [
            r for r in expected_visits if r.startswith(device)
        ]
    assert Restaurant.objects.get(pk=prospect.pk).city == expected_city


def _check_invariants():
    cursors = dict(Device.objects.values_list("pk", "last_seq"))
    for device_id, seq, state in Envelope.objects.values_list("device_id", "seq", "state"):
        assert state in ("integrated", "quarantined", "pending")
        assert (state == "pending") == (seq > cursors[device_id])
    decided = Envelope.objects.exclude(state="pending").count()
    assert JournalEntry.objects.count() == decided
