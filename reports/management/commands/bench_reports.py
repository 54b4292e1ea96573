"""Benchmark of the monthly report PDFs, in a throw-away database.

    manage.py bench_reports [--reports 500] [--limit 1.0]

Fills `reports` client restaurants with two social accounts each, thirteen months of daily
snapshots, a month of reviews with their answers and a comment, then generates every report (the
indicators frozen, the charts drawn, the PDF rendered and stored) one after the other, as a worker
does, and prints the median, the 95th percentile and the total. It fails (exit status 1) when a
report fails or when the median reaches `--limit` seconds (the issue's target: under 1 s).
"""

import datetime as dt
import random
import statistics
import tempfile
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from comadvisor.bench import percentile, throwaway_database
from crm.enums import RestaurantStatus
from crm.models import Restaurant
from crm.text import normalize_search
from reports import services
from reports.models import MonthlyReport, ReportStatus
from sales.enums import Network
from sales.models import add_months, first_of_month
from social.models import MetricSnapshot, Review, ReviewTask, SocialAccount, TaskState

METRICS = {
    Network.FACEBOOK: ["followers", "reach", "interactions"],
    Network.GOOGLE: ["bookings", "calls", "views"],
}
COMMENTS = (
    "<p>Un mois <strong>solide</strong> : l'audience progresse, les avis restent très bons.</p>"
    "<ul><li>Plus de photos du plat du jour</li><li>Relancer les avis après le brunch</li></ul>"
)


class Command(BaseCommand):
    help = "Generate monthly report PDFs at scale and print the time per report."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reports", type=int, default=500)
        parser.add_argument(
            "--limit",
            type=float,
            default=1.0,
            help="fail when the median time per report reaches this many seconds (default 1.0)",
        )

    def handle(self, *args, **options) -> None:
        count = options["reports"]
        if count < 1:
            raise CommandError("--reports must be at least 1")
        if options["limit"] <= 0:
            raise CommandError("--limit must be a positive number of seconds")
        # The PDFs go to a temporary folder, removed afterwards, never to the real media.
        with (
            throwaway_database(),
            tempfile.TemporaryDirectory() as media,
            override_settings(MEDIA_ROOT=media),
        ):
            month = add_months(first_of_month(timezone.localdate()), -1)
            self._fill(count, month)
            failures = self._measure(month, limit=options["limit"])
        if failures:
            raise CommandError("; ".join(failures))

    def _fill(self, count: int, month: dt.date) -> None:
        started = time.perf_counter()
        rng = random.Random(11)
        Restaurant.objects.bulk_create(
            Restaurant(
                name=f"Brasserie {index}",
                search_name=normalize_search(f"Brasserie {index}"),
                city="Lyon",
                search_city="lyon",
                status=RestaurantStatus.CLIENT,
                client_code=f"R{index:06d}",
            )
            for index in range(count)
        )
        restaurants = list(Restaurant.objects.order_by("pk"))
        SocialAccount.objects.bulk_create(
            SocialAccount(
                restaurant=restaurant,
                network=network,
                external_id=f"{network}-{restaurant.pk}",
                name=restaurant.name,
                demo=True,
            )
            for restaurant in restaurants
            for network in METRICS
        )
        first = add_months(month, -12)
        days = (add_months(month, 1) - first).days
        batch = []
        for account in SocialAccount.objects.all():
            level = rng.randint(300, 5000)
            for offset in range(days):
                day = first + dt.timedelta(days=offset)
                for metric in METRICS[account.network]:
                    if metric == "followers":
                        level += rng.randint(-2, 6)
                        value = level
                    else:
                        value = rng.randint(0, 80)
                    batch.append(
                        MetricSnapshot(account=account, metric=metric, day=day, value=value)
                    )
            if len(batch) >= 50_000:
                MetricSnapshot.objects.bulk_create(batch, batch_size=10_000)
                batch = []
        MetricSnapshot.objects.bulk_create(batch, batch_size=10_000)
        google = {
            account.restaurant_id: account
            for account in SocialAccount.objects.filter(network=Network.GOOGLE)
        }
        reviews = []
        for restaurant in restaurants:
            for number in range(rng.randint(3, 15)):
                written = timezone.make_aware(
                    dt.datetime.combine(month + dt.timedelta(days=rng.randint(0, 27)), dt.time(12))
                )
                reviews.append(
                    Review(
                        account=google[restaurant.pk], restaurant=restaurant, network=Network.GOOGLE,
                        external_id=f"r{restaurant.pk}-{number}", rating=rng.choice([5, 5, 4, 4, 3, 2, 1]),
                        author="Camille", written_at=written, updated_at=written,
                        replied_at=written + dt.timedelta(hours=rng.randint(1, 48)),
                    )
                )  # fmt: skip
        Review.objects.bulk_create(reviews, batch_size=5000)
        ReviewTask.objects.bulk_create(
            (
                ReviewTask(
                    review=review, opened_at=review.written_at, state=TaskState.ANSWERED,
                    due_at=review.written_at + dt.timedelta(hours=24), answered_at=review.replied_at,
                )
                for review in Review.objects.all()
            ),
            batch_size=5000,
        )  # fmt: skip
        MonthlyReport.objects.bulk_create(
            MonthlyReport(
                restaurant=restaurant, month=month, deadline=add_months(month, 1).replace(day=10),
                comments=COMMENTS, recipients="owner@example.com",
            )
            for restaurant in restaurants
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"{count} restaurants, {MetricSnapshot.objects.count()} snapshots, {len(reviews)} reviews "
            f"in {time.perf_counter() - started:.0f} s ({connection.vendor})."
        )

    def _measure(self, month: dt.date, *, limit: float) -> list[str]:
        timings = []
        started = time.perf_counter()
        failed = 0
        for report in MonthlyReport.objects.select_related("restaurant").order_by("pk"):
            clock = time.perf_counter()
            report = services.report_generate(report=report)
            timings.append(time.perf_counter() - clock)
            failed += report.status != ReportStatus.GENERATED
        total = time.perf_counter() - started
        pages = MonthlyReport.objects.filter(status=ReportStatus.GENERATED).count()
        median = statistics.median(timings)
        self.stdout.write(
            f"{len(timings)} monthly reports of {month:%m/%Y} rendered to PDF ({pages} generated, "
            f"{failed} failed): median {median:.3f} s, p95 "
            f"{percentile(timings, 0.95):.3f} s, slowest {max(timings):.3f} s; total {total:.0f} s."
        )
        return self._check(median=median, failed=failed, limit=limit)

    @staticmethod
    def _check(*, median: float, failed: int, limit: float) -> list[str]:
        """What fails the run: a report not generated, a median at or over `limit` seconds."""
        failures = []
        if failed:
            failures.append(f"{failed} report(s) failed")
        if median >= limit:
            failures.append(f"median {median:.3f} s per report reaches the {limit:g} s limit")
        return failures
