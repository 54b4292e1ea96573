import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from comadvisor.connectors import RetryLater
from social.models import SocialAccount
from social.selectors import fetchable_account_ids
from social.services import metrics_fetch


class Command(BaseCommand):
    help = (
        "Fetch daily metric snapshots of every social account (or one) for the last days or a "
        "given period. Re-running a day replaces its values."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", type=int, help="one account id")
        parser.add_argument("--since", help="YYYY-MM-DD")
        parser.add_argument("--until", help="YYYY-MM-DD (default: yesterday)")

    def handle(self, *args, account=None, since=None, until=None, **options) -> None:
        try:
            since_day = dt.date.fromisoformat(since) if since else None
            until_day = dt.date.fromisoformat(until) if until else None
        except ValueError as error:
            raise CommandError("dates must be YYYY-MM-DD") from error
        if since_day and until_day is None:
            until_day = dt.date.today() - dt.timedelta(days=1)
        ids = [account] if account else fetchable_account_ids()
        stored = failed = skipped = 0
        for account_obj in SocialAccount.objects.filter(pk__in=ids).select_related("restaurant"):
            try:
                outcome = metrics_fetch(account=account_obj, since=since_day, until=until_day)
            except RetryLater as error:
                failed += 1
                self.stderr.write(f"{account_obj}: {error} (will be retried by the daily job)")
                continue
            if outcome.error:
                failed += 1
                self.stderr.write(f"{account_obj}: {outcome.error}")
            skipped += outcome.skipped
            stored += outcome.stored
        self.stdout.write(
            f"{len(ids)} account(s): {stored} value(s) stored, {failed} failed, {skipped} skipped."
        )
