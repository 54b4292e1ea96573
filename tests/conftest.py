"""Shared fixtures: one persona per role, plus an outsider with no role."""

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
