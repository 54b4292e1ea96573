from celery import shared_task
from django.utils import timezone

from sales import calendar_sync, services
from sales.models import CalendarConnection
from sales.providers import RateLimited, RetryLater


@shared_task(bind=True, max_retries=8, acks_late=True)
def push_visit(self, visit_id: int) -> str:
    """Send a visit to its agent's Google calendar; network and quota errors retry with backoff.

    Eagerly (no broker) a failure is recorded on the visit and the connection instead of
    retrying inside the web request."""
    try:
        return calendar_sync.push(visit_id)
    except RateLimited as error:
        if self.request.is_eager:
            return "rate limited"
        countdown = max(int((error.until - timezone.now()).total_seconds()), 30)
        raise self.retry(exc=error, countdown=countdown) from error
    except RetryLater as error:
        if self.request.is_eager:
            return "retry later"
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 3600)) from error


@shared_task(bind=True, max_retries=3)
def pull_calendar(self, connection_id: int) -> int:
    try:
        return calendar_sync.pull(connection_id)
    except (RateLimited, RetryLater) as error:
        if self.request.is_eager:
            return 0
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error


@shared_task
def pull_calendars() -> int:
    """Every few minutes: bring back what agents changed in Google."""
    ids = list(
        CalendarConnection.objects.exclude(state="needs_reconnect").values_list("pk", flat=True)
    )
    for connection_id in ids:
        pull_calendar.delay(connection_id)
    return len(ids)


@shared_task
def bill_month() -> int:
    """First day of the month: invoice the contract months starting this month."""
    return len(services.invoices_bill_month(month=timezone.localdate()))


@shared_task
def remind_ending_contracts() -> int:
    return services.contracts_remind_ending()


@shared_task
def end_expired_contracts() -> int:
    """Nightly: contracts whose last day is over end (see services.contracts_end_expired)."""
    return len(services.contracts_end_expired())
