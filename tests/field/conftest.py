"""Field kit fixtures: an agent's client and prospect, and envelopes made as the client makes
them (docs/field-envelopes.md)."""

import base64
import hashlib
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from field.envelopes import name_agent, payload_hash
from field.prospects import iso
from tests.factories import RestaurantFactory

DEVICE = "dev0a1b2c"
PNG_URL = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 20).decode()
IBAN = "FR7630006000011234567890189"


def envelope(
    agent,
    *,
    seq: int,
    action: str,
    payload: dict,
    device: str = DEVICE,
    restaurant=None,
    client_id: str | None = None,
    kind: str | None = None,
    base_version: str | None = None,
    when: datetime | None = None,
    nonce: str = "",
) -> dict:
    """One envelope as the offline client writes it (the random part derived from the rest, so
    that the same arguments make the same envelope)."""
    # Made today (the local day's first seconds, so that the same arguments make the same
    # envelope all day long): a visit "today" is not dated after the moment it was made.
    when = when or (
        timezone.make_aware(datetime.combine(timezone.localdate(), time(0, 0)))
        + timedelta(seconds=seq)
    ).astimezone(UTC)
    kind = kind or ("client" if action in ("visit", "change-request") else "prospect")
    random = hashlib.sha1(f"{device}{seq}{action}{nonce}".encode()).hexdigest()[:12].upper()
    name = (
        f"{when:%Y%m%dT%H%M%SZ}_{name_agent(agent.username)}_{device}_{seq:06d}_{action}_{random}"
    )
    return {
        "name": name,
        "schema": 1,
        "action": action,
        "agent": agent.username,
        "device": device,
        "seq": seq,
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "snapshot": "",
        "entity": {
            "kind": kind,
            "id": restaurant.pk if restaurant is not None else None,
            "client_id": client_id,
        },
        "base_version": base_version,
        "payload": payload,
        "hash": payload_hash(payload),
    }


def visit_payload(day=None, **extra) -> dict:
    return {
        "date": (day or timezone.localdate()).isoformat(),
        "kind": "visit",
        "report": "Rencontre avec le gérant",
        "answers": {},
        "revisit_date": None,
        "pack_offered": None,
        **extra,
    }


def new_client_id() -> str:
    return str(uuid.uuid4())


def version(restaurant) -> str:
    restaurant.refresh_from_db()
    return iso(restaurant.updated_at)


@pytest.fixture
def agent(sales_agent):
    return sales_agent


@pytest.fixture
def colleague(make_user, lyon):
    user = make_user(username="collegue", roles=["sales_agent"])
    lyon.agents.add(user)
    return user


@pytest.fixture
def client_restaurant(db, lyon, agent):
    return RestaurantFactory(name="Le Bouchon", client=True, zone=lyon, sales_agent=agent)


@pytest.fixture
def prospect(db, lyon, agent):
    return RestaurantFactory(
        name="Chez Nous", zone=lyon, created_by=agent, sales_agent=agent, phone="+33472111111"
    )


@pytest.fixture
def admins_notified(db):
    from comadvisor.models import SiteSettings

    site = SiteSettings.load()
    site.notification_emails = "ops@comadvisor.example"
    site.save()
    return ["ops@comadvisor.example"]


@pytest.fixture
def post_envelopes(client):
    """POST a batch as the logged-in client, running the on-commit integration."""

    def post(items, django_capture=None):
        return client.post(
            "/field/api/envelopes", {"envelopes": items}, content_type="application/json"
        )

    return post


@pytest.fixture(autouse=True)
def _eager_tasks(eager_tasks):
    """Tasks run in the test's process, as in the embedded mode, also where a broker is
    configured (the PostgreSQL + Redis run)."""
