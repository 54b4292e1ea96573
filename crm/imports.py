"""Import of restaurants with their contacts from CSV or Excel: preview first, then all or nothing.

Files are read with tablib. Every row is checked before anything is written; a row is matched to an
existing restaurant by SIRET, then by phone, so importing a file twice updates instead of doubling.
"""

from dataclasses import dataclass, field
from typing import Any

import tablib
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from crm import services
from crm.enums import ContactRole, RestaurantStatus
from crm.models import Contact, Restaurant, Segment

RESTAURANT_COLUMNS = (
    "client_code",
    "name",
    "status",
    "address",
    "address_complement",
    "postal_code",
    "city",
    "country",
    "phone",
    "email",
    "website",
    "siret",
    "vat_number",
    "segment",
    "sales_agent",
)
CONTACT_COLUMNS = (
    "contact_first_name",
    "contact_last_name",
    "contact_email",
    "contact_phone",
    "contact_role",
)
COLUMNS = RESTAURANT_COLUMNS + CONTACT_COLUMNS
MAX_ROWS = 20_000


@dataclass
class ImportRow:
    line: int
    name: str
    action: str = ""  # "create" or "update"
    errors: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    contact: dict[str, Any] = field(default_factory=dict)
    match: Restaurant | None = None


@dataclass
class ImportPreview:
    rows: list[ImportRow]

    @property
    def invalid(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def creates(self) -> int:
        return sum(1 for row in self.rows if row.action == "create" and not row.errors)

    @property
    def updates(self) -> int:
        return sum(1 for row in self.rows if row.action == "update" and not row.errors)


def read_dataset(content: bytes, filename: str) -> tablib.Dataset:
    """Rows of a .csv (UTF-8, comma or semicolon) or .xlsx file; ValidationError if unreadable."""
    name = filename.lower()
    try:
        if name.endswith(".xlsx"):
            return tablib.Dataset().load(content, format="xlsx")
        if name.endswith(".csv"):
            text = content.decode("utf-8-sig")
            delimiter = (
                ";"
                if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",")
                else ","
            )
            return tablib.Dataset().load(text, format="csv", delimiter=delimiter)
    except UnicodeDecodeError as error:
        raise ValidationError(_("The CSV file must be encoded in UTF-8.")) from error
    except Exception as error:  # tablib and openpyxl raise many kinds for a damaged file
        raise ValidationError(
            _("The file could not be read: %(error)s") % {"error": error}
        ) from error
    raise ValidationError(_("Send a .csv or .xlsx file."))


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def preview(*, dataset: tablib.Dataset, by: User) -> ImportPreview:
    if not by.has_perm("crm.import_restaurants"):
        raise PermissionDenied
    headers = [(_cell(h)).lower() for h in (dataset.headers or [])]
    if "name" not in headers:
        raise ValidationError(_("The first row must hold the column names; “name” is required."))
    unknown = sorted(set(headers) - set(COLUMNS) - {""})
    if unknown:
        raise ValidationError(_("Unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
    if len(dataset) > MAX_ROWS:
        raise ValidationError(_("At most %(count)d rows per file.") % {"count": MAX_ROWS})
    segments = {s.code.lower(): s for s in Segment.objects.all()} | {
        s.name.lower(): s for s in Segment.objects.all()
    }
    agents = {u.username.lower(): u for u in services.users_with_role("sales_agent")}
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for index, values in enumerate(dataset, start=2):
        raw = {
            headers[i]: _cell(v) for i, v in enumerate(values) if i < len(headers) and headers[i]
        }
        row = ImportRow(line=index, name=raw.get("name", ""))
        rows.append(row)
        _check_row(row, raw, segments, agents)
        for key in (row.data.get("siret"), row.data.get("phone")):
            if key:
                if key in seen:
                    row.errors.append(
                        _("Same SIRET or phone as line %(line)d.") % {"line": seen[key]}
                    )
                seen.setdefault(key, row.line)
    return ImportPreview(rows)


def _check_row(row: ImportRow, raw: dict[str, str], segments: dict, agents: dict) -> None:
    if not row.name:
        row.errors.append(_("The name is missing."))
    data: dict[str, Any] = {
        k: raw[k]
        for k in RESTAURANT_COLUMNS
        if k in raw and k not in ("segment", "sales_agent", "status", "client_code")
    }
    data.setdefault("country", "FR")
    data["country"] = (data["country"] or "FR").upper()
    try:
        data = services.normalize_identity(data)
    except ValidationError as error:
        for field_name, messages in error.message_dict.items():
            row.errors.append(f"{field_name}: {' '.join(messages)}")
    if raw.get("segment"):
        segment = segments.get(raw["segment"].lower())
        if segment is None:
            row.errors.append(_("Unknown segment “%(value)s”.") % {"value": raw["segment"]})
        data["segment"] = segment
    if raw.get("sales_agent"):
        agent = agents.get(raw["sales_agent"].lower())
        if agent is None:
            row.errors.append(_("Unknown sales agent “%(value)s”.") % {"value": raw["sales_agent"]})
        data["sales_agent"] = agent
    status = raw.get("status", "").lower() or RestaurantStatus.PROSPECT
    if status not in RestaurantStatus.values:
        row.errors.append(_("Unknown status “%(value)s”.") % {"value": raw.get("status")})
    code = raw.get("client_code", "").upper()
    if status != RestaurantStatus.PROSPECT and not code:
        row.errors.append(_("A client needs a client code."))
    data["status"], data["client_code"] = status, code or None
    row.data = data
    if raw.get("contact_last_name") or raw.get("contact_email"):
        role = raw.get("contact_role", "").lower() or ContactRole.OWNER
        if role not in ContactRole.values:
            row.errors.append(
                _("Unknown contact role “%(value)s”.") % {"value": raw.get("contact_role")}
            )
        phone = raw.get("contact_phone", "")
        try:
            phone = services.normalize_phone(phone) if phone else ""
        except ValidationError as error:
            row.errors.append(" ".join(error.messages))
        row.contact = {
            "first_name": raw.get("contact_first_name", ""),
            "last_name": raw.get("contact_last_name", "") or raw.get("contact_email", ""),
            "email": raw.get("contact_email", ""),
            "phone": phone,
            "role": role,
        }
    match = None
    if data.get("siret"):
        match = Restaurant.objects.filter(siret=data["siret"]).first()
    if match is None and data.get("phone"):
        match = Restaurant.objects.filter(phone=data["phone"]).first()
    if match is None and code:
        match = Restaurant.objects.filter(client_code=code).first()
    elif match is not None and code and match.client_code not in (None, code):
        row.errors.append(
            _("Matches %(existing)s, which has another client code.") % {"existing": match}
        )
    if code and match is None and Restaurant.objects.filter(client_code=code).exists():
        row.errors.append(_("The client code %(code)s is already used.") % {"code": code})
    row.match = match
    row.action = "update" if match else "create"


@transaction.atomic
def apply(*, preview_result: ImportPreview, by: User) -> tuple[int, int]:
    """Write every row or none; returns (created, updated)."""
    if preview_result.invalid:
        raise ValidationError(_("Fix the invalid rows first: nothing was imported."))
    created = updated = 0
    for row in preview_result.rows:
        restaurant = services.restaurant_import_row(by=by, data=row.data, match=row.match)
        if row.action == "update":
            updated += 1
        else:
            created += 1
        if row.contact:
            contact = (
                Contact.objects.filter(email__iexact=row.contact["email"]).first()
                if row.contact["email"]
                else None
            )
            if contact is None:
                contact = services.contact_save(
                    contact=Contact(**{k: v for k, v in row.contact.items() if k != "role"}), by=by
                )
            services.contact_link(
                restaurant=restaurant, contact=contact, role=row.contact["role"], by=by
            )
    return created, updated
