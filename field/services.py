"""Writes of the field kit: storing uploaded envelopes, the admins' fix-and-retry and discard,
the settings and their schedules, notifications and the retention purge."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from comadvisor.emails import email_send
from comadvisor.models import SiteSettings
from field.enums import EnvelopeState, Source
from field.envelopes import (
    MAX_BATCH,
    MAX_BIGINT,
    MAX_INT,
    Refused,
    Upload,
    check_upload,
    parse_time,
    parse_uuid,
)
from field.models import (
    Device,
    Envelope,
    FieldSettings,
    JournalEntry,
    NameClash,
    Snapshot,
)

logger = logging.getLogger(__name__)

RECEIVED, DUPLICATE, REFUSED = "received", "duplicate", "refused"


@dataclass
class Receipt:
    name: str
    status: str
    reason: str = ""

    def as_json(self) -> dict[str, str]:
        answer = {"name": self.name, "status": self.status}
        if self.reason:
            answer["reason"] = self.reason
        return answer


def may_use_field_kit(user: User) -> bool:
    return user.is_active and user.has_perm("field.use_field_kit")


def envelopes_receive(
    *,
    agent: User,
    items: list[Any],
    source: str = Source.API,
    source_file: str = "",
    schedule: bool = True,
) -> list[Receipt]:
    """Store each envelope under its name before answering (received, duplicate or refused),
    then (unless the caller integrates itself) start the integration of the agent's devices
    once the rows are committed."""
    if not may_use_field_kit(agent):
        raise PermissionDenied
    if len(items) > MAX_BATCH:
        raise ValidationError(_("At most %(count)d envelopes at a time.") % {"count": MAX_BATCH})
    receipts = [_receive_one(agent=agent, item=item, source=source, source_file=source_file)
                for item in items]  # fmt: skip
    if schedule and any(receipt.status == RECEIVED for receipt in receipts):
        from field import tasks

        # Robust: the envelopes are stored; a failing integration (eager mode) must not turn
        # the answer into an error, and the scheduled run will go on.
        transaction.on_commit(lambda: tasks.integrate_agent.delay(agent.pk), robust=True)
    return receipts


def _receive_one(*, agent: User, item: Any, source: str, source_file: str) -> Receipt:
    name = item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else ""
    try:
        upload = check_upload(item)
    except Refused as refusal:
        return Receipt(name, REFUSED, str(refusal))
    if upload.agent != agent.get_username():
        return Receipt(upload.name, REFUSED, _("another agent's envelope"))
    with transaction.atomic():
        existing = Envelope.objects.filter(name=upload.name).only("pk", "hash", "name").first()
        if existing is None:
            try:
                with transaction.atomic():
                    _store(agent=agent, upload=upload, source=source, source_file=source_file)
                return Receipt(upload.name, RECEIVED)
            except IntegrityError:
                # Stored meanwhile by a concurrent upload of the same outbox.
                existing = Envelope.objects.get(name=upload.name)
        if existing.hash == upload.hash:
            return Receipt(upload.name, DUPLICATE)
        _record_clash(envelope=existing, upload=upload)
        return Receipt(upload.name, REFUSED, _("same name, different content"))


def _store(*, agent: User, upload: Upload, source: str, source_file: str) -> Envelope:
    raw = upload.raw
    device, created = Device.objects.get_or_create(agent=agent, device=upload.device)
    if not created:
        Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now())
    entity = raw.get("entity") if isinstance(raw.get("entity"), dict) else {}
    entity_id = entity.get("id")
    return Envelope.objects.create(
        name=upload.name,
        agent=agent,
        device=device,
        seq=upload.seq,
        action=str(raw.get("action") or "")[:30],
        schema=raw["schema"] if _integer(raw.get("schema"), MAX_INT) else None,
        made_at=parse_time(raw.get("created_at")),
        snapshot=str(raw.get("snapshot") or "")[:100],
        entity_kind=str(entity.get("kind") or "")[:20],
        entity_id=entity_id if _integer(entity_id, MAX_BIGINT) else None,
        entity_client_id=parse_uuid(entity.get("client_id")),
        base_version=str(raw.get("base_version") or "")[:40],
        payload=raw["payload"],
        hash=upload.hash,
        raw=raw,
        source=source,
        source_file=source_file,
    )


def _integer(value: Any, largest: int) -> bool:
    """A whole number its column can hold (an unreadable one is stored as absent, and the
    integration quarantines the envelope for it)."""
    return isinstance(value, int) and not isinstance(value, bool) and -largest <= value <= largest


def _record_clash(*, envelope: Envelope, upload: Upload) -> None:
    """Keep the refused content once per (name, hash) and tell the admins the first time."""
    clash, created = NameClash.objects.get_or_create(
        envelope=envelope, hash=upload.hash, defaults={"raw": upload.raw}
    )
    if not created:
        NameClash.objects.filter(pk=clash.pk).update(count=F("count") + 1, last_at=timezone.now())
        return
    logger.warning("Envelope %s uploaded again with another content", envelope.name)
    transaction.on_commit(
        lambda: notify_admins(
            key="field-envelope-name-clash",
            context={
                "name": envelope.name,
                "agent": envelope.agent.get_display_name(),
                "stored_hash": envelope.hash,
                "new_hash": upload.hash,
                "url": _admin_url(envelope),
            },
        )
    )


# --- Notifications ---------------------------------------------------------------------------


def admin_addresses() -> list[str]:
    return FieldSettings.load().notification_addresses or SiteSettings.load().notification_addresses


def notify_admins(*, key: str, context: dict[str, Any]) -> None:
    try:
        email_send(key=key, to=admin_addresses(), language=settings.LANGUAGE_CODE, context=context)
    except Exception:  # an SMTP fault must not undo the integration that was committed
        logger.exception("Could not e-mail the admins (%s)", key)


def _admin_url(envelope: Envelope) -> str:
    return f"{settings.SITE_URL}{reverse('admin:field_envelope_change', args=[envelope.pk])}"


def notify_quarantined(envelopes: Iterable[Envelope]) -> None:
    """One e-mail to the admins listing the envelopes a run put in quarantine, with the technical
    detail the agent is not shown (the envelope's note)."""
    rows = [
        {
            "name": envelope.name,
            "agent": envelope.agent.get_display_name(),
            "reason": f"{envelope.reason} ({envelope.note})" if envelope.note else envelope.reason,
            "url": _admin_url(envelope),
        }
        for envelope in envelopes
    ]
    if rows:
        notify_admins(
            key="field-envelopes-quarantined",
            context={
                "count": len(rows),
                "envelopes": rows,
                "url": f"{settings.SITE_URL}{reverse('admin:field_envelope_changelist')}"
                "?state__exact=quarantined",
            },
        )


# --- Admin: fix and retry, discard -----------------------------------------------------------


def _check_manager(by: User) -> None:
    if not by.has_perm("field.manage_envelope"):
        raise PermissionDenied


_UNCHANGED: Any = object()


def envelope_fix(
    *,
    envelope: Envelope,
    by: User,
    payload: Any = _UNCHANGED,
    entity_id: Any = _UNCHANGED,
    entity_client_id: Any = _UNCHANGED,
    base_version: Any = _UNCHANGED,
) -> Envelope:
    """An admin corrects a quarantined envelope (its payload, the restaurant it is about, its
    base version); only what is given changes. The received hash and the original content
    (`raw`) stay, so the device sending the original again is a duplicate, not a clash."""
    _check_manager(by)
    if envelope.state != EnvelopeState.QUARANTINED:
        raise ValidationError(_("Only a quarantined envelope can be corrected."))
    fields = ["fixed_at", "fixed_by"]
    if payload is not _UNCHANGED:
        if not isinstance(payload, dict):
            raise ValidationError({"payload": _("The payload must be a JSON object.")})
        envelope.payload = payload
        fields.append("payload")
    if entity_id is not _UNCHANGED:
        if entity_id is not None and (
            isinstance(entity_id, bool) or not isinstance(entity_id, int)
        ):
            raise ValidationError({"entity_id": _("The restaurant id must be a number.")})
        envelope.entity_id = entity_id
        fields.append("entity_id")
    if entity_client_id is not _UNCHANGED:
        parsed = parse_uuid(entity_client_id)
        if entity_client_id not in (None, "") and parsed is None:
            raise ValidationError({"entity_client_id": _("The offline id must be a UUID.")})
        envelope.entity_client_id = parsed
        fields.append("entity_client_id")
    if base_version is not _UNCHANGED:
        text = str(base_version or "")
        if text and parse_time(text) is None:
            raise ValidationError({"base_version": _("The base version must be an ISO time.")})
        envelope.base_version = text[:40]
        fields.append("base_version")
    envelope.fixed_at = timezone.now()
    envelope.fixed_by = by
    envelope.save(update_fields=fields)
    return envelope


def envelope_retry(*, envelope: Envelope, by: User) -> Envelope:
    """Apply a quarantined envelope again (after an admin fixed it); its outcome is journaled."""
    from field import integration

    _check_manager(by)
    result = integration.envelope_retry(envelope_id=envelope.pk, by=by)
    if result.state == EnvelopeState.QUARANTINED:
        notify_quarantined([result])
    return result


@transaction.atomic
def envelope_discard(*, envelope: Envelope, by: User, reason: str = "") -> Envelope:
    """Give up a quarantined (or pending) envelope: recorded in the journal, shown to the agent.
    A discarded pending envelope no longer holds its device's later ones."""
    from field import integration

    _check_manager(by)
    Device.objects.select_for_update().get(pk=envelope.device_id)
    envelope = Envelope.objects.select_for_update().get(pk=envelope.pk)
    if envelope.state not in (EnvelopeState.QUARANTINED, EnvelopeState.PENDING):
        raise ValidationError(_("Only a quarantined or pending envelope can be discarded."))
    text = reason.strip() or _("Discarded by %(user)s") % {"user": by.get_display_name()}
    integration.decide(
        envelope, state=EnvelopeState.DISCARDED, code=envelope.reason_code, reason=text, by=by
    )
    transaction.on_commit(lambda: _integrate_later(envelope.agent_id), robust=True)
    snapshots_mark_stale(agent_ids=[envelope.agent_id])
    return envelope


@transaction.atomic
def device_skip_gap(*, device: Device, by: User) -> list[int]:
    """Give up the sequence numbers a device never sent (a lost or reset tablet) before its first
    pending envelope, so the later ones are integrated. The skipped numbers are recorded on the
    device; no stored envelope is touched."""
    _check_manager(by)
    device = Device.objects.select_for_update().get(pk=device.pk)
    first = (
        Envelope.objects.filter(device=device, state=EnvelopeState.PENDING, seq__gt=device.last_seq)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if first is None or first == device.last_seq + 1:
        return []
    stored = set(
        Envelope.objects.filter(device=device, seq__gt=device.last_seq, seq__lt=first).values_list(
            "seq", flat=True
        )
    )
    skipped = [seq for seq in range(device.last_seq + 1, first) if seq not in stored]
    device.skipped = [
        *device.skipped,
        {"seqs": skipped, "by": by.get_username(), "at": timezone.now().isoformat()},
    ]
    device.last_seq = first - 1
    device.save(update_fields=["skipped", "last_seq"])
    logger.warning("Device %s: sequence numbers %s given up by %s", device, skipped, by)
    transaction.on_commit(lambda: _integrate_later(device.agent_id), robust=True)
    return skipped


def _integrate_later(agent_id: int) -> None:
    from field import tasks

    tasks.integrate_agent.delay(agent_id)


# --- Snapshots -------------------------------------------------------------------------------


def snapshots_mark_stale(*, agent_ids: Iterable[int | None], rebuild: bool = True) -> None:
    """The agents' offline data must be rebuilt: by the next read, and (`rebuild`, when the
    settings ask for it) by a task once the transaction is committed."""
    ids = {agent_id for agent_id in agent_ids if agent_id}
    if not ids:
        return
    Snapshot.objects.filter(agent_id__in=ids).update(stale=True)
    if rebuild and FieldSettings.load().rebuild_after_integration:
        from field import tasks

        for agent_id in ids:
            transaction.on_commit(
                lambda agent_id=agent_id: tasks.rebuild_snapshot.delay(agent_id), robust=True
            )


# --- Settings and schedules ------------------------------------------------------------------

DROP_FOLDER_TASK = "Read the field kit's drop folder"


def field_settings_save(*, field_settings: FieldSettings, by: User | None) -> FieldSettings:
    """Save the settings and follow them in the beat schedule (drop folder, nightly rebuild)."""
    if by is not None and not by.has_perm("field.change_fieldsettings"):
        raise PermissionDenied
    field_settings.full_clean()
    with transaction.atomic():
        field_settings.save()
        schedules_sync(field_settings=field_settings)
    return field_settings


def schedules_sync(*, field_settings: FieldSettings) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _created = IntervalSchedule.objects.get_or_create(
        every=field_settings.drop_folder_minutes, period=IntervalSchedule.MINUTES
    )
    PeriodicTask.objects.update_or_create(
        name=DROP_FOLDER_TASK,
        defaults={
            "task": "field.tasks.integrate_drop_folder",
            "interval": every,
            "crontab": None,
            "enabled": bool(field_settings.drop_folder),
        },
    )
    PeriodicTask.objects.filter(task="field.tasks.rebuild_snapshots").update(
        enabled=field_settings.rebuild_nightly
    )


# --- Retention -------------------------------------------------------------------------------


def field_logs_purge(*, now=None) -> dict[str, int]:
    """Clear the payload of envelopes decided long ago (integrated or discarded: quarantined
    ones wait for an admin) and forget old drop-folder files. Names and outcomes stay."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=FieldSettings.load().log_retention_days)
    cleared = Envelope.objects.filter(
        state__in=(EnvelopeState.INTEGRATED, EnvelopeState.DISCARDED),
        decided_at__lt=cutoff,
        purged_at__isnull=True,
    ).update(payload={}, raw={}, purged_at=now)
    clashes, _deleted = NameClash.objects.filter(last_at__lt=cutoff).delete()
    return {"envelopes": cleared, "clashes": clashes}


def journal_for(name: str) -> JournalEntry | None:
    return JournalEntry.objects.filter(name=name).first()
