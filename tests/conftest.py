"""Shared fixtures: one persona per role, plus an outsider with no role; and the guard that keeps
every test on this machine."""

import ipaddress
import socket

import pytest

from accounts.enums import RoleName
from tests.factories import (
    ContactFactory,
    RestaurantFactory,
    SegmentFactory,
    UserFactory,
    ZoneFactory,
)

PASSWORD = "correct horse battery staple"
ROLE_NAMES = [str(role) for role in RoleName]


@pytest.fixture
def make_user(db):
    return UserFactory


@pytest.fixture
def persona(db):
    """persona("sales_agent") -> a user holding exactly that role (None -> no role at all)."""
    made: dict[str | None, object] = {}

    def get(role: str | None):
        if role not in made:
            roles = [role] if role else []
            made[role] = UserFactory(username=f"p_{role or 'norole'}", roles=roles)
        return made[role]

    return get


@pytest.fixture
def admin_user(persona):
    return persona(RoleName.ADMIN)


@pytest.fixture
def direction(persona):
    return persona(RoleName.DIRECTION)


@pytest.fixture
def client_manager(persona):
    return persona(RoleName.CLIENT_MANAGER)


@pytest.fixture
def sales_agent(persona):
    return persona(RoleName.SALES_AGENT)


@pytest.fixture
def community_manager(persona):
    return persona(RoleName.COMMUNITY_MANAGER)


@pytest.fixture
def review_manager(persona):
    return persona(RoleName.REVIEW_MANAGER)


@pytest.fixture
def accountant(persona):
    return persona(RoleName.ACCOUNTANT)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lyon(db, sales_agent):
    zone = ZoneFactory(name="Lyon", departments="69")
    zone.agents.add(sales_agent)
    return zone


@pytest.fixture
def segment(db):
    return SegmentFactory(code="brasserie", name="Brasserie")


@pytest.fixture
def crm_settings(db):
    from crm.models import CrmSettings

    settings = CrmSettings.load()
    settings.accountant_email = "compta@comadvisor.example"
    settings.save()
    return settings


@pytest.fixture
def restaurant_factory(db):
    return RestaurantFactory


@pytest.fixture
def contact_factory(db):
    return ContactFactory


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language, whatever a previous request activated."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in the test's process, as the embedded mode does, also where a broker is
    configured (the PostgreSQL + Redis run)."""
    from comadvisor.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# --- Nothing leaves the machine -------------------------------------------------------------------

# Connections refused by the guard, kept so a test whose code swallowed the error still fails.
_BLOCKED: list[str] = []


class NetworkBlocked(RuntimeError):
    """Not an OSError: the connectors turn network errors into "retry later", which would hide
    this one."""


def _loopback(host) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _block(what: str):
    _BLOCKED.append(what)
    raise NetworkBlocked(f"tests reach only this machine's loopback, not {what}")


def _guard(real):
    def connect(sock, address, *args):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            _block(repr(address))
        return real(sock, address, *args)

    return connect


@pytest.fixture(autouse=True, scope="session")
def _loopback_only():
    """Every connection (and name lookup) the suite's own process makes goes to loopback: the
    platforms are replayed, never called. Subprocesses (the benchmark, a worker) talk to the
    loopback servers the tests start."""
    patches = [
        (socket.socket, "connect", _guard(socket.socket.connect)),
        (socket.socket, "connect_ex", _guard(socket.socket.connect_ex)),
    ]
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host):
            _block(f"a lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    patches.append((socket, "getaddrinfo", getaddrinfo))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _new in patches]
    for owner, name, new in patches:
        setattr(owner, name, new)
    yield
    for owner, name, old in saved:
        setattr(owner, name, old)


@pytest.fixture(autouse=True)
def _no_blocked_connection(_loopback_only):
    _BLOCKED.clear()
    yield
    assert not _BLOCKED, f"a test tried to leave the machine: {_BLOCKED}"
