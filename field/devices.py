"""Devices whose envelopes wait: what the admin's device list shows, and the nightly check that
tells the admins of devices held too long (docs/decisions.md, "Field kit: integration").

A device's envelopes are integrated in sequence order, so a number it never sent (a lost
drop-folder file, a tablet reset) holds all its later envelopes until an admin gives it up
(`field.services.device_skip_gap`); envelopes waiting with no number missing mean the
integration is not running."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse
from django.utils import formats, timezone, translation

from comadvisor.emails import email_send
from field.enums import EnvelopeState
from field.models import Device, FieldSettings
from field.services import admin_addresses

_PENDING = Q(envelopes__state=EnvelopeState.PENDING)


def devices_with_waiting() -> QuerySet[Device]:
    """Devices annotated with their waiting envelopes: `pending_count`, `oldest_waiting` (the
    earliest reception among them) and `first_pending_seq`."""
    return Device.objects.annotate(
        pending_count=Count("envelopes", filter=_PENDING),
        oldest_waiting=Min("envelopes__received_at", filter=_PENDING),
        first_pending_seq=Min("envelopes__seq", filter=_PENDING),
    )


def missing_numbers(device: Device) -> tuple[int, int] | None:
    """The first and last sequence numbers the device's next waiting envelope waits for, or
    None when nothing is missing. Needs `devices_with_waiting`'s annotations."""
    first = getattr(device, "first_pending_seq", None)
    if first is None or first <= device.last_seq + 1:
        return None
    return device.last_seq + 1, first - 1


def format_numbers(numbers: tuple[int, int] | None) -> str:
    if numbers is None:
        return ""
    low, high = numbers
    return str(low) if low == high else f"{low}-{high}"


def held_devices(*, before: datetime) -> QuerySet[Device]:
    """Devices with an envelope waiting since before `before`."""
    return (
        devices_with_waiting()
        .filter(oldest_waiting__lt=before)
        .select_related("agent")
        .order_by("oldest_waiting", "pk")
    )


@dataclass
class HeldReport:
    devices: list[Device]
    sent: bool


def held_devices_notify(*, now: datetime | None = None) -> HeldReport:
    """E-mail the admins (template `field-devices-held`) the devices whose envelopes have been
    waiting longer than the settings' `held_device_hours`; nothing when none is, or when the
    setting is empty. Run nightly: a device stays in the e-mail until it is dealt with."""
    hours = FieldSettings.load().held_device_hours
    if not hours:
        return HeldReport([], sent=False)
    now = now or timezone.now()
    devices = list(held_devices(before=now - timedelta(hours=hours)))
    if not devices:
        return HeldReport([], sent=False)
    with translation.override(settings.LANGUAGE_CODE):
        rows = _rows(devices)
    message = email_send(
        key="field-devices-held",
        to=admin_addresses(),
        language=settings.LANGUAGE_CODE,
        context={
            "count": len(rows),
            "hours": hours,
            "devices": rows,
            "url": _absolute(reverse("admin:field_device_changelist")) + "?waiting=held",
        },
    )
    return HeldReport(devices, sent=message is not None)


def _rows(devices: list[Device]) -> list[dict]:
    return [
        {
            "device": device.device,
            "agent": device.agent.get_display_name(),
            "pending": device.pending_count,
            "oldest": formats.date_format(
                timezone.localtime(device.oldest_waiting), "DATETIME_FORMAT"
            ),
            "missing": format_numbers(missing_numbers(device)),
            "url": _absolute(reverse("admin:field_device_change", args=[device.pk])),
        }
        for device in devices
    ]


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"
