"""Export of the filtered restaurant list (CSV, Excel) and the import pages."""

import uuid
from pathlib import Path

import tablib
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import imports, selectors
from crm.forms import ImportForm
from crm.views import filters_from_request

EXPORT_LIMIT = 100_000
IMPORT_DIR = "imports"
_SESSION_KEY = "crm_import_file"


@login_required
@permission_required("crm.export_restaurants", raise_exception=True)
def restaurant_export(request: HttpRequest) -> HttpResponse:
    """The list as filtered on screen, in the import's column layout (a round trip works)."""
    file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    queryset = selectors.restaurant_list(
        user=request.user, filters=filters_from_request(request)
    ).select_related("segment", "sales_agent")
    dataset = tablib.Dataset(headers=list(imports.RESTAURANT_COLUMNS))
    for restaurant in queryset[:EXPORT_LIMIT].iterator(chunk_size=2000):
        dataset.append(
            [
                restaurant.client_code or "",
                restaurant.name,
                restaurant.status,
                restaurant.address,
                restaurant.address_complement,
                restaurant.postal_code,
                restaurant.city,
                restaurant.country,
                restaurant.phone,
                restaurant.email,
                restaurant.website,
                restaurant.siret,
                restaurant.vat_number,
                restaurant.segment.code if restaurant.segment else "",
                restaurant.sales_agent.username if restaurant.sales_agent else "",
            ]
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if file_format == "xlsx":
        content = dataset.export("xlsx")
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = "\ufeff" + dataset.export("csv")
        mimetype = "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=mimetype)
    response["Content-Disposition"] = f'attachment; filename="restaurants-{stamp}.{file_format}"'
    return response


def _stored_path(token: str) -> Path:
    return Path(settings.MEDIA_ROOT) / IMPORT_DIR / token


@login_required
@permission_required("crm.import_restaurants", raise_exception=True)
def restaurant_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (nothing written) → confirm (all rows in one transaction)."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    stored = request.session.get(_SESSION_KEY)
    if request.method == "POST" and request.POST.get("action") == "confirm" and stored:
        path = _stored_path(stored["token"])
        try:
            dataset = imports.read_dataset(path.read_bytes(), stored["name"])
            result = imports.preview(dataset=dataset, by=request.user)
            created, updated = imports.apply(preview_result=result, by=request.user)
        except (ValidationError, FileNotFoundError) as error:
            messages.error(
                request,
                " ".join(
                    getattr(error, "messages", [_("The uploaded file has expired; send it again.")])
                ),
            )
        else:
            path.unlink(missing_ok=True)
            del request.session[_SESSION_KEY]
            messages.success(
                request,
                _("Import done: %(created)d created, %(updated)d updated.")
                % {"created": created, "updated": updated},
            )
            return redirect("crm:restaurant_list")
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            dataset = imports.read_dataset(content, upload.name)
            result = imports.preview(dataset=dataset, by=request.user)
        except ValidationError as error:
            form.add_error("file", error)
        else:
            token = f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
            path = _stored_path(token)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            request.session[_SESSION_KEY] = {"token": token, "name": upload.name}
    return render(
        request,
        "crm/import.html",
        {"form": form, "result": result, "columns": imports.COLUMNS},
    )
