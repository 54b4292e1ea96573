from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sales.services import invoices_bill_month


class Command(BaseCommand):
    help = (
        "Invoice the contract months starting in a month (default: this month). Safe to run twice."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", help="YYYY-MM")

    def handle(self, *args, month: str | None = None, **options) -> None:
        try:
            day = date.fromisoformat(f"{month}-01") if month else timezone.localdate()
        except ValueError as error:
            raise CommandError("--month must be YYYY-MM") from error
        invoices = invoices_bill_month(month=day)
        total = sum(invoice.amount for invoice in invoices)
        self.stdout.write(f"{day:%Y-%m}: {len(invoices)} invoice(s) created, {total} €.")
