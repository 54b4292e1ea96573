"""Create the month's report drafts and, with --generate, render their PDFs.

    manage.py monthly_reports [--month YYYY-MM] [--generate]

The month defaults to the one that just ended. Running it twice creates no second draft.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports import services
from reports.models import MonthlyReport, ReportStatus
from sales.models import add_months, first_of_month, parse_month


class Command(BaseCommand):
    help = "Create the monthly report drafts of a month (and generate their PDFs)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: last month)")
        parser.add_argument("--generate", action="store_true", help="render the PDFs too")

    def handle(self, *args, month=None, generate=False, **options) -> None:
        default = add_months(first_of_month(timezone.localdate()), -1)
        chosen = parse_month(month, None) if month else default
        if chosen is None:
            raise CommandError("--month must be YYYY-MM")
        created = services.month_drafts_create(month=chosen)
        self.stdout.write(f"{chosen:%Y-%m}: {len(created)} draft(s) created.")
        if not generate:
            return
        reports = (
            MonthlyReport.objects.current()
            .filter(month=chosen)
            .unsent()
            .exclude(status=ReportStatus.GENERATED)
            .select_related("restaurant")
        )
        made = failed = 0
        for report in reports:
            report = services.report_generate(report=report)
            if report.status == ReportStatus.GENERATED:
                made += 1
            else:
                failed += 1
                self.stderr.write(f"{report}: {report.error_message}")
        self.stdout.write(f"{made} PDF(s) generated, {failed} failed.")
