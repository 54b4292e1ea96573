import re

import pytest
from django.conf import settings

from accounts.enums import RoleName
from accounts.models import User
from tests.browser.conftest import login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("role", [str(role) for role in RoleName])
def test_each_role_logs_in_to_its_dashboard(page, persona, live_server, role):
    user = persona(role)

    login(page, user.username, PASSWORD)

    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(f"[data-testid=roles] [data-role={role}]").is_visible()
    heading = page.locator("[data-testid=dashboard-heading]").inner_text()
    assert heading.startswith("Tableau de bord")
    assert (
        page.locator("[data-testid=current-user]").inner_text().strip() == user.get_display_name()
    )
    admin_link = page.get_by_role("link", name="Administration")
    assert admin_link.count() == (1 if role in ("admin", "direction") else 0)


def test_switching_language_is_kept_on_the_account(page, sales_agent, live_server):
    login(page, sales_agent.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "fr"

    page.click("[data-testid=language-en]")
    page.wait_for_load_state()

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("[data-testid=language-en]").get_attribute("aria-pressed") == "true"
    assert page.locator("[data-testid=dashboard-heading]").inner_text() == "Sales agent dashboard"
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"
    assert User.objects.get(pk=sales_agent.pk).language == "en"

    page.click("[data-testid=language-fr]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert User.objects.get(pk=sales_agent.pk).language == "fr"


def test_language_chosen_before_login_is_stored(page, accountant, live_server):
    page.goto("/accounts/login/")
    page.click("[data-testid=language-en]")
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Log in").is_visible()

    page.fill("input[name=username]", accountant.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")

    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-testid=dashboard-heading]").inner_text() == "Accountant dashboard"
    assert User.objects.get(pk=accountant.pk).language == "en"


def test_logout_returns_to_login_and_protects_pages(page, review_manager, live_server):
    login(page, review_manager.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    page.click("[data-testid=logout]")

    page.wait_for_url(re.compile(r"/accounts/login/$"))
    page.goto("/")
    assert page.url == f"{live_server.url}/accounts/login/?next=/"


def test_wrong_password_shows_the_error(page, client_manager, live_server):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", client_manager.username)
    page.fill("input[name=password]", "wrong password")

    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.click("[data-testid=login-submit]")

    assert response.value.status == 200
    assert page.url == f"{live_server.url}/accounts/login/"
    error = page.locator("[data-testid=login-error]").inner_text()
    assert error.startswith("Identifiant, e-mail ou mot de passe incorrect")


def test_too_many_failures_lock_the_login(page, community_manager):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", community_manager.username)
        page.fill("input[name=password]", "wrong password")
        with page.expect_response(lambda r: r.request.method == "POST") as response:
            page.click("[data-testid=login-submit]")

    assert response.value.status == 429
    assert (
        "Trop de tentatives de connexion" in page.locator("[data-testid=login-error]").inner_text()
    )
    page.expected_console_errors.add(
        "Failed to load resource: the server responded with a status of 429 (Too Many Requests)"
    )


def test_unknown_page_shows_the_styled_404(browser, live_server, direction):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    login(page, direction.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    response = page.goto("/does-not-exist/")

    assert response.status == 404
    assert page.get_by_role("heading", name="Page introuvable").is_visible()
    assert page.locator("link[href$='css/app.css']").count() == 1
    context.close()
