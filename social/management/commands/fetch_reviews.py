from django.core.management.base import BaseCommand

from comadvisor.connectors import RetryLater
from social.models import SocialAccount
from social.selectors import fetchable_account_ids
from social.services import reviews_fetch


class Command(BaseCommand):
    help = "Fetch new and changed reviews of every social account (or one) and open review tasks."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", type=int, help="one account id")
        parser.add_argument("--full", action="store_true", help="everything, not only the news")

    def handle(self, *args, account=None, full=False, **options) -> None:
        ids = [account] if account else fetchable_account_ids()
        new = changed = failed = 0
        for account_obj in SocialAccount.objects.filter(pk__in=ids).select_related("restaurant"):
            try:
                outcome = reviews_fetch(account=account_obj, full=full)
            except RetryLater as error:
                failed += 1
                self.stderr.write(f"{account_obj}: {error} (will be retried by the daily job)")
                continue
            if outcome.error:
                failed += 1
                self.stderr.write(f"{account_obj}: {outcome.error}")
            new += outcome.new
            changed += outcome.changed
        self.stdout.write(
            f"{len(ids)} account(s): {new} new review(s), {changed} changed, {failed} failed."
        )
