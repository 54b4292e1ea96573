import pytest
from django.contrib import admin
from django.urls import reverse

from social.models import Publication, SocialAccount
from tests.social.conftest import make_account

SOCIAL_MODELS = [model for model in admin.site._registry if model._meta.app_label == "social"]


@pytest.mark.parametrize("model", SOCIAL_MODELS, ids=lambda model: model.__name__)
def test_every_social_admin_page_opens(client, admin_user, bistro, model):
    make_account(bistro, "facebook")
    client.force_login(admin_user)
    opts = model._meta

    listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    assert listing.status_code == 200


def test_credentials_are_never_shown_in_admin(client, admin_user, bistro):
    account = make_account(bistro, "facebook", demo=False, credentials='{"access_token": "secret"}')
    client.force_login(admin_user)

    page = client.get(reverse("admin:social_socialaccount_change", args=[account.pk]))

    assert page.status_code == 200
    assert b"secret" not in page.content
    assert SocialAccount.objects.get().credentials == '{"access_token": "secret"}'


def test_direction_cannot_change_the_desk_settings(client, direction):
    client.force_login(direction)

    response = client.get(reverse("admin:social_socialsettings_add"))

    assert response.status_code == 403


def test_admin_retries_failed_publications(client, admin_user, bistro, community_manager):
    from social import services

    account = make_account(bistro, "facebook")
    services.post_save(by=community_manager, restaurant=bistro, accounts=[account], text="x")
    Publication.objects.update(state="failed")
    client.force_login(admin_user)

    client.post(
        reverse("admin:social_publication_changelist"),
        {"action": "retry", "_selected_action": [Publication.objects.get().pk]},
    )

    assert Publication.objects.get().state == "scheduled"
