"""The offline client's server side: the shell page, the manifest and the service worker."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

from field import client_views

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"


def test_the_shell_gives_its_scripts_the_agent_the_urls_and_the_translated_strings(
    client, sales_agent
):
    sales_agent.language = "en"
    sales_agent.save(update_fields=["language"])
    client.force_login(sales_agent)

    response = client.get(reverse("field:shell"))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"
    html = response.content.decode()
    config = json.loads(
        re.search(r'id="field-config" type="application/json">(.*?)</script>', html)[1]
    )
    assert config["agent"] == sales_agent.username
    assert config["language"] == "en"
    assert config["urls"] == {
        "shell": "/field/",
        "worker": "/field-sw.js",
        "manifest": "/field/manifest.webmanifest",
        "envelopes": "/field/api/envelopes",
        "snapshot": "/field/api/snapshot",
        "login": "/accounts/login/",
    }
    strings = json.loads(
        re.search(r'id="field-strings" type="application/json">(.*?)</script>', html)[1]
    )
    assert strings["In %(count)s day_plural"] == "In %(count)s days"
    assert strings["field:postal_code"] == "Postal code"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fr", "Vos bases ne sont pas à jour, merci de vous connecter pour les actualiser"),
        ("en", "Your data is not up to date, please connect to refresh it."),
    ],
)
def test_the_stale_data_message_is_in_the_agents_language(client, sales_agent, language, message):
    sales_agent.language = language
    sales_agent.save(update_fields=["language"])
    client.force_login(sales_agent)

    html = client.get(reverse("field:shell")).content.decode()

    strings = json.loads(
        re.search(r'id="field-strings" type="application/json">(.*?)</script>', html)[1]
    )
    # The issue's own words, shown by the freshness indicator when the data is too old.
    assert strings["Your data is not up to date, please connect to refresh it."] == message


def test_the_shell_has_no_inline_script_or_style(client, sales_agent):
    client.force_login(sales_agent)

    html = client.get(reverse("field:shell")).content.decode()

    # Only JSON data blocks and scripts from files: the CSP allows nothing else.
    for script in re.findall(r"<script([^>]*)>", html):
        assert 'type="application/json"' in script or "src=" in script, script
    assert " style=" not in html
    assert " onclick=" not in html


def test_the_shell_is_refused_to_roles_without_the_field_kit(client, accountant):
    client.force_login(accountant)

    assert client.get(reverse("field:shell")).status_code == 403


def test_the_shell_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("field:shell"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/field/"


def test_the_manifest_installs_the_kit_on_its_own_scope(client):
    response = client.get(reverse("field:manifest"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["start_url"], manifest["scope"], manifest["id"]) == ("/field/",) * 3
    assert manifest["display"] == "standalone"
    assert [(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]] == [
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    ]
    for icon in manifest["icons"]:
        assert (STATIC / icon["src"].removeprefix(settings.STATIC_URL)).exists()


def test_the_service_worker_is_served_from_the_root_without_caching(client):
    response = client.get("/field-sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"


def test_the_service_worker_precaches_the_shell_and_every_file_it_loads(client, sales_agent):
    client.force_login(sales_agent)
    html = client.get(reverse("field:shell")).content.decode()
    worker = client.get("/field-sw.js").content.decode()

    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", worker)[1])
    assert re.search(r'const SHELL = "/field/";', worker)
    assert re.search(r'const API = "/field/api/";', worker)
    loaded = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    assert loaded <= set(assets), loaded - set(assets)
    # Every file of the kit is precached, and every precached file exists.
    kit = {static(str(path.relative_to(STATIC))) for path in (STATIC / "field").rglob("*.*")}
    assert kit <= set(assets), kit - set(assets)
    for url in assets:
        assert (STATIC / url.removeprefix(settings.STATIC_URL)).exists(), url


def test_the_service_worker_changes_when_a_precached_file_changes(client, tmp_path, monkeypatch):
    before = client.get("/field-sw.js").content
    copy = tmp_path / "field.css"
    copy.write_text((STATIC / "field/css/field.css").read_text() + "\n/* changed */\n")
    original = client_views._source
    monkeypatch.setattr(
        client_views,
        "_source",
        lambda path: copy if path == "field/css/field.css" else original(path),
    )

    after = client.get("/field-sw.js").content

    version = re.compile(rb'const VERSION = "([0-9a-f]{16})";')
    assert version.search(before)[1] != version.search(after)[1]
