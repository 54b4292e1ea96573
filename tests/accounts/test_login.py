import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def test_login_with_username_lands_on_dashboard(client, sales_agent):
    response = client.post(LOGIN, {"username": sales_agent.username, "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").context["user"] == sales_agent


def test_login_with_email_in_any_case(client, sales_agent):
    response = client.post(LOGIN, {"username": sales_agent.email.upper(), "password": PASSWORD})

    assert response.status_code == 302


def test_wrong_password_shows_translated_error(client, sales_agent):
    response = client.post(LOGIN, {"username": sales_agent.username, "password": "nope"})

    assert response.status_code == 200
    assert "Identifiant, e-mail ou mot de passe incorrect" in response.content.decode()


def test_wrong_password_in_english_when_chosen(client, sales_agent):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(LOGIN, {"username": sales_agent.username, "password": "nope"})

    assert "Wrong username, e-mail or password" in response.content.decode()


def test_failed_logins_are_throttled(client, sales_agent):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            client.post(LOGIN, {"username": sales_agent.username, "password": "nope"}).status_code
            == 200
        )

    locked = client.post(LOGIN, {"username": sales_agent.username, "password": "nope"})
    still_locked = client.post(LOGIN, {"username": sales_agent.username, "password": PASSWORD})

    assert locked.status_code == 429
    assert "Trop de tentatives de connexion" in locked.content.decode()
    assert still_locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_language_chosen_on_login_page_is_stored_on_account(client, sales_agent):
    client.post(reverse("set_language"), {"language": "en", "next": LOGIN})

    client.post(LOGIN, {"username": sales_agent.username, "password": PASSWORD})

    sales_agent.refresh_from_db()
    assert sales_agent.language == "en"


def test_account_language_follows_user_to_new_device(client, sales_agent):
    sales_agent.language = "en"
    sales_agent.save()

    response = client.post(LOGIN, {"username": sales_agent.username, "password": PASSWORD})

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert client.get("/").context["LANGUAGE_CODE"] == "en"


def test_switching_language_while_logged_in_updates_account(client, sales_agent):
    client.force_login(sales_agent)

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 302 and response["Location"] == "/"
    sales_agent.refresh_from_db()
    assert sales_agent.language == "en"
    assert '<html lang="en"' in client.get("/").content.decode()


def test_switching_language_ignores_foreign_next_url(client):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_unknown_language_changes_nothing(client, sales_agent):
    client.force_login(sales_agent)
    client.post(reverse("set_language"), {"language": "de", "next": "/"})

    sales_agent.refresh_from_db()
    assert sales_agent.language == "fr"


def test_logout_needs_post_and_ends_session(client, sales_agent):
    client.force_login(sales_agent)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get("/").status_code == 302


def test_no_password_change_or_reset_page_for_non_admins(client, direction):
    client.force_login(direction)

    assert client.get("/admin/password_change/").status_code == 403
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.get("/accounts/password_change/").status_code == 404


def test_pages_send_a_strict_content_security_policy(client):
    policy = client.get(LOGIN)["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
