"""Pages acting on a restaurant that the existing scope list does not cover: a community manager
of other restaurants gets 404, the restaurant's own one does not."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from accounts.enums import RoleName
from tests.factories import UserFactory

PAGES = [
    ("social:profile_update", "post", {}, {"average_ticket": "30"}),
    (
        "social:account_add",
        "post",
        {},
        {"network": "tripadvisor", "external_id": "d1", "name": "x"},
    ),
    ("social:connect_start", "get", {"provider": "meta"}, {}),
    ("social:connect_start", "get", {"provider": "google"}, {}),
    ("social:post_preview", "post", {}, {"text": "Soirée jazz"}),
]
# What the restaurant's own community manager gets from each page: the form's redirect back to
# the social page, the platform's consent page, the preview.
REACHED = {
    "social:profile_update": (302, "social"),
    "social:account_add": (302, "social"),
    "social:connect_start": (302, "platform"),
    "social:post_preview": (200, None),
}


@pytest.fixture
def outsider(db):
    """A community manager (and review manager) of other restaurants."""
    return UserFactory(
        username="outsider", roles=[RoleName.COMMUNITY_MANAGER, RoleName.REVIEW_MANAGER]
    )


@pytest.mark.parametrize(("name", "method", "kwargs", "data"), PAGES)
def test_outside_its_restaurants_a_manager_gets_404(
    client, outsider, bistro, facebook, name, method, kwargs, data
):
    client.force_login(outsider)

    response = getattr(client, method)(
        reverse(name, kwargs={"restaurant_pk": bistro.pk} | kwargs), data
    )

    assert response.status_code == 404


@pytest.mark.parametrize(("name", "method", "kwargs", "data"), PAGES)
def test_the_restaurants_own_manager_reaches_the_page(
    client, community_manager, bistro, facebook, name, method, kwargs, data, settings
):
    settings.META_APP_ID, settings.META_APP_SECRET = "app", "secret"
    settings.GOOGLE_OAUTH_CLIENT_ID, settings.GOOGLE_OAUTH_CLIENT_SECRET = "client", "secret"
    client.force_login(community_manager)

    response = getattr(client, method)(
        reverse(name, kwargs={"restaurant_pk": bistro.pk} | kwargs), data
    )

    status, where = REACHED[name]
    assert response.status_code == status
    if where == "social":
        assert response["Location"] == reverse("social:restaurant_social", args=[bistro.pk])
    elif where == "platform":
        host = "www.facebook.com" if kwargs["provider"] == "meta" else "accounts.google.com"
        assert urlsplit(response["Location"]).netloc == host
    else:
        assert response.templates[0].name == "social/partials/post_preview.html"
