import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from social.management.fetching import fetch_each
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
            until_day = timezone.localdate() - dt.timedelta(days=1)
        asked, outcomes, failed = fetch_each(
            self,
            account_id=account,
            fetch=lambda item: metrics_fetch(account=item, since=since_day, until=until_day),
        )
        stored = sum(outcome.stored for outcome in outcomes)
        skipped = sum(outcome.skipped for outcome in outcomes)
        self.stdout.write(
            f"{asked} account(s): {stored} value(s) stored, {failed} failed, {skipped} skipped."
        )
