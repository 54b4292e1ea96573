"""Celery leaves of the field kit: ids in, a service or the pipeline called, safe to run twice.

Faults of what lies across the network (the database, a drop folder on a mounted share, the mail
server) make a task run again later, with a growing delay: each of them may run twice without harm
(a name is integrated once, a snapshot rebuilt twice is the same, an e-mail that failed was not
sent)."""

from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

DATABASE_FAULTS = (OperationalError, InterfaceError)
RETRIES = {"retry_backoff": 5, "retry_backoff_max": 600, "retry_jitter": True,
           "max_retries": 5}  # fmt: skip


def _integrate(*, agent_ids=None) -> int:
    """Integrate, then mark for rebuilding the snapshots of the other agents holding the
    restaurants the run touched (a colleague's visit on the agent's client)."""
    from field import integration, snapshots

    started = timezone.now()
    report = integration.integrate(agent_ids=agent_ids)
    snapshots.snapshots_mark_holders_stale(agent_ids=report.agents, since=started)
    return report.decided


@shared_task(acks_late=True, autoretry_for=DATABASE_FAULTS, **RETRIES)
def integrate_agent(agent_id: int) -> int:
    """After an upload: integrate the agent's devices."""
    return _integrate(agent_ids=[agent_id])


@shared_task(acks_late=True, autoretry_for=DATABASE_FAULTS, **RETRIES)
def integrate_pending() -> int:
    """Every few minutes: whatever an upload's task did not finish (worker lost, gap filled)."""
    return _integrate()


@shared_task(acks_late=True, autoretry_for=(*DATABASE_FAULTS, OSError), **RETRIES)
def integrate_drop_folder() -> int:
    """On the admin's schedule: read the drop folder, then integrate."""
    from field import dropfolder
    from field.models import FieldSettings

    folder = FieldSettings.load().drop_folder
    if not folder:
        return 0
    dropfolder.drop_folder_read(folder=folder)
    return _integrate()


@shared_task(acks_late=True, autoretry_for=DATABASE_FAULTS, **RETRIES)
def rebuild_snapshot(agent_id: int) -> None:
    from accounts.models import User
    from field import snapshots

    agent = User.objects.filter(pk=agent_id, is_active=True).first()
    if agent is not None:
        snapshots.snapshot_rebuild(agent=agent)


@shared_task(acks_late=True, autoretry_for=DATABASE_FAULTS, **RETRIES)
def rebuild_snapshots() -> int:
    """Nightly (when the settings say so): every sales agent's snapshot."""
    from field import snapshots
    from field.models import FieldSettings

    if not FieldSettings.load().rebuild_nightly:
        return 0
    return snapshots.snapshots_rebuild_all()


@shared_task(autoretry_for=DATABASE_FAULTS, **RETRIES)
def purge_logs() -> dict:
    """Nightly: the envelopes' content past the retention, and the drop folder's log."""
    from datetime import timedelta

    from field import dropfolder, services
    from field.models import FieldSettings

    field_settings = FieldSettings.load()
    purged = services.field_logs_purge()
    before = timezone.now() - timedelta(days=field_settings.log_retention_days)
    purged.update(dropfolder.drop_files_purge(before=before, folder=field_settings.drop_folder))
    return purged


@shared_task(autoretry_for=(*DATABASE_FAULTS, SMTPException, OSError), **RETRIES)
def check_held_devices() -> int:
    """Nightly: e-mail the admins the devices whose envelopes have waited too long."""
    from field import devices

    return len(devices.held_devices_notify().devices)
