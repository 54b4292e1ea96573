from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sales.services import contracts_end_expired


class Command(BaseCommand):
    help = (
        "End the active and suspended contracts whose last day is before a day (default: "
        "today), on their end date; restaurants left without a running contract become former "
        "clients. Safe to run twice."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--today", help="YYYY-MM-DD: the day the job runs (default: today)")

    def handle(self, *args, today: str | None = None, **options) -> None:
        try:
            day = date.fromisoformat(today) if today else timezone.localdate()
        except ValueError as error:
            raise CommandError("--today must be YYYY-MM-DD") from error
        ended = contracts_end_expired(today=day)
        self.stdout.write(f"{day:%Y-%m-%d}: {len(ended)} contract(s) ended.")
        for contract in ended:
            self.stdout.write(f"  {contract.restaurant} ({contract.end_date:%Y-%m-%d})")
