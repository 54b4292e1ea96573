"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests (fixtures,
# assertions on the database) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The service worker's own requests follow the context's network settings (offline included)
# unless this switch is set (Playwright 1.65; the experimental switch that turned them on before
# is gone). The field kit's offline tests depend on it; the probe tests fail without it.
os.environ.pop("PLAYWRIGHT_DISABLE_SERVICE_WORKER_NETWORK", None)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = f"Chromium not installed at {CHROMIUM}: apt-get install -y chromium"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context; the test fails if the page logged a console error (CSP included).

    A test expecting an error status adds that message to page.expected_console_errors.
    """
    from django.conf import settings

    # The users' browsers keep the company's time, as their devices do.
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", timezone_id=settings.TIME_ZONE
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.expected_console_errors = set()

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    unexpected = [error for error in errors if error not in page.expected_console_errors]
    assert unexpected == [], f"console errors: {unexpected}"


def login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")


# Data the migrations create (visit form, e-mail templates, schedules). Transactional tests
# flush the database after each test, so it is put back before each browser test.
MIGRATION_DATA = [
    ("accounts.migrations.0003_invitation_email", "create"),
    ("crm.migrations.0002_search_and_defaults", "create_defaults"),
    ("sales.migrations.0002_defaults", "create"),
    ("social.migrations.0002_defaults", "create"),
    ("reports.migrations.0002_defaults", "create"),
]


@pytest.fixture(autouse=True)
def _migration_data(transactional_db):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    editor = SimpleNamespace(connection=connection)
    for module, function in MIGRATION_DATA:
        getattr(importlib.import_module(module), function)(apps, editor)
