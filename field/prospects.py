"""How restaurant fields travel offline: which ones a prospect envelope may carry, their JSON
form (the snapshot's and the envelopes' alike), and back to what the CRM services take."""

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm import services as crm_services
from crm.models import Restaurant, Segment
from crm.validators import normalize_phone, normalize_siret, normalize_vat
from field.enums import Reason
from field.envelopes import Invalid

# What an agent may write on their prospect offline (assignment and zone follow the CRM's
# rules: the zone comes from the postal code).
PROSPECT_FIELDS = (
    "name",
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
    "revisit_date",
    "payment_mode",
    "payment_days",
)


# The client creation form asks for the admin's mandatory fields; assignment (agent, zone) and
# the payment terms come from elsewhere.
CONVERSION_FIELDS = tuple(
    dict.fromkeys(
        [*PROSPECT_FIELDS]
        + [
            field
            for field in crm_services.EDITABLE_FIELDS
            if field not in ("sales_agent", "community_manager", "review_manager", "zone")
        ]
    )
)


def iso(value: datetime | None) -> str | None:
    """UTC with microseconds, the form of `updated_at` and of `base_version`."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_value(field: str, value: Any) -> Any:
    """A field's value as the snapshot shows it (`segment` is the segment's code)."""
    if value is None:
        return None if field in ("revisit_date", "payment_days", "segment") else ""
    if isinstance(value, date):
        return value.isoformat()
    return value


def restaurant_values(
    restaurant: Restaurant, fields: Iterable[str] = PROSPECT_FIELDS
) -> dict[str, Any]:
    values = {}
    for field in fields:
        if field == "segment":
            value = restaurant.segment.code if restaurant.segment_id else None
        else:
            value = getattr(restaurant, field)
        values[field] = json_value(field, value)
    return values


_NORMALIZERS = {
    "phone": normalize_phone,
    "siret": normalize_siret,
    "vat_number": normalize_vat,
}


def comparable(field: str, value: Any, country: str = "FR") -> Any:
    """The value in its stored form where it can be computed (a phone typed "04 72 …" compares
    equal to "+334 72…"); an unreadable value stays as typed and the service will say why."""
    if value in (None, ""):
        return json_value(field, None)
    if field == "payment_days":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if field in _NORMALIZERS:
        try:
            if field == "phone":
                return normalize_phone(str(value), country or "FR")
            return _NORMALIZERS[field](str(value))
        except ValidationError:
            return value
    return value.strip() if isinstance(value, str) else value


def check_fields(
    fields: Any, *, label: str = "fields", allowed: Iterable[str] = PROSPECT_FIELDS
) -> dict[str, Any]:
    if not isinstance(fields, dict):
        raise Invalid(Reason.SCHEMA, _("%(key)s must be an object") % {"key": label})
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise Invalid(
            Reason.SCHEMA,
            _("these fields cannot be written offline: %(fields)s")
            % {"fields": ", ".join(unknown)},
        )
    for field, value in fields.items():
        if isinstance(value, bool) or (value is not None and not isinstance(value, str | int)):
            raise Invalid(Reason.SCHEMA, _("%(field)s has an unreadable value") % {"field": field})
    return fields


def service_data(fields: dict[str, Any]) -> dict[str, Any]:
    """JSON values -> what crm.services.restaurant_create/update take (a Segment, a date...)."""
    data: dict[str, Any] = {}
    for field, value in fields.items():
        if field == "segment":
            if value in (None, ""):
                data[field] = None
                continue
            segment = Segment.objects.filter(code=str(value)).first()
            if segment is None:
                raise Invalid(Reason.RULES, _("unknown segment %(code)s") % {"code": value})
            data[field] = segment
        elif field == "revisit_date":
            try:
                data[field] = date.fromisoformat(value) if value else None
            except (TypeError, ValueError) as error:
                raise Invalid(
                    Reason.SCHEMA, _("%(field)s is not a date (YYYY-MM-DD).") % {"field": field}
                ) from error
        elif field == "payment_days":
            try:
                data[field] = None if value in (None, "") else int(value)
            except (TypeError, ValueError) as error:
                raise Invalid(
                    Reason.SCHEMA, _("%(field)s is not a number") % {"field": field}
                ) from error
        else:
            data[field] = "" if value is None else str(value).strip()
    return data
