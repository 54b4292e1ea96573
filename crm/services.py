"""Every write on CRM records: validates, saves, records the timeline, notifies."""

import base64
import binascii
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import User
from comadvisor.emails import email_send
from comadvisor.transactions import service_atomic
from crm import scope
from crm.enums import ActivityKind, CustomFieldKind, PaymentMode, RequestStatus, RestaurantStatus
from crm.models import (
    Activity,
    AssetType,
    ChangeRequest,
    Contact,
    ContactLink,
    ConversionRequest,
    CrmSettings,
    CustomField,
    Restaurant,
    RestaurantAsset,
    Segment,
    Zone,
)
from crm.signals import restaurant_converted
from crm.text import normalize_search
from crm.validators import (
    normalize_bic,
    normalize_iban,
    normalize_phone,
    normalize_siret,
    normalize_vat,
)

# Fields of the restaurant form and of change requests (identity, addresses, assignment, billing).
EDITABLE_FIELDS = (
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
    "zone",
    "sales_agent",
    "community_manager",
    "review_manager",
    "revisit_date",
    "payment_mode",
    "payment_days",
    "time_zone",
    "language",
)
# What an agent may ask to change on a client (assignment goes through reassignment).
CHANGE_REQUEST_FIELDS = (
    "name",
    "address",
    "address_complement",
    "postal_code",
    "city",
    "phone",
    "email",
    "website",
    "siret",
    "vat_number",
    "segment",
    "payment_mode",
    "payment_days",
)


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def field_label(name: str) -> str:
    if name.startswith("cf_"):
        field = CustomField.objects.filter(key=name[3:]).first()
        return field.label if field else name
    return str(Restaurant._meta.get_field(name).verbose_name).capitalize()


# --- Zones and identifiers -------------------------------------------------------------------


def department_for_postal_code(postal_code: str, country: str = "FR") -> str:
    """French department of a postal code: 2 digits, 3 overseas, 2A/2B in Corsica."""
    code = (postal_code or "").strip()
    if (country or "FR").upper() != "FR" or len(code) != 5 or not code.isdigit():
        return ""
    if code.startswith(("97", "98")):
        return code[:3]
    if code.startswith("20"):
        return "2A" if int(code) < 20200 else "2B"
    return code[:2]


def zone_for_postal_code(postal_code: str, country: str = "FR") -> Zone | None:
    """The zone whose longest postal-code prefix matches, else the zone of the department."""
    code = (postal_code or "").strip().upper()
    if not code:
        return None
    department = department_for_postal_code(code, country)
    best: tuple[int, Zone] | None = None
    for zone in Zone.objects.all():
        for prefix in zone.prefix_list:
            if code.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), zone)
        if department and department in zone.department_list and best is None:
            best = (0, zone)
    return best[1] if best else None


