"""Google Calendar sync on recorded responses (googleapiclient's HTTP mocks); no network."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from googleapiclient.discovery import build

from sales import calendar_sync, services
from sales.enums import EventSync, SyncState, VisitStatus
from sales.models import CalendarConnection, Visit
from sales.providers import RateLimited, RetryLater
from sales.providers.google_calendar import GoogleCalendar
from tests.factories import RestaurantFactory, UserFactory
from tests.google_replay import RecordingHttp

pytestmark = pytest.mark.django_db
RECORDINGS = Path(__file__).parent / "recordings"
PARIS = ZoneInfo("Europe/Paris")


def recording(name: str, **tokens: object) -> str:
    text = (RECORDINGS / name).read_text()
    for token, value in tokens.items():
        text = text.replace(f"__{token.upper()}__", str(value))
    return text


def calendar(responses, refresh=None) -> tuple[GoogleCalendar, RecordingHttp]:
    http = RecordingHttp(responses, base="/calendar/v3/")
    service = build("calendar", "v3", http=http, static_discovery=True, cache_discovery=False)
    return GoogleCalendar(service=service, calendar_id="primary", refresh=refresh), http


@pytest.fixture
def visit(sales_agent, lyon):
    restaurant = RestaurantFactory(
        name="Le Bouchon", client=True, zone=lyon, address="1 rue de la République"
    )
    start = datetime(2026, 11, 24, 10, tzinfo=PARIS)
    return Visit.objects.create(
        restaurant=restaurant, agent=sales_agent, start=start, end=start + timedelta(hours=1)
    )


@pytest.fixture
def connection(sales_agent):
    return CalendarConnection.objects.create(
        user=sales_agent, credentials='{"token": "t"}', sync_token="OLD"
    )


def ok(name: str, **tokens):
    return ({"status": "200"}, recording(name, **tokens))


def error(status: int, name: str, **headers):
    return ({"status": str(status), **headers}, recording(name))


def test_insert_carries_the_visit_id(visit):
    provider, http = calendar([ok("event.json", visit=visit.pk)])

    event_id = provider.upsert(
        visit_id=visit.pk,
        summary="Visit - Le Bouchon",
        description="",
        start=visit.start,
        end=visit.end,
    )

    assert event_id == f"comadvisor{visit.pk}"
    request = http.requests[0]
    assert (request.method, request.path) == ("POST", "calendars/primary/events")
    body = request.body
    assert body["id"] == event_id
    assert body["extendedProperties"] == {"private": {"comadvisorVisit": str(visit.pk)}}
    assert body["start"] == {"dateTime": "2026-11-24T10:00:00+01:00"}


def test_existing_event_is_updated_not_duplicated(visit):
    provider, http = calendar([error(409, "error_409.json"), ok("event.json", visit=visit.pk)])

    provider.upsert(
        visit_id=visit.pk, summary="x", description="", start=visit.start, end=visit.end
    )

    assert [(request.method, request.path) for request in http.requests] == [
        ("POST", "calendars/primary/events"),
        ("PUT", f"calendars/primary/events/comadvisor{visit.pk}"),
    ]


def test_lost_response_then_retry_creates_one_event(visit, connection):
    """The insert reached Google but the answer was lost; the retry finds the event (409) and
    updates it: one event, whatever the number of attempts."""
    provider, http = calendar(
        [
            TimeoutError("timed out"),
            error(409, "error_409.json"),
            ok("event.json", visit=visit.pk),
        ]
    )

    with pytest.raises(RetryLater):
        calendar_sync.push(visit.pk, provider=provider)
    assert calendar_sync.push(visit.pk, provider=provider) == "synced"

    inserted = [request for request in http.requests if request.method == "POST"]
    assert len(inserted) == 2
    assert {request.body["id"] for request in inserted} == {f"comadvisor{visit.pk}"}
    visit.refresh_from_db()
    assert (visit.google_event_id, visit.sync) == (f"comadvisor{visit.pk}", EventSync.SYNCED)


def test_cancelled_visit_deletes_its_event_and_gone_is_fine(visit, connection):
    Visit.objects.filter(pk=visit.pk).update(
        status=VisitStatus.CANCELLED, google_event_id=f"comadvisor{visit.pk}"
    )
    provider, http = calendar([error(410, "error_410_deleted.json")])

    assert calendar_sync.push(visit.pk, provider=provider) == "synced"
    assert (http.requests[0].method, http.requests[0].path) == (
        "DELETE",
        f"calendars/primary/events/comadvisor{visit.pk}",
    )


def test_server_error_is_retried_later_and_shown(visit, connection):
    provider, _http = calendar([error(503, "error_503.json")])

    with pytest.raises(RetryLater):
        calendar_sync.push(visit.pk, provider=provider)

    connection.refresh_from_db()
    assert (connection.state, connection.last_error) == (SyncState.ERROR, "Google error 503")


def test_unauthorised_refreshes_once_then_needs_reconnect(visit, connection):
    refreshes = []

    def refresh() -> bool:
        refreshes.append(1)
        return len(refreshes) == 1  # the first refresh "works", Google still says 401

    provider, http = calendar(
        [error(401, "error_401.json"), error(401, "error_401.json")], refresh=refresh
    )

    assert calendar_sync.push(visit.pk, provider=provider) == "failed"

    assert len(http.requests) == 2
    connection.refresh_from_db()
    assert connection.state == SyncState.NEEDS_RECONNECT
    visit.refresh_from_db()
    assert visit.sync == EventSync.FAILED
    # Later pushes do not call Google until the agent reconnects.
    assert calendar_sync.push(visit.pk, provider=calendar([])[0]) == "needs reconnect"


def test_rate_limit_waits_until(visit, connection):
    provider, _http = calendar([error(403, "error_403_rate.json")])

    with pytest.raises(RateLimited):
        calendar_sync.push(visit.pk, provider=provider)

    connection.refresh_from_db()
    assert connection.state == SyncState.RATE_LIMITED
    assert connection.rate_limited_until > timezone.now() + timedelta(seconds=50)
    with pytest.raises(RateLimited):
        calendar_sync.push(visit.pk, provider=calendar([])[0])


def test_pull_applies_newer_changes_over_pages(visit, connection, sales_agent):
    other = Visit.objects.create(
        restaurant=visit.restaurant,
        agent=sales_agent,
        start=visit.start + timedelta(days=2),
        end=visit.end + timedelta(days=2),
    )
    provider, http = calendar(
        [ok("list_page1.json", visit=visit.pk), ok("list_page2.json", visit2=other.pk)]
    )

    changed = calendar_sync.pull(connection.pk, provider=provider)

    assert changed == 2
    assert http.requests[0].query["syncToken"] == ["OLD"] and http.requests[1].query[
        "pageToken"
    ] == ["CigKGjBtN2Z1cDJ2b2lqZW"]
    visit.refresh_from_db()
    other.refresh_from_db()
    assert visit.start == datetime(2026, 11, 25, 15, tzinfo=PARIS)
    assert other.status == VisitStatus.CANCELLED
    connection.refresh_from_db()
    assert (connection.sync_token, connection.state) == (
        "CPDAlvWDx70CEPDAlvWDx70CGAU=",
        SyncState.OK,
    )


def test_pull_keeps_a_newer_local_change(visit, connection):
    Visit.objects.filter(pk=visit.pk).update(updated_at=datetime(2031, 1, 1, tzinfo=PARIS))
    provider, _http = calendar(
        [ok("list_page1.json", visit=visit.pk), ok("list_page2.json", visit2=0)]
    )

    assert calendar_sync.pull(connection.pk, provider=provider) == 0
    visit.refresh_from_db()
    assert visit.start == datetime(2026, 11, 24, 10, tzinfo=PARIS)


def test_expired_sync_token_triggers_a_full_resync(visit, connection):
    provider, http = calendar(
        [
            error(410, "error_410_sync.json"),
            ok("list_page1.json", visit=visit.pk),
            ok("list_page2.json", visit2=0),
        ]
    )

    calendar_sync.pull(connection.pk, provider=provider)

    assert http.requests[0].query["syncToken"] == ["OLD"]
    assert "syncToken" not in http.requests[1].query
    connection.refresh_from_db()
    assert connection.sync_token == "CPDAlvWDx70CEPDAlvWDx70CGAU="


def test_planning_a_visit_queues_the_push_after_commit(
    visit, connection, sales_agent, django_capture_on_commit_callbacks, monkeypatch
):
    pushed = []
    monkeypatch.setattr("sales.tasks.push_visit.delay", lambda visit_id: pushed.append(visit_id))
    start = timezone.now() + timedelta(days=1)

    with django_capture_on_commit_callbacks(execute=True):
        planned = services.visit_plan(
            restaurant=visit.restaurant,
            by=sales_agent,
            agent=sales_agent,
            start=start,
            end=start + timedelta(hours=1),
        )

    assert pushed == [planned.pk]
    assert Visit.objects.get(pk=planned.pk).sync == EventSync.PENDING


def test_no_push_without_a_connection(
    visit, sales_agent, django_capture_on_commit_callbacks, monkeypatch
):
    pushed = []
    monkeypatch.setattr("sales.tasks.push_visit.delay", lambda visit_id: pushed.append(visit_id))

    with django_capture_on_commit_callbacks(execute=True):
        services.visit_move(
            visit=visit,
            by=sales_agent,
            start=visit.start + timedelta(hours=1),
            end=visit.end + timedelta(hours=1),
        )

    assert pushed == []


def test_credentials_are_encrypted_at_rest(connection):
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM sales_calendarconnection WHERE id = %s", [connection.pk]
        )
        stored = cursor.fetchone()[0]

    assert "token" not in stored
    assert CalendarConnection.objects.get(pk=connection.pk).credentials == '{"token": "t"}'


def test_push_task_in_eager_mode_records_the_failure_instead_of_retrying(
    visit, connection, monkeypatch
):
    from sales import tasks

    def failing(visit_id, provider=None):
        raise RetryLater("Google error 503")

    monkeypatch.setattr(calendar_sync, "push", failing)

    # apply() runs the task in this process as eager mode does, whatever the broker.
    assert tasks.push_visit.apply(args=(visit.pk,)).get() == "retry later"


def test_push_task_retries_with_backoff_through_a_broker(visit, connection, monkeypatch):
    from celery.exceptions import Retry

    from sales import tasks

    monkeypatch.setattr(
        calendar_sync,
        "push",
        lambda visit_id, provider=None: (_ for _ in ()).throw(RetryLater("503")),
    )
    retries = []
    monkeypatch.setattr(tasks.push_visit, "retry", lambda **kw: retries.append(kw) or Retry())
    tasks.push_visit.push_request(is_eager=False, retries=2)
    try:
        with pytest.raises(Retry):
            tasks.push_visit.run(visit.pk)
    finally:
        tasks.push_visit.pop_request()

    assert retries[0]["countdown"] == 120  # 30 s doubled per earlier attempt


def test_pull_calendars_queues_each_healthy_connection(connection, sales_agent, monkeypatch):
    from sales import tasks

    queued = []
    monkeypatch.setattr(
        tasks.pull_calendar, "delay", lambda connection_id: queued.append(connection_id)
    )
    broken = CalendarConnection.objects.create(
        user=UserFactory(roles=["sales_agent"]), credentials="{}", state=SyncState.NEEDS_RECONNECT
    )

    assert tasks.pull_calendars() == 1
    assert queued == [connection.pk] and broken.pk not in queued
