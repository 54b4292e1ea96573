"""The social section of the restaurant page shows the accounts (external ids, errors) to who
may see social accounts, as /restaurants/<id>/social/ does; the others get nothing from it."""

import pytest
from django.urls import reverse

from comadvisor.connectors import Permanent
from social import services
from tests.social.conftest import make_account


@pytest.fixture
def failing(bistro):
    account = make_account(bistro, "google", external_id="accounts/1/locations/77")
    services.account_record_failure(account=account, error=Permanent("Google refused (403)"))
    return account


@pytest.mark.parametrize(
    "role", ["community_manager", "review_manager", "client_manager", "direction"]
)
def test_who_may_see_social_accounts_gets_the_table(client, persona, bistro, failing, role):
    user = persona(role)
    client.force_login(user)

    section = client.get(reverse("social:restaurant_section", args=[bistro.pk]))
    page = client.get(reverse("social:restaurant_social", args=[bistro.pk]))

    html = section.content.decode()
    assert (section.status_code, page.status_code) == (200, 200)
    assert user.has_perm("social.view_socialaccount")
    assert 'data-testid="social-accounts"' in html
    assert "accounts/1/locations/77" in html and "Google refused (403)" in html
    assert f'href="{reverse("social:restaurant_social", args=[bistro.pk])}"' in html


def test_an_accountant_gets_nothing_from_the_section(client, accountant, bistro, failing):
    client.force_login(accountant)

    section = client.get(reverse("social:restaurant_section", args=[bistro.pk]))
    page = client.get(reverse("social:restaurant_social", args=[bistro.pk]))
    restaurant = client.get(reverse("crm:restaurant_detail", args=[bistro.pk]))

    assert not accountant.has_perm("social.view_socialaccount")
    assert (section.status_code, page.status_code, restaurant.status_code) == (200, 403, 200)
    assert section.content == b""


def test_outside_the_readers_scope_the_section_is_a_404_whatever_the_role(
    client, other_restaurant, make_user
):
    outsider = make_user(username="cm_elsewhere", roles=["community_manager"])
    make_account(other_restaurant, "facebook")
    client.force_login(outsider)

    response = client.get(reverse("social:restaurant_section", args=[other_restaurant.pk]))

    assert response.status_code == 404