def normalize_identity(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise phone, SIRET, VAT number, IBAN and BIC; errors are keyed by field."""
    errors: dict[str, list[str]] = {}
    normalizers = {
        "phone": lambda v: normalize_phone(v, data.get("country") or "FR"),
        "siret": normalize_siret,
        "vat_number": normalize_vat,
        "iban": lambda v: normalize_iban(v) if v else "",
        "bic": lambda v: normalize_bic(v) if v else "",
    }
    for field, normalize in normalizers.items():
        if field in data and data[field] is not None:
            try:
                data[field] = normalize(str(data[field]))
            except ValidationError as error:
                errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    return data


def custom_values_clean(values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check values against the admin-defined custom fields; JSON-ready result keyed by field key."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in CustomField.objects.filter(active=True):
        if partial and field.key not in values:
            continue
        raw = values.get(field.key)
        if raw in (None, ""):
            if field.required:
                errors[f"cf_{field.key}"] = _("This field is required.")
            continue
        try:
            cleaned[field.key] = _custom_value(field, raw)
        except (ValueError, InvalidOperation):
            errors[f"cf_{field.key}"] = _("Enter a valid value.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _custom_value(field: CustomField, raw: Any) -> Any:
    if field.kind == CustomFieldKind.NUMBER:
        return format(Decimal(str(raw).replace(",", ".")).normalize(), "f")
    if field.kind == CustomFieldKind.DATE:
        return (
            raw.isoformat() if isinstance(raw, date) else date.fromisoformat(str(raw)).isoformat()
        )
    if field.kind == CustomFieldKind.CHOICE:
        if str(raw) not in field.choice_list:
            raise ValueError(raw)
        return str(raw)
    return str(raw).strip()


# --- Restaurants -----------------------------------------------------------------------------


class DuplicatesFound(Exception):
    def __init__(self, matches: list[Restaurant], hidden: int):
        super().__init__("duplicates")
        self.matches = matches
        self.hidden = hidden


DUPLICATES_READ = 200


def restaurant_duplicates(
    *,
    user: User,
    phone: str = "",
    siret: str = "",
    name: str = "",
    city: str = "",
    exclude_pk: int | None = None,
) -> tuple[list[Restaurant], int]:
    """Restaurants sharing the phone, the SIRET, or the name and city: (those `user` sees, others)."""
    lookup = Q(pk__in=[])
    if phone:
        lookup |= Q(phone=phone)
    if siret:
        lookup |= Q(siret=siret)
    if name and city:
        lookup |= Q(search_name=normalize_search(name), search_city=normalize_search(city))
    candidates = Restaurant.objects.filter(lookup)
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    # Matches are few: read them once and sort them by the user's scope on the instances.
    found = list(candidates.select_related("zone", "sales_agent")[:DUPLICATES_READ])
    visible = [restaurant for restaurant in found if scope.sees(user, restaurant)]
    total = candidates.count() if len(found) == DUPLICATES_READ else len(found)
    return visible[:20], total - len(visible)


def _apply_fields(restaurant: Restaurant, data: Mapping[str, Any]) -> list[str]:
    changed = []
    for field in EDITABLE_FIELDS:
        if field in data and getattr(restaurant, field) != data[field]:
            setattr(restaurant, field, data[field])
            changed.append(field)
    return changed


def _place(restaurant: Restaurant) -> None:
    restaurant.department = department_for_postal_code(restaurant.postal_code, restaurant.country)
    restaurant.zone = (
        zone_for_postal_code(restaurant.postal_code, restaurant.country) or restaurant.zone
    )


@service_atomic
def restaurant_create(
    *,
    by: User,
    data: Mapping[str, Any],
    custom: Mapping[str, Any] | None = None,
    confirm_duplicates: bool = False,
    field_client_id: uuid.UUID | None = None,
) -> Restaurant:
    """Create a prospect. Only the name is required; possible duplicates stop it until confirmed.

    `field_client_id` is the UUID the offline field kit gave a prospect it created."""
    if not by.has_perm("crm.add_restaurant"):
        raise PermissionDenied
    data = normalize_identity(dict(data))
    restaurant = Restaurant(
        created_by=by, status=RestaurantStatus.PROSPECT, field_client_id=field_client_id
    )
    _apply_fields(restaurant, data)
    if not restaurant.sales_agent_id and by.has_perm("crm.edit_own_prospects"):
        restaurant.sales_agent = by
    restaurant.custom_data = custom_values_clean(custom or {})
    _place(restaurant)
    if "zone" in data and data["zone"] is not None and not restaurant.postal_code:
        restaurant.zone = data["zone"]
    # The creator and the zone are loaded instances, and a new prospect satisfies the client
    # code constraint: nothing the database would need to be asked about.
    restaurant.full_clean(
        exclude=["search_name", "search_city", "created_by", "zone"], validate_constraints=False
    )
    if not confirm_duplicates:
        matches, hidden = restaurant_duplicates(
            user=by,
            phone=restaurant.phone,
            siret=restaurant.siret,
            name=restaurant.name,
            city=restaurant.city,
        )
        if matches or hidden:
            raise DuplicatesFound(matches, hidden)
    restaurant._history_user = by
    restaurant.save()
    activity_record(restaurant=restaurant, by=by, subject=_("Prospect created"))
    return restaurant


@service_atomic
def restaurant_update(
    *,
    restaurant: Restaurant,
    by: User,
    data: Mapping[str, Any],
    custom: Mapping[str, Any] | None = None,
) -> Restaurant:
    if not scope.may_edit(by, restaurant):
        raise PermissionDenied
    data = normalize_identity(dict(data))
    before_postal = restaurant.postal_code
    changed = _apply_fields(restaurant, data)
    if custom is not None:
        merged = {**restaurant.custom_data, **custom_values_clean(custom)}
        if merged != restaurant.custom_data:
            restaurant.custom_data = merged
            changed.append("custom_data")
    if restaurant.postal_code != before_postal:
        _place(restaurant)
        changed += ["department", "zone"]
    if not changed:
        return restaurant
    # What changed is checked; the rest was checked when it was saved (and its foreign keys
    # and constraints need no query).
    restaurant.full_clean(
        exclude=[field.name for field in Restaurant._meta.fields if field.name not in changed]
    )
    restaurant._history_user = by
    restaurant.save()
    return restaurant


def restaurant_archive(*, restaurant: Restaurant, by: User) -> Restaurant:
    if not scope.may_archive(by, restaurant):
        raise PermissionDenied
    restaurant.archived_at = timezone.now()
    restaurant._history_user = by
    restaurant.save(update_fields=["archived_at", "updated_at"])
    activity_record(restaurant=restaurant, by=by, subject=_("Archived"))
    return restaurant


def restaurant_unarchive(*, restaurant: Restaurant, by: User) -> Restaurant:
    if not scope.may_unarchive(by, restaurant):
        raise PermissionDenied
    restaurant.archived_at = None
    restaurant._history_user = by
    restaurant.save(update_fields=["archived_at", "updated_at"])
    activity_record(restaurant=restaurant, by=by, subject=_("Unarchived"))
    return restaurant


def restaurant_delete(*, restaurant: Restaurant, by: User) -> None:
    if not scope.may_delete(by, restaurant):
        raise PermissionDenied
    restaurant._history_user = by
    restaurant.delete()


@transaction.atomic
def restaurant_set_assets(*, restaurant: Restaurant, by: User, counts: Mapping[int, int]) -> None:
    if not scope.may_edit(by, restaurant):
        raise PermissionDenied
    types = {
        asset_type.pk: asset_type for asset_type in AssetType.objects.filter(pk__in=list(counts))
    }
    for type_id, count in counts.items():
        if type_id not in types or count < 0:
            raise ValidationError(_("Unknown asset type or negative count."))
        RestaurantAsset.objects.update_or_create(
            restaurant=restaurant, asset_type_id=type_id, defaults={"count": count}
        )


# --- Timeline --------------------------------------------------------------------------------


def activity_add(
    *,
    restaurant: Restaurant,
    by: User,
    kind: str,
    subject: str,
    body: str = "",
    occurred_at: datetime | None = None,
    origin: str = "",
) -> Activity:
    """A call, e-mail, meeting or note written by a user on a restaurant they may see."""
    if not scope.may_add_activity(by, restaurant):
        raise PermissionDenied
    if occurred_at and occurred_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("An exchange cannot be in the future.")})
    activity = Activity(
        restaurant=restaurant,
        kind=kind,
        subject=subject.strip(),
        body=body.strip(),
        occurred_at=occurred_at or timezone.now(),
        author=by,
        origin=origin,
        while_prospect=restaurant.is_prospect,
    )
    activity.full_clean()
    activity.save()
    return activity


def activity_record(
    *,
    restaurant: Restaurant,
    by: User | None,
    subject: str,
    body: str = "",
    origin: str = "",
    occurred_at: datetime | None = None,
) -> Activity:
    """A system event on the timeline (created, converted, reassigned, change applied...), at
    `occurred_at` when it happened earlier than now (a visit recorded afterwards)."""
    return Activity.objects.create(
        restaurant=restaurant,
        kind=ActivityKind.SYSTEM,
        subject=subject[:255],
        body=body,
        author=by,
        origin=origin,
        while_prospect=restaurant.is_prospect,
        occurred_at=occurred_at or timezone.now(),
    )


# --- Change requests -------------------------------------------------------------------------


def _display(restaurant: Restaurant, field: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    model_field = Restaurant._meta.get_field(field)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def _change_rows(changes: list[dict]) -> list[dict]:
    return [
        {"field": c["label"], "old": c["old_display"], "new": c["new_display"]} for c in changes
    ]


@service_atomic
def change_request_create(
    *, restaurant: Restaurant, by: User, values: Mapping[str, Any], comment: str = ""
) -> ChangeRequest:
    """Record the asked changes (old -> new), put them on the timeline and e-mail the accountant."""
    if not scope.may_request_change(by, restaurant):
        raise PermissionDenied
    unknown = set(values) - set(CHANGE_REQUEST_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed by a request: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    values = normalize_identity(dict(values))
    changes = []
    for field in CHANGE_REQUEST_FIELDS:
        if field not in values:
            continue
        new = values[field]
        old = getattr(restaurant, field)
        if isinstance(new, Segment):
            stored_new, stored_old = new.pk, restaurant.segment_id
            new_display, old_display = str(new), str(restaurant.segment or "")
        else:
            stored_new, stored_old = new, old
            new_display, old_display = (
                _display(restaurant, field, new),
                _display(restaurant, field, old),
            )
        if stored_new == stored_old:
            continue
        changes.append(
            {
                "field": field,
                "label": field_label(field),
                "old": stored_old,
                "new": stored_new,
                "old_display": old_display,
                "new_display": new_display,
            }
        )
    if not changes:
        raise ValidationError(_("Nothing to change: the new values are the current ones."))
    request = ChangeRequest.objects.create(
        restaurant=restaurant, requested_by=by, changes=changes, comment=comment
    )
    lines = _change_lines(changes)
    activity_record(restaurant=restaurant, by=by, subject=_("Change requested"), body=lines)
    crm_settings = CrmSettings.load()
    transaction.on_commit(
        lambda: email_send(
            key="crm-change-request",
            to=[crm_settings.accountant_email],
            language=settings.LANGUAGE_CODE,
            context={
                "code": restaurant.client_code or "",
                "name": restaurant.name,
                "changes": _change_rows(changes),
                "requester": by.get_display_name(),
                "comment": comment,
                "url": _absolute(reverse("crm:change_request", args=[request.pk])),
            },
        )
    )
    return request


def _lock_pending(model, pk: int):
    """The request, locked for this transaction; refused when someone already decided it."""
    request = model.objects.select_for_update().get(pk=pk)
    if request.status != RequestStatus.PENDING:
        raise ValidationError(_("This request has already been handled."))
    return request


def _required_reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the request is rejected.")})
    return reason.strip()


def _email_after_commit(*, key: str, user: User, context: dict[str, Any]) -> None:
    """E-mail `user` in their language once the transaction is committed (never on rollback)."""
    transaction.on_commit(
        lambda: email_send(key=key, to=[user.email], language=user.language, context=context)
    )


def _change_lines(changes: list[dict]) -> str:
    return "\n".join(f'{c["label"]}: "{c["old_display"]}" → "{c["new_display"]}"' for c in changes)


def _decide(request, by: User, status: str, reason: str = "") -> None:
    request.status = status
    request.decided_by = by
    request.decided_at = timezone.now()
    request.reason = reason
    request.save(update_fields=["status", "decided_by", "decided_at", "reason"])


@transaction.atomic
def change_request_apply(*, change_request: ChangeRequest, by: User) -> ChangeRequest:
    if not by.has_perm("crm.decide_changerequest"):
        raise PermissionDenied
    request = _lock_pending(ChangeRequest, change_request.pk)
    restaurant = Restaurant.objects.select_for_update().get(pk=request.restaurant_id)
    for change in request.changes:
        attname = Restaurant._meta.get_field(change["field"]).attname
        setattr(restaurant, attname, change["new"])
    restaurant.full_clean(exclude=["search_name", "search_city"])
    restaurant._history_user = by
    restaurant.save()
    _decide(request, by, RequestStatus.APPLIED)
    activity_record(
        restaurant=restaurant,
        by=by,
        subject=_("Change applied"),
        body=_change_lines(request.changes),
    )
    _notify_requester(request, "crm-change-request-applied")
    return request


@transaction.atomic
def change_request_reject(*, change_request: ChangeRequest, by: User, reason: str) -> ChangeRequest:
    if not by.has_perm("crm.decide_changerequest"):
        raise PermissionDenied
    reason = _required_reason(reason)
    request = _lock_pending(ChangeRequest, change_request.pk)
    _decide(request, by, RequestStatus.REJECTED, reason)
    activity_record(restaurant=request.restaurant, by=by, subject=_("Change rejected"), body=reason)
    _notify_requester(request, "crm-change-request-rejected")
    return request


def _notify_requester(request: ChangeRequest, key: str) -> None:
    restaurant = request.restaurant
    _email_after_commit(
        key=key,
        user=request.requested_by,
        context={
            "code": restaurant.client_code or "",
            "name": restaurant.name,
            "changes": _change_rows(request.changes),
            "decided_by": request.decided_by.get_display_name() if request.decided_by else "",
            "reason": request.reason,
            "url": _absolute(reverse("crm:restaurant_detail", args=[restaurant.pk])),
        },
    )


# --- Prospect to client ----------------------------------------------------------------------


def conversion_missing_fields(*, restaurant: Restaurant) -> list[tuple[str, str]]:
    """The mandatory fields (admin list) the prospect still lacks, as (field, label)."""
    missing = []
    for field in CrmSettings.load().mandatory_fields:
        try:
            model_field = Restaurant._meta.get_field(field)
        except Exception:  # a field removed from the model since the list was written
            continue
        if getattr(restaurant, model_field.attname) in (None, ""):
            missing.append((field, field_label(field)))
    return missing


MAX_PAYMENT_DAYS = 365


def payment_rules_check(
    *,
    restaurant: Restaurant,
    payment_mode: str,
    payment_days: int | None,
    iban: str,
    bic: str,
    signature: bytes | None,
) -> dict[str, Any]:
    """Apply the admin's payment rules; returns the normalised payment terms or raises."""
    crm_settings = CrmSettings.load()
    errors: dict[str, str] = {}
    if payment_mode not in PaymentMode.values:
        errors["payment_mode"] = _("Choose a payment mode.")
    if payment_mode == PaymentMode.DIRECT_DEBIT:
        try:
            iban = normalize_iban(iban)
        except ValidationError as error:
            errors["iban"] = error.messages[0]
        try:
            bic = normalize_bic(bic)
        except ValidationError as error:
            errors["bic"] = error.messages[0]
        if not signature:
            errors["signature"] = _("A direct debit needs the client's signature.")
    else:
        iban, bic = "", ""
    if payment_mode == PaymentMode.CHEQUE:
        allowed = list(crm_settings.cheque_segments.all())
        if allowed and restaurant.segment not in allowed:
            errors["payment_mode"] = _("Cheque is not accepted for the segment %(segment)s.") % {
                "segment": restaurant.segment or "-"
            }
        payment_days = crm_settings.cheque_payment_days
    if payment_days is None:
        errors["payment_days"] = _("Give the payment term.")
    elif not 0 <= payment_days <= MAX_PAYMENT_DAYS:
        errors["payment_days"] = _("The payment term is between 0 and %(max)d days.") % {
            "max": MAX_PAYMENT_DAYS
        }
    if errors:
        raise ValidationError(errors)
    return {"payment_mode": payment_mode, "payment_days": payment_days, "iban": iban, "bic": bic}


def decode_signature(data_url: str) -> bytes | None:
    """The PNG bytes of a signature drawn in the page (a data: URL), None when empty."""
    prefix = "data:image/png;base64,"
    if not data_url:
        return None
    if not data_url.startswith(prefix):
        raise ValidationError({"signature": _("The signature could not be read.")})
    try:
        content = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationError({"signature": _("The signature could not be read.")}) from error
    if not content.startswith(b"\x89PNG"):
        raise ValidationError({"signature": _("The signature could not be read.")})
    return content


@service_atomic
def conversion_request_create(
    *,
    restaurant: Restaurant,
    by: User,
    payment_mode: str,
    payment_days: int | None,
    iban: str = "",
    bic: str = "",
    signature: bytes | None = None,
    comment: str = "",
) -> ConversionRequest:
    """Ask the accountant to make this prospect a client; everything mandatory must be there."""
    if not scope.may_request_conversion(by, restaurant):
        raise PermissionDenied
    restaurant = Restaurant.objects.select_for_update().get(pk=restaurant.pk)
    terms = payment_rules_check(
        restaurant=restaurant,
        payment_mode=payment_mode,
        payment_days=payment_days,
        iban=iban,
        bic=bic,
        signature=signature,
    )
    for field, value in terms.items():
        setattr(restaurant, field, value)
    missing = conversion_missing_fields(restaurant=restaurant)
    if missing:
        raise ValidationError(
            _("Missing before the conversion: %(fields)s")
            % {"fields": ", ".join(label for _f, label in missing)}
        )
    restaurant._history_user = by
    restaurant.save()
    request = ConversionRequest(restaurant=restaurant, requested_by=by, comment=comment, **terms)
    if signature:
        request.signature.save("signature.png", ContentFile(signature), save=False)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as error:
        raise ValidationError(
            _("A client creation request is already pending for this restaurant.")
        ) from error
    activity_record(restaurant=restaurant, by=by, subject=_("Client creation requested"))
    accountant = CrmSettings.load().accountant_email
    with override(settings.LANGUAGE_CODE):
        mode_label = str(PaymentMode(terms["payment_mode"]).label)
    transaction.on_commit(
        lambda: email_send(
            key="crm-conversion-requested",
            to=[accountant],
            language=settings.LANGUAGE_CODE,
            context={
                "name": restaurant.name,
                "requester": by.get_display_name(),
                "payment_mode": mode_label,
                "url": _absolute(reverse("crm:conversion_request", args=[request.pk])),
            },
        )
    )
    return request


@transaction.atomic
def conversion_validate(
    *, conversion: ConversionRequest, by: User, client_code: str
) -> ConversionRequest:
    """The accountant gives the client code: the prospect becomes a client, its past stays."""
    if not by.has_perm("crm.decide_conversionrequest"):
        raise PermissionDenied
    request = _lock_pending(ConversionRequest, conversion.pk)
    client_code = (client_code or "").strip().upper()
    if not client_code:
        raise ValidationError({"client_code": _("Give the client code.")})
    if Restaurant.objects.filter(client_code=client_code).exists():
        raise ValidationError(
            {"client_code": _("The client code %(code)s is already used.") % {"code": client_code}}
        )
    restaurant = Restaurant.objects.select_for_update().get(pk=request.restaurant_id)
    restaurant.client_code = client_code
    restaurant.status = RestaurantStatus.CLIENT
    restaurant._history_user = by
    restaurant.save()
    # The prospect's visits and exchanges stay, marked as made before the conversion.
    Activity.objects.filter(restaurant=restaurant).update(while_prospect=True)
    _decide(request, by, RequestStatus.APPLIED)
    activity_record(
        restaurant=restaurant,
        by=by,
        subject=_("Converted to client %(code)s") % {"code": client_code},
    )
    transaction.on_commit(
        lambda: restaurant_converted.send(sender=Restaurant, restaurant=restaurant, by=by)
    )
    _email_after_commit(
        key="crm-conversion-validated",
        user=request.requested_by,
        context={
            "code": client_code,
            "name": restaurant.name,
            "decided_by": by.get_display_name(),
            "url": _absolute(reverse("crm:restaurant_detail", args=[restaurant.pk])),
        },
    )
    return request


@transaction.atomic
def conversion_reject(*, conversion: ConversionRequest, by: User, reason: str) -> ConversionRequest:
    if not by.has_perm("crm.decide_conversionrequest"):
        raise PermissionDenied
    reason = _required_reason(reason)
    request = _lock_pending(ConversionRequest, conversion.pk)
    _decide(request, by, RequestStatus.REJECTED, reason)
    restaurant = request.restaurant
    activity_record(
        restaurant=restaurant, by=by, subject=_("Client creation rejected"), body=reason
    )
    _email_after_commit(
        key="crm-conversion-rejected",
        user=request.requested_by,
        context={
            "name": restaurant.name,
            "decided_by": by.get_display_name(),
            "reason": reason,
            "url": _absolute(reverse("crm:restaurant_detail", args=[restaurant.pk])),
        },
    )
    return request


# --- Reassignment ----------------------------------------------------------------------------


@transaction.atomic
def restaurants_reassign(*, by: User, restaurants: Iterable[Restaurant], agent: User) -> int:
    """Give `restaurants` to `agent` in one go; each timeline records who had it before."""
    if not by.has_perm("crm.assign_restaurant"):
        raise PermissionDenied
    if not agent.is_active or not agent.has_perm("crm.edit_own_prospects"):
        raise ValidationError(
            {"agent": _("%(agent)s is not an active sales agent.") % {"agent": agent}}
        )
    moved = [r for r in restaurants if r.sales_agent_id != agent.pk]
    previous = {r.pk: (r.sales_agent.get_display_name() if r.sales_agent else "-") for r in moved}
    for restaurant in moved:
        restaurant.sales_agent = agent
        restaurant._history_user = by
    from simple_history.utils import bulk_update_with_history

    bulk_update_with_history(moved, Restaurant, ["sales_agent"], batch_size=500, default_user=by)
    Activity.objects.bulk_create(
        [
            Activity(
                restaurant=restaurant,
                kind=ActivityKind.SYSTEM,
                subject=_("Reassigned from %(old)s to %(new)s")
                % {"old": previous[restaurant.pk], "new": agent.get_display_name()},
                author=by,
                while_prospect=restaurant.is_prospect,
            )
            for restaurant in moved
        ],
        batch_size=500,
    )
    return len(moved)


# --- Contacts --------------------------------------------------------------------------------


def users_with_role(role: str):
    return User.objects.filter(groups__name=role, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def crm_settings() -> CrmSettings:
    return CrmSettings.load()


def contact_save(*, contact: Contact, by: User) -> Contact:
    """Create or update a contact from a validated form instance (phone normalised)."""
    needed = "crm.change_contact" if contact.pk else "crm.add_contact"
    if not by.has_perm(needed):
        raise PermissionDenied
    if contact.phone:
        try:
            contact.phone = normalize_phone(contact.phone)
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from error
    if contact.pk is None:
        contact.created_by = by
    contact.full_clean(exclude=["search_name"])
    contact._history_user = by
    contact.save()
    return contact


@transaction.atomic
def contact_link(*, restaurant: Restaurant, contact: Contact, role: str, by: User) -> ContactLink:
    if not (scope.may_edit(by, restaurant) and by.has_perm("crm.add_contact")):
        raise PermissionDenied
    link, created = ContactLink.objects.get_or_create(
        restaurant=restaurant, contact=contact, role=role
    )
    if created:
        activity_record(
            restaurant=restaurant,
            by=by,
            subject=_("Contact added: %(contact)s (%(role)s)")
            % {"contact": contact, "role": link.get_role_display()},
        )
    return link


@transaction.atomic
def restaurant_import_row(
    *, by: User, data: Mapping[str, Any], match: Restaurant | None
) -> Restaurant:
    """One checked import row: update `match` or create the restaurant with its status and code."""
    if not by.has_perm("crm.import_restaurants"):
        raise PermissionDenied
    restaurant = match or Restaurant(created_by=by)
    _apply_fields(
        restaurant, {k: v for k, v in data.items() if v not in (None, "") and k in EDITABLE_FIELDS}
    )
    if data.get("client_code"):
        restaurant.client_code = data["client_code"]
    if match is None or data.get("status") != RestaurantStatus.PROSPECT:
        restaurant.status = data.get("status") or RestaurantStatus.PROSPECT
    _place(restaurant)
    restaurant.full_clean(exclude=["search_name", "search_city"])
    restaurant._history_user = by
    restaurant.save()
    if match is None:
        activity_record(restaurant=restaurant, by=by, subject=_("Imported"))
    return restaurant


# --- Sharing ---------------------------------------------------------------------------------

SHARE_PERMISSIONS = ("view_restaurant", "change_restaurant")


def may_share(user: User, restaurant: Restaurant) -> bool:
    return (
        restaurant.is_prospect and not restaurant.is_archived and scope.may_edit(user, restaurant)
    )


@transaction.atomic
def restaurant_share(*, restaurant: Restaurant, by: User, colleague: User) -> None:
    """Let a colleague (a sales agent) see and edit this prospect too."""
    from guardian.shortcuts import assign_perm

    if not may_share(by, restaurant):
        raise PermissionDenied
    if (
        colleague.pk == by.pk
        or not colleague.is_active
        or not colleague.has_perm("crm.edit_own_prospects")
    ):
        raise ValidationError(
            {"colleague": _("%(agent)s is not an active sales agent.") % {"agent": colleague}}
        )
    for codename in SHARE_PERMISSIONS:
        assign_perm(f"crm.{codename}", colleague, restaurant)
    activity_record(
        restaurant=restaurant,
        by=by,
        subject=_("Shared with %(user)s") % {"user": colleague.get_display_name()},
    )


@transaction.atomic
def restaurant_unshare(*, restaurant: Restaurant, by: User, colleague: User) -> None:
    from guardian.shortcuts import remove_perm

    if not may_share(by, restaurant):
        raise PermissionDenied
    for codename in SHARE_PERMISSIONS:
        remove_perm(f"crm.{codename}", colleague, restaurant)
    activity_record(
        restaurant=restaurant,
        by=by,
        subject=_("No longer shared with %(user)s") % {"user": colleague.get_display_name()},
    )


def restaurant_mark_visited(
    *, restaurant: Restaurant, by: User, visited_at: datetime, revisit_date: date | None = None
) -> Restaurant:
    """Record a visit's effect on the record: the last visit, never moved back (one conditional
    UPDATE, so two visits recorded at once cannot put the older one last), and the revisit
    date. The last visit is not an edit of the record: it leaves `updated_at` (the version the
    field kit's prospect edits are based on) and the history, which excludes it, alone."""
    # One plain statement: every visit recorded (the field kit integrates hundreds a second)
    # goes through it.
    at = connection.ops.adapt_datetimefield_value(visited_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Restaurant._meta.db_table} SET last_visit_at = %s "
            "WHERE id = %s AND (last_visit_at IS NULL OR last_visit_at < %s)",
            [at, restaurant.pk, at],
        )
        moved = cursor.rowcount
    if moved:
        restaurant.last_visit_at = visited_at
    if revisit_date is not None and revisit_date != restaurant.revisit_date:
        restaurant.revisit_date = revisit_date
        restaurant._history_user = by
        restaurant.save(update_fields=["revisit_date", "updated_at"])
    return restaurant
