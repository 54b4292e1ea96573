"""The connect flow's views; the OAuth exchanges themselves are tested on recorded responses in
test_oauth.py."""

import pytest
from django.db import connection
from django.urls import reverse

from social import oauth
from social.enums import AccountState
from social.models import SocialAccount
from social.oauth import ConnectableAsset

ASSETS = [
    ConnectableAsset(
        network="facebook", external_id="111", name="Le Bistro", url="https://facebook.test/111",
        credentials='{"access_token": "page-token"}',
    ),
    ConnectableAsset(
        network="instagram", external_id="222", name="lebistro", url="", credentials='{"access_token": "page-token"}',
    ),
]  # fmt: skip


@pytest.fixture
def meta(settings, monkeypatch):
    settings.META_APP_ID = "app"
    settings.META_APP_SECRET = "secret"
    monkeypatch.setattr(
        oauth,
        "meta_authorization_url",
        lambda *, redirect_uri, state: f"https://meta.test/?state={state}",
    )
    monkeypatch.setattr(oauth, "meta_exchange_code", lambda *, code, redirect_uri: "user-token")
    monkeypatch.setattr(oauth, "meta_assets", lambda token: ASSETS)


def _start(client, bistro) -> str:
    response = client.get(reverse("social:connect_start", args=[bistro.pk, "meta"]))
    assert response.status_code == 302
    return response["Location"].split("state=")[1]


def test_connecting_meta_pages_creates_encrypted_accounts(client, community_manager, bistro, meta):
    client.force_login(community_manager)
    state = _start(client, bistro)

    callback = client.get(reverse("social:connect_meta_callback"), {"state": state, "code": "c"})
    choose = client.get(reverse("social:connect_choose"))
    done = client.post(reverse("social:connect_choose"), {"asset": ["0", "1"]})

    assert callback["Location"] == reverse("social:connect_choose")
    assert "Le Bistro" in choose.content.decode()
    assert done.status_code == 302
    accounts = SocialAccount.objects.order_by("network")
    assert [(a.network, a.external_id, a.state, a.demo) for a in accounts] == [
        ("facebook", "111", AccountState.OK, False), ("instagram", "222", AccountState.OK, False),
    ]  # fmt: skip
    assert accounts[0].credentials == '{"access_token": "page-token"}'
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM social_socialaccount")
        stored = [row[0] for row in cursor.fetchall()]
    assert all(value and "page-token" not in value for value in stored)
    assert "page-token" not in str(dict(client.session))


def test_reconnecting_refreshes_the_credentials_and_clears_the_flag(
    client, community_manager, bistro, meta
):
    account = SocialAccount.objects.create(
        restaurant=bistro, network="facebook", external_id="111", name="Old",
        credentials='{"access_token": "expired"}', state=AccountState.NEEDS_RECONNECT,
    )  # fmt: skip
    client.force_login(community_manager)
    state = _start(client, bistro)
    client.get(reverse("social:connect_meta_callback"), {"state": state, "code": "c"})

    client.post(reverse("social:connect_choose"), {"asset": ["0"]})

    account.refresh_from_db()
    assert (account.state, account.credentials, account.reconnect_notified_at) == (
        AccountState.OK, '{"access_token": "page-token"}', None,
    )  # fmt: skip


def test_a_page_linked_to_another_restaurant_is_refused(
    client, community_manager, bistro, other_restaurant, meta
):
    SocialAccount.objects.create(
        restaurant=other_restaurant, network="facebook", external_id="111", name="Taken"
    )
    client.force_login(community_manager)
    state = _start(client, bistro)
    client.get(reverse("social:connect_meta_callback"), {"state": state, "code": "c"})

    response = client.post(reverse("social:connect_choose"), {"asset": ["0"]})

    assert response.status_code == 200
    assert SocialAccount.objects.filter(restaurant=bistro).count() == 0


def test_a_wrong_state_is_refused(client, community_manager, bistro, meta):
    client.force_login(community_manager)
    _start(client, bistro)

    response = client.get(reverse("social:connect_meta_callback"), {"state": "forged", "code": "c"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert SocialAccount.objects.count() == 0


def test_a_refused_exchange_is_shown(client, community_manager, bistro, meta, monkeypatch):
    def refuse(*, code, redirect_uri):
        raise ValueError("code expired")

    monkeypatch.setattr(oauth, "meta_exchange_code", refuse)
    client.force_login(community_manager)
    state = _start(client, bistro)

    response = client.get(
        reverse("social:connect_meta_callback"), {"state": state, "code": "c"}, follow=True
    )

    assert "code expired" in response.content.decode()


def test_tripadvisor_added_by_its_location_id(client, community_manager, bistro):
    client.force_login(community_manager)

    bad = client.post(
        reverse("social:account_add", args=[bistro.pk]),
        {"network": "tripadvisor", "external_id": "abc", "name": "Le Bistro"},
        follow=True,
    )
    good = client.post(
        reverse("social:account_add", args=[bistro.pk]),
        {"network": "tripadvisor", "external_id": "123456", "name": "Le Bistro"},
    )

    assert "le nombre qui figure dans le lien TripAdvisor" in bad.content.decode()
    assert good.status_code == 302
    assert SocialAccount.objects.get().external_id == "123456"
