"""Celery leaves of the social desk: ids in, a service call, retries with backoff on network
faults. Eagerly (the embedded default) a failure is recorded instead of retried in the request.
No task keeps a result: nothing reads them, and 10,000 fetches a day would fill the backend."""

import datetime as dt
from collections import defaultdict

from celery import shared_task
from django.utils import timezone

from comadvisor.connectors import RetryLater
from sales.enums import Network
from social import quotas, services
from social.models import SocialAccount
from social.providers.tripadvisor import CALLS_PER_FETCH
from social.selectors import fetchable_accounts, reviews_due_accounts

# A rate limit longer than this is left to the next daily run.
RATE_LIMIT_RETRY_WITHIN = dt.timedelta(hours=6)

# Per network, the call budget its fetch draws on and the calls one account's fetch makes there.
# The daily jobs release these accounts at the budget's pace: a fetch that had to wait for its
# turn would hold a worker process asleep, and the other networks' fetches would queue behind it.
METRICS_PACE = {Network.GOOGLE: (quotas.GOOGLE_PERFORMANCE, 1)}
REVIEWS_PACE = {
    Network.GOOGLE: (quotas.GOOGLE_BUSINESS, 1),
    Network.TRIPADVISOR: (quotas.TRIPADVISOR, CALLS_PER_FETCH),
}


def _after_rate_limit(task, retry_at: dt.datetime | None) -> None:
    """Run the task again just after a rate limit ends, when that is soon enough."""
    if retry_at is None or task.request.is_eager:
        return
    wait = retry_at - timezone.now()
    if wait <= RATE_LIMIT_RETRY_WITHIN:
        raise task.retry(countdown=max(1, int(wait.total_seconds()) + 1))


def fan_out(task, rows: list[tuple[int, str]], pace: dict) -> int:
    """Queue `task` for each (account id, network): at once, or for the paced networks one after
    the other at their budget's steady rate (social.quotas.pacing)."""
    offsets: dict[str, float] = defaultdict(float)
    for account_id, network in rows:
        countdown = None
        if network in pace:
            budget, calls = pace[network]
            countdown = offsets[network] or None
            offsets[network] += quotas.pacing(budget, calls)
        task.apply_async((account_id,), countdown=countdown)
    return len(rows)


@shared_task(bind=True, max_retries=5, acks_late=True, ignore_result=True)
def fetch_account_metrics(self, account_id: int) -> int:
    account = SocialAccount.objects.select_related("restaurant").get(pk=account_id)
    try:
        outcome = services.metrics_fetch(account=account)
    except RetryLater as error:
        if self.request.is_eager:
            return 0
        raise self.retry(exc=error, countdown=min(60 * 2**self.request.retries, 3600)) from error
    _after_rate_limit(self, outcome.retry_at)
    return outcome.stored


@shared_task(bind=True, max_retries=5, acks_late=True, ignore_result=True)
def fetch_account_reviews(self, account_id: int) -> int:
    account = SocialAccount.objects.select_related("restaurant").get(pk=account_id)
    try:
        outcome = services.reviews_fetch(account=account)
    except RetryLater as error:
        if self.request.is_eager:
            return 0
        raise self.retry(exc=error, countdown=min(60 * 2**self.request.retries, 3600)) from error
    _after_rate_limit(self, outcome.retry_at)
    return outcome.new + outcome.changed


@shared_task(ignore_result=True)
def fetch_metrics() -> int:
    """Daily: one task per account, so the worker's concurrency spreads the calls."""
    return fan_out(fetch_account_metrics, fetchable_accounts(), METRICS_PACE)


@shared_task(ignore_result=True)
def fetch_reviews() -> int:
    """Daily: one task per account of a network with reviews (TripAdvisor: as many locations as
    the monthly call budget pays for today)."""
    return fan_out(fetch_account_reviews, reviews_due_accounts(), REVIEWS_PACE)


@shared_task(acks_late=True, ignore_result=True)
def publish_publication(publication_id: int) -> str:
    """One publication. No Celery retry: a failure that can be retried is put back in the queue
    with its next attempt time, which the every-minute job honours."""
    return services.publication_publish(publication_id=publication_id)


@shared_task(ignore_result=True)
def publish_due_posts() -> int:
    """Every minute: put interrupted publications back in the queue, then publish what is due.
    Each publication is claimed by one conditional UPDATE, so overlapping runs are harmless."""
    services.publications_release_stuck()
    ids = services.publications_due()
    for publication_id in ids:
        publish_publication.delay(publication_id)
    return len(ids)
