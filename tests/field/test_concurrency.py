"""Two integrators at once, on PostgreSQL: real threads, each with its own connection."""

import threading
import time
from contextlib import nullcontext

import pytest
from django.db import connection, connections

from accounts.enums import RoleName
from field import integration, services
from field.models import Envelope, JournalEntry
from sales.models import Visit
from tests.factories import RestaurantFactory, UserFactory, ZoneFactory
from tests.field.conftest import envelope, visit_payload

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="integrators overlapping need PostgreSQL (advisory locks, row locks); SQLite "
        "serialises every writer, so two integrators cannot overlap there",
    ),
]


@pytest.mark.parametrize("claim", ["advisory lock", "no lock"])
@pytest.mark.parametrize("integrators", [2, 3])
def test_integrators_at_once_apply_each_name_once(monkeypatch, integrators, claim):
    """Also with the device claim taken away: the guarded cursor and the pending-only outcome
    alone keep each name applied once (the lock only keeps integrators from meeting)."""
    if claim == "no lock":
        monkeypatch.setattr(integration, "_device_claim", lambda _device_id: nullcontext(True))
    agent = UserFactory(username=f"agent_conc{integrators}", roles=[RoleName.SALES_AGENT])
    zone = ZoneFactory(name=f"Conc {integrators} {claim}", departments="69")
    zone.agents.add(agent)
    restaurant = RestaurantFactory(client=True, zone=zone, sales_agent=agent)
    devices = ["dev0000aa", "dev0000bb", "dev0000cc", "dev0000dd"]
    items = [
        envelope(agent, seq=seq, device=device, action="visit", restaurant=restaurant,
                 payload=visit_payload(report=f"{device}-{seq}"))
        for device in devices for seq in range(1, 21)
    ]  # fmt: skip
    services.envelopes_receive(agent=agent, items=items, schedule=False)
    real = integration.APPLIERS["visit"]

    def slow_visit(*args):
        time.sleep(0.002)  # widen the window in which the two integrators meet
        return real(*args)

    monkeypatch.setitem(integration.APPLIERS, "visit", slow_visit)
    start = threading.Barrier(integrators)
    errors: list[BaseException] = []
    decided: list[int] = []

    def run() -> None:
        try:
            start.wait()
            decided.append(integration.integrate(notify=False).decided)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(integrators)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    integration.integrate(notify=False)  # whatever a skipped device left

    assert errors == []
    assert sum(decided) <= len(items)
    assert Visit.objects.count() == len(items)
    assert sorted(Visit.objects.values_list("report", flat=True)) == sorted(
        item["payload"]["report"] for item in items
    )
    assert JournalEntry.objects.count() == len(items)
    assert set(Envelope.objects.values_list("state", flat=True)) == {"integrated"}
