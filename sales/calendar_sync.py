"""Two-way synchronisation of visits with the agents' Google calendars.

Push: a visit created, moved, cancelled or done is sent after the transaction commits (task
`sales.tasks.push_visit`); its event id is derived from the visit id, so retries and resyncs
never duplicate. Pull: every few minutes (`sales.tasks.pull_calendars`) the changes made in
Google since the stored sync token come back; the newer change wins. A 410 restarts with a full
synchronisation. Connection health (ok, needs reconnect, rate limited, last error) is kept on the
CalendarConnection and shown to the agent and the admins.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sales.enums import EventSync, SyncState, VisitStatus
from sales.models import CalendarConnection, Visit
from sales.providers import NeedsReconnect, Permanent, RateLimited, RetryLater, SyncTokenExpired
from sales.providers.google_calendar import GoogleCalendar


def provider_for(connection: CalendarConnection) -> GoogleCalendar:
    return GoogleCalendar.from_credentials(
        credentials_json=connection.credentials, calendar_id=connection.calendar_id
    )


def _connection(user_id: int) -> CalendarConnection | None:
    return CalendarConnection.objects.filter(user_id=user_id).first()


def visit_changed(visit: Visit) -> None:
    """Queue the visit for its agent's calendar, if they connected one."""
    if not CalendarConnection.objects.filter(user_id=visit.agent_id).exists():
        return
    Visit.objects.filter(pk=visit.pk).update(sync=EventSync.PENDING, sync_error="")
    from sales.tasks import push_visit

    transaction.on_commit(lambda: push_visit.delay(visit.pk))


def _summary(visit: Visit) -> str:
    return f"{visit.get_kind_display()} - {visit.restaurant.name}"


def _record_failure(connection: CalendarConnection, error: Exception) -> None:
    connection.last_error = str(error)[:500]
    if isinstance(error, NeedsReconnect):
        connection.state = SyncState.NEEDS_RECONNECT
    elif isinstance(error, RateLimited):
        connection.state = SyncState.RATE_LIMITED
        connection.rate_limited_until = error.until
    else:
        connection.state = SyncState.ERROR
    connection.save(update_fields=["state", "last_error", "rate_limited_until"])


def _record_success(connection: CalendarConnection, provider) -> None:
    connection.state = SyncState.OK
    connection.last_error = ""
    connection.rate_limited_until = None
    connection.last_sync_at = timezone.now()
    fields = ["state", "last_error", "rate_limited_until", "last_sync_at"]
    refreshed = provider.credentials_json() if hasattr(provider, "credentials_json") else None
    if refreshed and refreshed != connection.credentials:
        connection.credentials = refreshed
        fields.append("credentials")
    connection.save(update_fields=fields)


def push(visit_id: int, *, provider=None) -> str:
    """Send one visit to Google. Returns the outcome; raises RetryLater/RateLimited to retry."""
    visit = Visit.objects.select_related("restaurant").filter(pk=visit_id).first()
    if visit is None:
        return "gone"
    connection = _connection(visit.agent_id)
    if connection is None:
        return "not connected"
    if connection.state == SyncState.NEEDS_RECONNECT:
        Visit.objects.filter(pk=visit.pk).update(
            sync=EventSync.FAILED, sync_error=_("Reconnect your Google calendar.")
        )
        return "needs reconnect"
    if connection.rate_limited_until and connection.rate_limited_until > timezone.now():
        raise RateLimited("still rate limited", connection.rate_limited_until)
    provider = provider or provider_for(connection)
    try:
        if visit.status == VisitStatus.CANCELLED:
            if visit.google_event_id:
                provider.delete(event_id=visit.google_event_id)
            event_id = visit.google_event_id
        else:
            event_id = provider.upsert(
                visit_id=visit.pk,
                summary=_summary(visit),
                description=visit.report,
                start=visit.start,
                end=visit.end,
                location=" ".join(
                    filter(
                        None,
                        [
                            visit.restaurant.address,
                            visit.restaurant.postal_code,
                            visit.restaurant.city,
                        ],
                    )
                ),
            )
    except (RetryLater, RateLimited) as error:
        _record_failure(connection, error)
        raise
    except (NeedsReconnect, Permanent) as error:
        _record_failure(connection, error)
        Visit.objects.filter(pk=visit.pk).update(sync=EventSync.FAILED, sync_error=str(error)[:300])
        return "failed"
    # update() leaves updated_at alone: the push is not a change that Google should lose to.
    Visit.objects.filter(pk=visit.pk).update(
        google_event_id=event_id, sync=EventSync.SYNCED, sync_error=""
    )
    _record_success(connection, provider)
    return "synced"


def pull(connection_id: int, *, provider=None) -> int:
    """Apply the changes made in Google since the last sync; returns how many visits changed."""
    connection = CalendarConnection.objects.get(pk=connection_id)
    if connection.state == SyncState.NEEDS_RECONNECT:
        return 0
    provider = provider or provider_for(connection)
    try:
        try:
            events, token = provider.changes(sync_token=connection.sync_token)
        except SyncTokenExpired:
            events, token = provider.changes(sync_token="")
    except (RetryLater, RateLimited, NeedsReconnect, Permanent) as error:
        _record_failure(connection, error)
        if isinstance(error, RetryLater | RateLimited):
            raise
        return 0
    changed = 0
    for event in events:
        if event.visit_id is None:
            continue
        changed += _apply_remote(connection.user_id, event)
    connection.sync_token = token
    connection.save(update_fields=["sync_token"])
    _record_success(connection, provider)
    return changed


@transaction.atomic
def _apply_remote(user_id: int, event) -> int:
    visit = Visit.objects.select_for_update().filter(pk=event.visit_id, agent_id=user_id).first()
    if visit is None or visit.status != VisitStatus.PLANNED:
        return 0
    # The newer change wins: an edit made here after Google's is kept (and pushed again).
    if event.updated <= visit.updated_at:
        return 0
    if event.cancelled:
        visit.status = VisitStatus.CANCELLED
    elif event.start and event.end and (event.start, event.end) != (visit.start, visit.end):
        visit.start, visit.end = event.start, event.end
    else:
        return 0
    visit.google_event_id = event.event_id
    visit.sync = EventSync.SYNCED
    visit.save()
    return 1


def connection_save(
    *, user, credentials_json: str, calendar_id: str = "primary"
) -> CalendarConnection:
    connection, _created = CalendarConnection.objects.update_or_create(
        user=user,
        defaults={
            "credentials": credentials_json,
            "calendar_id": calendar_id,
            "state": SyncState.OK,
            "last_error": "",
            "sync_token": "",
            "rate_limited_until": None,
            "connected_at": timezone.now(),
        },
    )
    return connection


def connection_delete(*, user) -> None:
    CalendarConnection.objects.filter(user=user).delete()
    Visit.objects.filter(agent=user).exclude(sync="").update(sync="", sync_error="")
