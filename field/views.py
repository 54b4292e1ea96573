"""The field kit's two JSON endpoints (docs/field-envelopes.md): envelopes in, snapshot out."""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from field import services, snapshots
from field.envelopes import MAX_BATCH


def _refuse(request: HttpRequest) -> JsonResponse | None:
    """401 for an expired session (the client asks to log in again), 403 for other roles."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Log in again.")}, status=401)
    if not services.may_use_field_kit(request.user):
        return JsonResponse({"error": _("The field kit is for sales agents.")}, status=403)
    return None


@require_POST
def api_envelopes(request: HttpRequest) -> JsonResponse:
    """Store each envelope under its name before answering received, duplicate or refused."""
    if refusal := _refuse(request):
        return refusal
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        body = None
    items = body.get("envelopes") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return JsonResponse({"error": _('Send {"envelopes": [...]}.')}, status=400)
    if len(items) > MAX_BATCH:
        return JsonResponse(
            {"error": _("At most %(count)d envelopes at a time.") % {"count": MAX_BATCH}},
            status=400,
        )
    try:
        with transaction.atomic():
            receipts = services.envelopes_receive(agent=request.user, items=items)
    except PermissionDenied:
        return JsonResponse({"error": _("The field kit is for sales agents.")}, status=403)
    except ValidationError as error:
        return JsonResponse({"error": "; ".join(error.messages)}, status=400)
    return JsonResponse({"results": [receipt.as_json() for receipt in receipts]})


@require_GET
@ensure_csrf_cookie
def api_snapshot(request: HttpRequest) -> HttpResponse:
    """The agent's stored snapshot, gzipped, with its ETag; 304 when the client has it. The
    answer also sets the CSRF cookie the next upload needs."""
    if refusal := _refuse(request):
        return refusal
    snapshot = snapshots.snapshot_current(agent=request.user)
    if snapshots.etag_matches(request.headers.get("If-None-Match", ""), snapshot.etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(bytes(snapshot.body), content_type="application/json")
        response["Content-Encoding"] = "gzip"
        response["Content-Length"] = str(len(snapshot.body))
    response["ETag"] = snapshot.etag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Cookie",))
    return response
