"""The connect flows' API side (social.oauth) on recorded responses: Graph through responses,
Google through googleapiclient's HttpMockSequence. Nothing reaches the network."""

from urllib.parse import parse_qs, urlsplit

import pytest

from sales.enums import Network
from social.oauth import (
    ConnectableAsset,
    google_assets,
    google_flow,
    meta_assets,
    meta_authorization_url,
    meta_exchange_code,
)
from social.providers import NeedsReconnect, Permanent
from tests.social import recorded
from tests.social.recorded import RecordingHttp, google_answer

GRAPH = "https://graph.facebook.com/v26.0"
PAGE = "108456789012345"
IG = "17841405822304914"
REDIRECT = "https://crm.example/social/connect/meta/callback/"


recording = recorded.recording


def add(rsps, path: str, name: str, **query):
    recorded.add(rsps, "GET", f"{GRAPH}/{path}", recording("facebook", name), **query)


query = recorded.params


@pytest.fixture(autouse=True)
def _oauth_settings(settings):
    settings.GRAPH_API_URL = "https://graph.facebook.com"
    settings.META_APP_ID = "1234567890"
    settings.META_APP_SECRET = "meta-secret"
    settings.GOOGLE_OAUTH_CLIENT_ID = "1234-abc.apps.googleusercontent.com"
    settings.GOOGLE_OAUTH_CLIENT_SECRET = "GOCSPX-secret"
    settings.GOOGLE_API_URL = ""


# --- Meta ------------------------------------------------------------------------------------------


def test_meta_authorization_url_asks_the_scopes():
    url = urlsplit(meta_authorization_url(redirect_uri=REDIRECT, state="st4te"))

    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "www.facebook.com",
        "/v26.0/dialog/oauth",
    )
    params = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert params == {
        "client_id": "1234567890",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "response_type": "code",
        "scope": (
            "pages_show_list,pages_read_engagement,pages_manage_posts,pages_read_user_content,"
            "read_insights,instagram_basic,instagram_content_publish,instagram_manage_insights,"
            "business_management"
        ),
    }


def test_meta_exchange_code_returns_the_long_lived_token(graph):
    add(graph, "oauth/access_token", "oauth_code_token", code="AQDx-code")
    add(graph, "oauth/access_token", "oauth_long_lived_token", grant_type="fb_exchange_token")

    token = meta_exchange_code(code="AQDx-code", redirect_uri=REDIRECT)

    assert token == "EAAGm0PX4ZCpsBALongLived"
    assert query(graph.calls[0]) == {
        "client_id": "1234567890",
        "client_secret": "meta-secret",
        "redirect_uri": REDIRECT,
        "code": "AQDx-code",
    }
    assert query(graph.calls[1]) == {
        "client_id": "1234567890",
        "client_secret": "meta-secret",
        "grant_type": "fb_exchange_token",
        "fb_exchange_token": "EAAGm0PX4ZCpsBAShortLived",
    }


def test_meta_exchange_code_invalid_code_is_permanent(graph):
    add(graph, "oauth/access_token", "error_100_invalid_code")

    with pytest.raises(Permanent) as raised:
        meta_exchange_code(code="expired", redirect_uri=REDIRECT)

    assert str(raised.value) == "Meta refused the request (#100): Invalid verification code format."


def test_meta_assets_lists_pages_and_their_instagram_accounts_over_pages(graph):
    add(graph, "me/accounts", "me_accounts_page1")
    add(graph, "me/accounts", "me_accounts_page2", after="QVFIUnBhZA1")

    assets = meta_assets("EAAGm0PX4ZCpsBALongLived")

    assert assets == [
        ConnectableAsset(
            network=Network.FACEBOOK,
            external_id=PAGE,
            name="Chez Paul",
            url="https://www.facebook.com/chezpaul.lyon",
            credentials='{"access_token": "EAAGm0PX4ZCpsBAPageChezPaul"}',
            token_expires_at=None,
        ),
        ConnectableAsset(
            network=Network.INSTAGRAM,
            external_id=IG,
            name="@chezpaul.lyon",
            url="https://www.instagram.com/chezpaul.lyon/",
            credentials='{"access_token": "EAAGm0PX4ZCpsBAPageChezPaul"}',
            token_expires_at=None,
        ),
        ConnectableAsset(
            network=Network.FACEBOOK,
            external_id="108999888777666",
            name="Le Bouchon des Filles",
            url="https://www.facebook.com/lebouchondesfilles",
            credentials='{"access_token": "EAAGm0PX4ZCpsBAPageBouchon"}',
            token_expires_at=None,
        ),
    ]
    first = query(graph.calls[0])
    assert first["access_token"] == "EAAGm0PX4ZCpsBALongLived"
    assert first["fields"] == "id,name,link,access_token,instagram_business_account{id,username}"
    assert "appsecret_proof" in first


def test_meta_assets_expired_token_needs_reconnect(graph):
    add(graph, "me/accounts", "error_190_expired")

    with pytest.raises(NeedsReconnect):
        meta_assets("EAAGm0PX4ZCpsBAExpired")


# --- Google ----------------------------------------------------------------------------------------


def test_google_flow_asks_business_manage():
    flow = google_flow(
        redirect_uri="https://crm.example/social/connect/google/callback/", state="abc"
    )

    url, state = flow.authorization_url(access_type="offline", prompt="consent")

    params = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert state == "abc"
    assert params["scope"] == "https://www.googleapis.com/auth/business.manage"
    assert params["client_id"] == "1234-abc.apps.googleusercontent.com"
    assert params["redirect_uri"] == "https://crm.example/social/connect/google/callback/"
    assert params["access_type"] == "offline"
    assert urlsplit(url).netloc == "accounts.google.com"


def test_google_assets_lists_the_locations_of_every_account():
    http = RecordingHttp(
        [
            google_answer("accounts_page1"),
            google_answer("accounts_page2"),
            google_answer("locations_chez_paul"),
            google_answer("locations_empty"),
        ]
    )

    assets = google_assets('{"token": "ya29"}', http=http)

    assert assets == [
        ConnectableAsset(
            network=Network.GOOGLE,
            external_id="accounts/106433017228011234567/locations/4563819901457381234",
            name="Chez Paul",
            url="https://maps.google.com/maps?cid=1234567890123456789",
            credentials='{"token": "ya29"}',
        ),
        ConnectableAsset(
            network=Network.GOOGLE,
            external_id="accounts/106433017228011234567/locations/4563819901457389999",
            name="Chez Paul - Vieux Lyon",
            url="https://maps.google.com/maps?cid=9876543210987654321",
            credentials='{"token": "ya29"}',
        ),
    ]
    assert [(method, path) for method, path, *_rest in http.requests] == [
        ("GET", "/v1/accounts"),
        ("GET", "/v1/accounts"),
        ("GET", "/v1/accounts/106433017228011234567/locations"),
        ("GET", "/v1/accounts/109876543210987654321/locations"),
    ]
    assert http.requests[1][2]["pageToken"] == ["AB12cd"]
    assert http.requests[2][2]["readMask"] == ["name,title,metadata"]


def test_google_assets_unauthorised_needs_reconnect():
    http = RecordingHttp([google_answer("error_401")])

    with pytest.raises(NeedsReconnect):
        google_assets('{"token": "ya29"}', http=http)
