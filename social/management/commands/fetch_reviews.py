from django.core.management.base import BaseCommand

from social.management.fetching import fetch_each
from social.selectors import reviews_due_accounts
from social.services import reviews_fetch


class Command(BaseCommand):
    help = (
        "Fetch new and changed reviews of the accounts the daily job would (or one) and open "
        "review tasks."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", type=int, help="one account id")
        parser.add_argument("--full", action="store_true", help="everything, not only the news")

    def handle(self, *args, account=None, full=False, **options) -> None:
        asked, outcomes, failed = fetch_each(
            self,
            account_id=account,
            fetch=lambda item: reviews_fetch(account=item, full=full),
            every=lambda: [pk for pk, _network in reviews_due_accounts()],
        )
        new = sum(outcome.new for outcome in outcomes)
        changed = sum(outcome.changed for outcome in outcomes)
        self.stdout.write(
            f"{asked} account(s): {new} new review(s), {changed} changed, {failed} failed."
        )
