"""The connect flow's views: on stand-ins for the OAuth exchanges (tested on recorded responses in
test_oauth.py), and the whole Meta flow on recorded responses; Google's is in
test_google_connect.py."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.urls import reverse

from social import oauth
from social.enums import AccountState
from social.models import SocialAccount
from social.oauth import ConnectableAsset
from tests.social import recorded

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
    monkeypatch.setattr(oauth, "meta_data_access_expires_at", lambda token: None)
    monkeypatch.setattr(oauth, "meta_assets", lambda token, *, expires_at: ASSETS)


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


# --- Redirect URIs ---------------------------------------------------------------------------------


def _redirect_uri_asked(response) -> str:
    return parse_qs(urlsplit(response["Location"]).query)["redirect_uri"][0]


@pytest.mark.parametrize(
    ("provider", "callback"),
    [("meta", "/social/connect/meta/callback/"), ("google", "/social/connect/google/callback/")],
)
def test_the_redirect_uri_is_the_registered_one_whatever_host_the_request_came_through(
    client, community_manager, bistro, settings, provider, callback
):
    settings.SITE_URL = "https://crm.comadvisor.example"
    settings.ALLOWED_HOSTS = ["10.0.0.5"]
    settings.META_APP_ID, settings.META_APP_SECRET = "1234567890", "meta-secret"
    settings.GOOGLE_OAUTH_CLIENT_ID = "1234-abc.apps.googleusercontent.com"
    settings.GOOGLE_OAUTH_CLIENT_SECRET = "GOCSPX-secret"
    client.force_login(community_manager)

    # What a proxy that does not pass the public host on makes the request look like.
    response = client.get(
        reverse("social:connect_start", args=[bistro.pk, provider]), HTTP_HOST="10.0.0.5:8000"
    )

    assert response.status_code == 302
    assert _redirect_uri_asked(response) == f"https://crm.comadvisor.example{callback}"


# --- The Meta flow on recorded responses ------------------------------------------------------------

GRAPH = "https://graph.facebook.com/v26.0"
# debug_token_user's data_access_expires_at.
DATA_ACCESS_ENDS = dt.datetime(2026, 5, 31, 11, 12, 44, tzinfo=dt.UTC)


@pytest.fixture
def graph(settings):
    settings.GRAPH_API_URL = "https://graph.facebook.com"
    settings.META_APP_ID, settings.META_APP_SECRET = "1234567890", "meta-secret"
    settings.SITE_URL = "https://crm.comadvisor.example"
    with recorded.strict_requests() as rsps:
        yield rsps


def _graph(rsps, path: str, name: str, **query) -> None:
    recorded.add(rsps, "GET", f"{GRAPH}/{path}", recorded.recording("facebook", name), **query)


def _meta_answers(rsps, *, debug_token: str) -> None:
    _graph(rsps, "oauth/access_token", "oauth_code_token", code="AQDx-code")
    _graph(rsps, "oauth/access_token", "oauth_long_lived_token", grant_type="fb_exchange_token")
    _graph(rsps, "debug_token", debug_token)
    _graph(rsps, "me/accounts", "me_accounts_page1")
    _graph(rsps, "me/accounts", "me_accounts_page2", after="QVFIUnBhZA1")


def _connect_meta(client, bistro) -> None:
    response = client.get(reverse("social:connect_start", args=[bistro.pk, "meta"]))
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    callback = client.get(
        reverse("social:connect_meta_callback"), {"state": state, "code": "AQDx-code"}
    )
    assert callback["Location"] == reverse("social:connect_choose")
    done = client.post(reverse("social:connect_choose"), {"asset": ["0", "1", "2"]})
    assert done.status_code == 302


def test_meta_accounts_end_their_access_when_meta_says_data_access_ends(
    client, community_manager, bistro, graph, monkeypatch
):
    _meta_answers(graph, debug_token="debug_token_user")
    client.force_login(community_manager)

    _connect_meta(client, bistro)

    accounts = SocialAccount.objects.order_by("network", "external_id")
    assert [(a.network, a.external_id, a.token_expires_at) for a in accounts] == [
        ("facebook", "108456789012345", DATA_ACCESS_ENDS),
        ("facebook", "108999888777666", DATA_ACCESS_ENDS),
        ("instagram", "17841405822304914", DATA_ACCESS_ENDS),
    ]
    code_exchange, _long_lived, debug, *_pages = graph.calls
    assert recorded.params(code_exchange)["redirect_uri"] == (
        "https://crm.comadvisor.example/social/connect/meta/callback/"
    )
    assert recorded.params(debug) == {
        "input_token": "EAAGm0PX4ZCpsBALongLived",
        "access_token": "1234567890|meta-secret",
    }
    # The community manager's home warns from 14 days before.
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: DATA_ACCESS_ENDS - dt.timedelta(days=13)
    )
    assert all(account.token_expires_soon for account in accounts)


def test_meta_accounts_connect_without_an_end_when_debug_token_is_refused(
    client, community_manager, bistro, graph
):
    _meta_answers(graph, debug_token="error_190_expired")
    client.force_login(community_manager)

    _connect_meta(client, bistro)

    assert (
        list(SocialAccount.objects.values_list("state", "token_expires_at"))
        == [(AccountState.OK, None)] * 3
    )


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
