"""The offline client (/field/): its shell page, its web app manifest and its service worker.

The shell is one page; the screens are drawn in it by the scripts of static/field/js/ from the
agent's data in IndexedDB. The service worker, served from the site's root so that its scope may
cover /field/, precaches the shell and every static file it loads: after one visit the kit opens
without network, also after the browser was closed. The strings the scripts show are translated
here and handed to the page as JSON, so the project's catalogues cover them.
"""

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext, gettext_noop, ngettext
from django.views.decorators.http import require_GET

from crm.services import field_label
from field.services import may_use_field_kit

# The kit's scripts, in the order the shell loads them (each adds to window.FieldKit).
SCRIPTS = (
    "field/js/util.js",
    "field/js/db.js",
    "field/js/actions.js",
    "field/js/sync.js",
    "field/js/stats.js",
    "field/js/validate.js",
    "field/js/screens.js",
    "field/js/forms.js",
    "field/js/stats_page.js",
    "field/js/history.js",
    "field/js/app.js",
)

# Every static file the shell loads, templates/base.html's included: the service worker
# precaches them all (a file missing here would fail to load offline).
ASSETS = (
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff",
    "vendor/htmx/htmx.min.js",
    "vendor/dexie/dexie.min.js",
    "vendor/chartjs/chart.umd.min.js",
    "vendor/fullcalendar/index.global.min.js",
    "vendor/fullcalendar/locales/fr.global.min.js",
    "vendor/signature_pad/signature_pad.umd.min.js",
    "css/app.css",
    "css/field_stats.css",
    "js/app.js",
    "img/favicon.svg",
    "img/logo.svg",
    "field/css/field.css",
    "field/icons/icon-192.png",
    "field/icons/icon-512.png",
    "field/icons/icon-maskable-512.png",
    *SCRIPTS,
)

ICONS = (
    ("field/icons/icon-192.png", "192x192", "any"),
    ("field/icons/icon-512.png", "512x512", "any"),
    ("field/icons/icon-maskable-512.png", "512x512", "maskable"),
)

# The scripts' strings (English source, translated per request). Marked for extraction only:
# the catalogue is built in the language of the request.
STRINGS = (
    gettext_noop("%(agent)s, from %(start)s to %(end)s"),
    gettext_noop("%(clients)s to clients, %(prospects)s to prospects"),
    gettext_noop("%(monthly)s € a month, %(value)s € in all"),
    gettext_noop("%(visited)s of %(total)s"),
    gettext_noop("A cheque payment is due %(days)s days after the invoice."),
    gettext_noop("A direct debit needs the client's signature."),
    gettext_noop("A visit can be dated back to %(date)s at the earliest."),
    gettext_noop("A visit cannot be recorded in the future."),
    gettext_noop(
        "An administrator stopped waiting for this change, which never reached the server: it "
        "was not applied."
    ),
    gettext_noop("Changes not yet integrated"),
    gettext_noop("Cheque is not accepted for the segment %(segment)s."),
    gettext_noop("Choose a payment mode."),
    gettext_noop("Choose a prospect…"),
    gettext_noop("Choose the revisit date."),
    gettext_noop("Client creation request"),
    gettext_noop("Clients"),
    gettext_noop("Conversion requested"),
    gettext_noop("Data of %(date)s."),
    gettext_noop("Data up to date (%(date)s)."),
    gettext_noop("Delete the prospect %(name)s?"),
    gettext_noop("Discarded by an administrator:"),
    gettext_noop("Enter a valid date."),
    gettext_noop("From %(oldest)s to today."),
    gettext_noop("Give the payment term."),
    gettext_noop("Invoiced (€)"),
    gettext_noop("Last year"),
    gettext_noop("Modification request"),
    gettext_noop("New prospect"),
    gettext_noop("New value of %(field)s"),
    gettext_noop("No change was rejected."),
    gettext_noop("No client matches."),
    gettext_noop("No contact details."),
    gettext_noop("No data loaded yet."),
    gettext_noop("No prospect yet."),
    gettext_noop("No restaurant."),
    gettext_noop("No revisit date"),
    gettext_noop("No revisit planned."),
    gettext_noop("No segment"),
    gettext_noop("No visit yet."),
    gettext_noop("Nothing is waiting."),
    gettext_noop("Offline"),
    gettext_noop("On a date"),
    gettext_noop("Online"),
    gettext_noop("Prospect changed"),
    gettext_noop("Prospect deleted"),
    gettext_noop("Prospects"),
    gettext_noop("Restaurant no longer in your data"),
    gettext_noop("Revenue"),
    gettext_noop("Share visited (%)"),
    gettext_noop("Synchronising…"),
    gettext_noop("The data received belongs to another agent; it was not loaded."),
    gettext_noop("The field kit could not open its local data: %(error)s"),
    gettext_noop("The name is required."),
    gettext_noop(
        "The server answered with an error (%(status)s): your changes stay on this device and "
        "will be sent again."
    ),
    gettext_noop("The server refused the access (403): is your account still a sales agent's?"),
    gettext_noop("The synchronisation failed: %(error)s"),
    gettext_noop("This change could not be recorded on this device, nothing was saved: %(error)s"),
    gettext_noop("This field is required."),
    gettext_noop("This restaurant is not in the data of this device."),
    gettext_noop("This year"),
    gettext_noop("Tick at least one field to change."),
    gettext_noop("Visit to a prospect"),
    gettext_noop("Visit"),
    gettext_noop("Your data is not up to date, please connect to refresh it."),
    gettext_noop("never"),
    gettext_noop("not sent yet"),
    gettext_noop("refused: %(reason)s"),
    gettext_noop("waiting"),
    gettext_noop("“%(value)s” is not a valid BIC."),
    gettext_noop("“%(value)s” is not a valid IBAN."),
)

