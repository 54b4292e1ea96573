"""The loop both fetch commands run: one account or every fetchable one, failures reported and
counted, the others going on."""

from collections.abc import Callable, Iterable

from django.core.management.base import BaseCommand

from comadvisor.connectors import RetryLater
from social.models import SocialAccount
from social.selectors import fetchable_account_ids


def fetch_each(
    command: BaseCommand,
    *,
    account_id: int | None,
    fetch: Callable[[SocialAccount], object],
    every: Callable[[], Iterable[int]] = fetchable_account_ids,
) -> tuple[int, list, int]:
    """(accounts asked, outcomes, failures) of `fetch` over one account or those `every` gives
    (the daily job's own choice)."""
    ids = [account_id] if account_id else list(every())
    outcomes, failed = [], 0
    for account in SocialAccount.objects.filter(pk__in=ids).select_related("restaurant"):
        try:
            outcome = fetch(account)
        except RetryLater as error:
            failed += 1
            command.stderr.write(f"{account}: {error} (will be retried by the daily job)")
            continue
        if outcome.error:
            failed += 1
            command.stderr.write(f"{account}: {outcome.error}")
        outcomes.append(outcome)
    return len(ids), outcomes, failed
