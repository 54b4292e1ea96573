"""The Google connect flow through its views on recorded responses: the state check, the PKCE
verifier kept between the two legs, the code exchanged at Google's token endpoint (replayed by
`responses`), and the locations listed (replayed through googleapiclient's HttpMockSequence).
Nothing reaches the network."""

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from social import oauth
from social.enums import AccountState
from social.models import SocialAccount
from tests.social import recorded
from tests.social.recorded import RecordingHttp, google_answer

SITE = "https://crm.comadvisor.example"
CALLBACK = f"{SITE}/social/connect/google/callback/"
LOCATION = "accounts/106433017228011234567/locations/4563819901457381234"


@pytest.fixture(autouse=True)
def _google_settings(settings):
    settings.SITE_URL = SITE
    settings.GOOGLE_OAUTH_CLIENT_ID = "1234-abc.apps.googleusercontent.com"
    settings.GOOGLE_OAUTH_CLIENT_SECRET = "GOCSPX-secret"
    settings.GOOGLE_API_URL = ""


@pytest.fixture
def google_http(monkeypatch):
    """The locations of the recorded accounts, listed by the real google_assets; `credentials`
    keeps what the view gave it."""
    http = RecordingHttp(
        [
            google_answer("accounts_page1"),
            google_answer("accounts_page2"),
            google_answer("locations_chez_paul"),
            google_answer("locations_empty"),
        ]
    )
    http.credentials = []
    listing = oauth.google_assets

    def assets(credentials_json, *, http=http):
        http.credentials.append(json.loads(credentials_json))
        return listing(credentials_json, http=http)

    monkeypatch.setattr(oauth, "google_assets", assets)
    return http


def _start(client, bistro) -> dict[str, str]:
    response = client.get(reverse("social:connect_start", args=[bistro.pk, "google"]))
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert (url.scheme, url.netloc) == ("https", "accounts.google.com")
    return {key: values[0] for key, values in parse_qs(url.query).items()}


def test_connecting_google_exchanges_the_code_with_the_verifier_and_lists_the_locations(
    client, community_manager, bistro, google_http
):
    client.force_login(community_manager)
    asked = _start(client, bistro)

    with recorded.strict_requests() as rsps:
        recorded.add(
            rsps, "POST", oauth.GOOGLE_TOKEN_URI, recorded.recording("google", "oauth_token")
        )
        callback = client.get(
            reverse("social:connect_google_callback"),
            {"state": asked["state"], "code": "4/0AeanS0b-code"},
        )
        # The mock forgets its calls once closed.
        [exchange_call] = rsps.calls
    # The tokens wait for the choice encrypted in the session.
    assert "1//0gConnectRefreshToken" not in str(dict(client.session))
    choose = client.get(reverse("social:connect_choose"))
    done = client.post(reverse("social:connect_choose"), {"asset": ["0", "1"]})

    assert (asked["redirect_uri"], asked["code_challenge_method"]) == (CALLBACK, "S256")
    exchange = recorded.params(exchange_call)
    verifier = exchange.pop("code_verifier")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge.decode() == asked["code_challenge"]
    assert exchange == {
        "grant_type": "authorization_code",
        "code": "4/0AeanS0b-code",
        "redirect_uri": CALLBACK,
    }
    # The client authenticates with HTTP Basic (client_secret_basic).
    client_auth = base64.b64encode(b"1234-abc.apps.googleusercontent.com:GOCSPX-secret")
    assert exchange_call.request.headers["Authorization"] == f"Basic {client_auth.decode()}"
    assert callback["Location"] == reverse("social:connect_choose")
    assert "Chez Paul - Vieux Lyon" in choose.content.decode()
    assert done.status_code == 302
    [given] = google_http.credentials
    assert (given["token"], given["refresh_token"]) == (
        "ya29.a0AfB_byConnectAccess",
        "1//0gConnectRefreshToken",
    )
    accounts = SocialAccount.objects.order_by("external_id")
    assert [(a.network, a.external_id, a.state, a.demo) for a in accounts] == [
        ("google", LOCATION, AccountState.OK, False),
        ("google", LOCATION[:-4] + "9999", AccountState.OK, False),
    ]
    # Google's refresh tokens do not expire by time: no end of access to announce.
    assert [a.token_expires_at for a in accounts] == [None, None]
    assert json.loads(accounts[0].credentials)["refresh_token"] == "1//0gConnectRefreshToken"
    assert "social-connect" not in client.session


def test_a_forged_state_is_refused_before_any_exchange(
    client, community_manager, bistro, google_http
):
    client.force_login(community_manager)
    _start(client, bistro)

    with recorded.strict_requests() as rsps:
        response = client.get(
            reverse("social:connect_google_callback"),
            {"state": "forged", "code": "4/0AeanS0b-code"},
        )
        calls = len(rsps.calls)

    assert response["Location"] == "/"
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    assert calls == 0 and google_http.credentials == []
    assert SocialAccount.objects.count() == 0


def test_a_state_from_the_meta_flow_does_not_complete_a_google_connection(
    client, community_manager, bistro, settings, google_http
):
    settings.META_APP_ID = "1234567890"
    client.force_login(community_manager)
    meta = client.get(reverse("social:connect_start", args=[bistro.pk, "meta"]))
    state = parse_qs(urlsplit(meta["Location"]).query)["state"][0]

    with recorded.strict_requests() as rsps:
        response = client.get(
            reverse("social:connect_google_callback"), {"state": state, "code": "4/0AeanS0b-code"}
        )
        calls = len(rsps.calls)

    assert response["Location"] == "/"
    assert calls == 0 and google_http.credentials == []