# Field labels for the prospect form when the snapshot does not list them.
FIELD_LABELS = (
    "name", "address", "address_complement", "postal_code", "city", "country", "phone", "email",
    "website", "siret", "vat_number", "segment",
)  # fmt: skip


def _plurals() -> dict[str, str]:
    """Plural strings as "key" (one) and "key_plural" (several); the script picks by count."""
    pairs = {
        "%(count)s change was refused by the server.": (
            ngettext(
                "%(count)s change was refused by the server.",
                "%(count)s changes were refused by the server.",
                1,
            ),
            ngettext(
                "%(count)s change was refused by the server.",
                "%(count)s changes were refused by the server.",
                2,
            ),
        ),
        "%(count)s client": (
            ngettext("%(count)s client", "%(count)s clients", 1),
            ngettext("%(count)s client", "%(count)s clients", 2),
        ),
        "%(count)s visit of a hidden origin.": (
            ngettext(
                "%(count)s visit of a hidden origin.", "%(count)s visits of hidden origins.", 1
            ),
            ngettext(
                "%(count)s visit of a hidden origin.", "%(count)s visits of hidden origins.", 2
            ),
        ),
        "In %(count)s day": (
            ngettext("In %(count)s day", "In %(count)s days", 1),
            ngettext("In %(count)s day", "In %(count)s days", 2),
        ),
        "in %(count)s day": (
            ngettext("in %(count)s day", "in %(count)s days", 1),
            ngettext("in %(count)s day", "in %(count)s days", 2),
        ),
        "Only the last %(count)s month of the period are shown.": (
            ngettext(
                "Only the last %(count)s month of the period are shown.",
                "Only the last %(count)s months of the period are shown.",
                1,
            ),
            ngettext(
                "Only the last %(count)s month of the period are shown.",
                "Only the last %(count)s months of the period are shown.",
                2,
            ),
        ),
    }
    strings = {}
    for key, (one, several) in pairs.items():
        strings[key] = one
        strings[f"{key}_plural"] = several
    return strings


def js_strings() -> dict[str, str]:
    """The scripts' catalogue in the active language."""
    strings = {source: gettext(source) for source in STRINGS}
    strings.update(_plurals())
    strings.update({f"field:{name}": field_label(name) for name in FIELD_LABELS})
    return strings


def _source(path: str) -> Path | None:
    found = finders.find(path)
    if found:
        return Path(found)
    root = Path(settings.STATIC_ROOT) / path
    return root if root.exists() else None


_versions: dict[tuple, str] = {}


def assets_version() -> str:
    """A digest of every precached file: a new one makes browsers install the new worker, which
    fetches the new files. Recomputed only when a file's size or time changes."""
    sources = [(path, _source(path)) for path in ASSETS]
    key = tuple(
        (path, source.stat().st_mtime_ns, source.stat().st_size) if source else (path, 0, 0)
        for path, source in sources
    )
    if key not in _versions:
        digest = hashlib.sha256()
        for path, source in sources:
            digest.update(path.encode())
            digest.update(source.read_bytes() if source else b"missing")
        _versions.clear()
        _versions[key] = digest.hexdigest()[:16]
    return _versions[key]


@login_required
@require_GET
def shell(request: HttpRequest) -> HttpResponse:
    """The kit's one page. The service worker keeps the last copy for offline starts."""
    if not may_use_field_kit(request.user):
        raise PermissionDenied
    user = request.user
    config = {
        "agent": user.get_username(),
        "agentName": user.get_display_name(),
        "language": (get_language() or settings.LANGUAGE_CODE)[:2],
        "csrfCookie": settings.CSRF_COOKIE_NAME,
        "urls": {
            "shell": reverse("field:shell"),
            "worker": reverse("field_service_worker"),
            "manifest": reverse("field:manifest"),
            "envelopes": reverse("field:api_envelopes"),
            "snapshot": reverse("field:api_snapshot"),
            "login": reverse("accounts:login"),
        },
    }
    response = render(
        request,
        "field/shell.html",
        {"strings": js_strings(), "config": config, "scripts": SCRIPTS},
    )
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Cookie",))
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: the kit installs as an application that opens on /field/."""
    shell_url = reverse("field:shell")
    data = {
        "name": gettext("ComAdvisor field kit"),
        "short_name": gettext("Field kit"),
        "description": gettext("Clients, prospects and visits, with or without network."),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "id": shell_url,
        "start_url": shell_url,
        "scope": shell_url,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f4e79",
        "icons": [
            {"src": static(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for path, sizes, purpose in ICONS
        ],
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the root of the site: its scope may then be /field/ (and the
    header allows any scope under the root)."""
    context = {
        "version": json.dumps(assets_version()),
        "shell": json.dumps(reverse("field:shell")),
        "api": json.dumps(reverse("field:api_snapshot").rsplit("/", 1)[0] + "/"),
        "assets": json.dumps([static(path) for path in ASSETS]),
    }
    response = render(request, "field/sw.js", context, content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    # Browsers check the worker at most daily anyway; no-cache makes every check reach us.
    response["Cache-Control"] = "no-cache"
    return response
