"""The connect flows' API side, as pure functions (the views own sessions, state and messages).

Meta: the Facebook Login dialog, the code exchanged for a long-lived user token, then the Pages
that token manages (each with its own Page token) and their Instagram professional accounts.
Google: the OAuth flow (business.manage) and the locations of the accounts the user can manage.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from facebook_business.adobjects.user import User

from comadvisor.connectors import ConnectorError, Permanent
from sales.enums import Network
from social.metrics import GRAPH_VERSION
from social.providers.google import (
    SCOPES as GOOGLE_SCOPES,
)
from social.providers.google import (
    build_service,
    credentials_from,
    execute,
)
from social.providers.meta import graph_api, translated

logger = logging.getLogger(__name__)

META_DIALOG_URL = "https://www.facebook.com"
META_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_read_user_content",
    "read_insights",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
    "business_management",
)
PAGE_FIELDS = ["id", "name", "link", "access_token", "instagram_business_account{id,username}"]
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class ConnectableAsset:
    """A page, Instagram account or location the user may connect as a SocialAccount."""

    network: str
    external_id: str
    name: str
    url: str
    # JSON string to store in SocialAccount.credentials.
    credentials: str
    token_expires_at: dt.datetime | None = None


# --- Meta ----------------------------------------------------------------------------------------


def meta_authorization_url(*, redirect_uri: str, state: str) -> str:
    query = urlencode(
        {
            "client_id": settings.META_APP_ID,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(META_SCOPES),
        }
    )
    return f"{META_DIALOG_URL}/{GRAPH_VERSION}/dialog/oauth?{query}"


def meta_exchange_code(*, code: str, redirect_uri: str) -> str:
    """The login code -> a user token -> a long-lived user token (about 60 days), returned."""
    api = graph_api(None)
    app = {"client_id": settings.META_APP_ID, "client_secret": settings.META_APP_SECRET}
    with translated():
        short = api.call(
            "GET",
            ("oauth", "access_token"),
            params={**app, "redirect_uri": redirect_uri, "code": code},
        ).json()
        if not isinstance(short, dict) or not short.get("access_token"):
            raise Permanent("Meta returned no user access token")
        long_lived = api.call(
            "GET",
            ("oauth", "access_token"),
            params={
                **app,
                "grant_type": "fb_exchange_token",
                "fb_exchange_token": short["access_token"],
            },
        ).json()
    if not isinstance(long_lived, dict) or not long_lived.get("access_token"):
        raise Permanent("Meta returned no long-lived access token")
    return long_lived["access_token"]


def meta_data_access_expires_at(user_token: str) -> dt.datetime | None:
    """When the app's access to the data of the user behind `user_token` ends (debug_token's
    data_access_expires_at, asked with the app's token), None when Meta does not say.

    This is the date the desk shows as the end of a Meta account's access. The Page tokens
    stored come from a long-lived user token, so they have no expiry of their own (debug_token
    gives them expires_at 0) and the user token's expires_in (about 60 days) is not theirs; what
    does end is data access, about 90 days after the user last granted it, and the calls that
    need the permissions granted then fail until the user goes through the connect flow again.
    A refusal here does not stop the connection: the tokens are good, only the date is
    unknown."""
    api = graph_api(None)
    try:
        with translated():
            body = api.call(
                "GET",
                ("debug_token",),
                params={
                    "input_token": user_token,
                    "access_token": f"{settings.META_APP_ID}|{settings.META_APP_SECRET}",
                },
            ).json()
    except ConnectorError as error:
        logger.warning("Meta did not say when data access ends: %s", error)
        return None
    data = body.get("data") if isinstance(body, dict) else None
    ends = data.get("data_access_expires_at") if isinstance(data, dict) else None
    if isinstance(ends, bool) or not isinstance(ends, int) or ends <= 0:
        return None
    return dt.datetime.fromtimestamp(ends, tz=dt.UTC)


def meta_assets(
    user_token: str, *, expires_at: dt.datetime | None = None
) -> list[ConnectableAsset]:
    """The Pages the user manages (with their Page token, which does not expire when it comes
    from a long-lived user token) and the Instagram professional account linked to each, their
    access ending at `expires_at` (meta_data_access_expires_at)."""
    api = graph_api(user_token)
    assets: list[ConnectableAsset] = []
    with translated():
        pages = [
            page.export_all_data()
            for page in User("me", api=api).get_accounts(fields=PAGE_FIELDS, params={"limit": 100})
        ]
    for page in pages:
        token = page.get("access_token")
        if not token or not page.get("id"):
            continue
        credentials = json.dumps({"access_token": token})
        assets.append(
            ConnectableAsset(
                network=Network.FACEBOOK.value,
                external_id=str(page["id"]),
                name=page.get("name") or str(page["id"]),
                url=page.get("link") or f"https://www.facebook.com/{page['id']}",
                credentials=credentials,
                token_expires_at=expires_at,
            )
        )
        instagram = page.get("instagram_business_account") or {}
        if instagram.get("id"):
            username = instagram.get("username") or ""
            assets.append(
                ConnectableAsset(
                    network=Network.INSTAGRAM.value,
                    external_id=str(instagram["id"]),
                    name=f"@{username}" if username else str(instagram["id"]),
                    url=f"https://www.instagram.com/{username}/" if username else "",
                    credentials=credentials,
                    token_expires_at=expires_at,
                )
            )
    return assets


# --- Google --------------------------------------------------------------------------------------


def google_flow(*, redirect_uri: str, state: str | None = None):
    from google_auth_oauthlib.flow import Flow

    config = {
        "web": {
            "client_id": settings.GOOGLE_OAUTH_CLIENT_ID,
            "client_secret": settings.GOOGLE_OAUTH_CLIENT_SECRET,
            "auth_uri": GOOGLE_AUTH_URI,
            "token_uri": GOOGLE_TOKEN_URI,
        }
    }
    flow = Flow.from_client_config(config, scopes=GOOGLE_SCOPES, state=state)
    flow.redirect_uri = redirect_uri
    return flow


def _pages(request_for, key: str) -> list[dict]:
    items: list[dict] = []
    page_token = None
    while True:
        page = execute(request_for(page_token))
        items += page.get(key) or []
        page_token = page.get("nextPageToken")
        if not page_token:
            return items


def google_assets(credentials_json: str, *, http=None) -> list[ConnectableAsset]:
    """Every location of every account the credentials manage, as "accounts/X/locations/Y" (the
    v4 reviews and posts need the account). `http` replaces the authorised transport (tests).

    Their token_expires_at stays None: the credentials live on a refresh token, which Google
    does not expire by time (it stops working when the user revokes the access, or after six
    months without use, which the daily fetch rules out); a revoked one comes out as reconnect
    needed at the next call."""
    credentials = None if http is not None else credentials_from(credentials_json)
    management = build_service(
        "mybusinessaccountmanagement", "v1", credentials=credentials, http=http
    )
    information = build_service(
        "mybusinessbusinessinformation", "v1", credentials=credentials, http=http
    )

    def accounts_page(token):
        params = {"pageSize": 20}
        if token:
            params["pageToken"] = token
        return management.accounts().list(**params)

    assets: list[ConnectableAsset] = []
    for account in _pages(accounts_page, "accounts"):
        account_name = account.get("name")
        if not account_name:
            continue

        def locations_page(token, parent=account_name):
            params = {"parent": parent, "readMask": "name,title,metadata", "pageSize": 100}
            if token:
                params["pageToken"] = token
            return information.accounts().locations().list(**params)

        for location in _pages(locations_page, "locations"):
            name = location.get("name") or ""
            if not name.startswith("locations/"):
                continue
            assets.append(
                ConnectableAsset(
                    network=Network.GOOGLE.value,
                    external_id=f"{account_name}/{name}",
                    name=location.get("title") or name,
                    url=(location.get("metadata") or {}).get("mapsUri") or "",
                    credentials=credentials_json,
                )
            )
    return assets
