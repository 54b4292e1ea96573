"""Celery leaves of the social desk: ids in, a service call, retries with backoff on network
faults. Eagerly (the embedded default) a failure is recorded instead of retried in the request."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from comadvisor.connectors import RetryLater
from social import services
from social.models import SocialAccount
from social.selectors import fetchable_account_ids

# A rate limit longer than this is left to the next daily run.
RATE_LIMIT_RETRY_WITHIN = dt.timedelta(hours=6)


def _after_rate_limit(task, retry_at: dt.datetime | None) -> None:
    """Run the task again just after a rate limit ends, when that is soon enough."""
    if retry_at is None or task.request.is_eager:
        return
    wait = retry_at - timezone.now()
    if wait <= RATE_LIMIT_RETRY_WITHIN:
        raise task.retry(countdown=max(1, int(wait.total_seconds()) + 1))


@shared_task(bind=True, max_retries=5, acks_late=True)
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


@shared_task(bind=True, max_retries=5, acks_late=True)
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


@shared_task
def fetch_metrics() -> int:
    """Daily: one task per account, so the worker's concurrency spreads the calls."""
    ids = fetchable_account_ids()
    for account_id in ids:
        fetch_account_metrics.delay(account_id)
    return len(ids)


@shared_task
def fetch_reviews() -> int:
    ids = fetchable_account_ids()
    for account_id in ids:
        fetch_account_reviews.delay(account_id)
    return len(ids)


@shared_task(acks_late=True)
def publish_publication(publication_id: int) -> str:
    """One publication. No Celery retry: a failure that can be retried is put back in the queue
    with its next attempt time, which the every-minute job honours."""
    return services.publication_publish(publication_id=publication_id)


@shared_task
def publish_due_posts() -> int:
    """Every minute: put interrupted publications back in the queue, then publish what is due.
    Each publication is claimed by one conditional UPDATE, so overlapping runs are harmless."""
    services.publications_release_stuck()
    ids = services.publications_due()
    for publication_id in ids:
        publish_publication.delay(publication_id)
    return len(ids)
