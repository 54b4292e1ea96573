import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import translation
from guardian.shortcuts import assign_perm

pytestmark = pytest.mark.django_db


def test_404_is_styled_and_french_by_default(client, sales_agent):
    client.force_login(sales_agent)

    response = client.get("/nowhere/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "Page introuvable" in body
    assert "css/app.css" in body


def test_404_in_english_for_an_english_user(client, sales_agent):
    sales_agent.language = "en"
    sales_agent.save()
    client.force_login(sales_agent)

    assert "Page not found" in client.get("/nowhere/").content.decode()


def test_404_for_anonymous_visitor_in_chosen_language(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    assert "Page not found" in client.get("/nowhere/").content.decode()


def test_403_page_is_translated(client, direction):
    client.force_login(direction)

    response = client.get("/admin/password_change/")

    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


@override_settings(CSRF_COOKIE_SECURE=False)
def test_csrf_failure_page_explains_nothing_was_saved(sales_agent):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(sales_agent)

    response = csrf_client.post("/language/", {"language": "en"})

    assert response.status_code == 403
    assert "rien n'a été enregistré" in response.content.decode()
    sales_agent.refresh_from_db()
    assert sales_agent.language == "fr"


@pytest.mark.parametrize(
    ("language", "text"), [("fr", "Une erreur est survenue"), ("en", "Something went wrong")]
)
def test_500_page_renders_without_request_context(language, text):
    with translation.override(language):
        html = render_to_string("500.html")

    assert text in html
    assert f'<html lang="{language}">' in html


def test_guardian_grants_a_permission_on_one_object(make_user):
    viewer = make_user()
    shared, other = make_user(), make_user()

    assign_perm("accounts.view_user", viewer, shared)

    assert viewer.has_perm("accounts.view_user", shared)
    assert not viewer.has_perm("accounts.view_user", other)
    assert not viewer.has_perm("accounts.view_user")
