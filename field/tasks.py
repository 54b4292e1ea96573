"""Celery leaves of the field kit: ids in, a service or the pipeline called, safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True)
def integrate_agent(agent_id: int) -> int:
    """After an upload: integrate the agent's devices."""
    from field import integration

    return integration.integrate(agent_ids=[agent_id]).decided


@shared_task(acks_late=True)
def integrate_pending() -> int:
    """Every few minutes: whatever an upload's task did not finish (worker lost, gap filled)."""
    from field import integration

    return integration.integrate().decided


@shared_task(acks_late=True)
def integrate_drop_folder() -> int:
    """On the admin's schedule: read the drop folder, then integrate."""
    from field import dropfolder
    from field.models import FieldSettings

    folder = FieldSettings.load().drop_folder
    if not folder:
        return 0
    return dropfolder.drop_folder_integrate(folder=folder).decided


@shared_task(acks_late=True)
def rebuild_snapshot(agent_id: int) -> None:
    from accounts.models import User
    from field import snapshots

    agent = User.objects.filter(pk=agent_id, is_active=True).first()
    if agent is not None:
        snapshots.snapshot_rebuild(agent=agent)


@shared_task(acks_late=True)
def rebuild_snapshots() -> int:
    """Nightly (when the settings say so): every field kit user's snapshot."""
    from field import snapshots
    from field.models import FieldSettings

    if not FieldSettings.load().rebuild_nightly:
        return 0
    return snapshots.snapshots_rebuild_all()


@shared_task
def purge_logs() -> dict:
    from field import services

    return services.field_logs_purge()
