"""Benchmark of the social desk, in a throw-away PostgreSQL database, with Redis as the broker.

    manage.py bench_social [--accounts 5000 --latency 0.15 --concurrency N
                            --history-restaurants 20 --runs 30 --skip-fetch --skip-pages]

Fetch: a fake Graph / Google / TripAdvisor server on loopback (social.management.fake_platforms)
answers for the accounts (a quarter per network) after `latency` seconds per call; a Celery
worker started for the run (its own queue, `concurrency` processes) runs the daily metrics and
reviews jobs for all of them at once. Prints the wall time, the calls per API, and the busiest
minute (Google) or second (TripAdvisor) against the platforms' quotas, and Meta's highest usage.

Pages: two years of daily snapshots for some restaurants, then the social page over 24 months,
the review queue and the post list, timed (p50/p95) with their query counts.
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from accounts import services as account_services
from comadvisor.bench import throwaway_database, time_pages
from crm.enums import RestaurantStatus
from crm.models import Restaurant
from crm.text import normalize_search
from sales.enums import Network
from social import tasks
from social.management import fake_platforms
from social.models import MetricSnapshot, SocialAccount
from social.quotas import BUDGETS

NETWORKS = [Network.FACEBOOK, Network.INSTAGRAM, Network.GOOGLE, Network.TRIPADVISOR]
HISTORY_METRICS = ["followers", "reach", "interactions", "bookings", "calls", "website"]


class Command(BaseCommand):
    help = "Time the daily social fetch against a fake platform server, and the social pages."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--accounts", type=int, default=5000)
        parser.add_argument("--latency", type=float, default=0.15, help="seconds per call")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.CELERY_WORKER_CONCURRENCY,
            help="worker processes (default: the worker's setting)",
        )
        parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait at most")
        parser.add_argument("--history-restaurants", type=int, default=20)
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument("--skip-fetch", action="store_true")
        parser.add_argument("--skip-pages", action="store_true")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_social needs PostgreSQL (DATABASE_URL): a worker shares it.")
        if not settings.REDIS_URL:
            raise CommandError("bench_social needs Redis (REDIS_URL) as the worker's broker.")
        with throwaway_database():
            self.community_manager = account_services.user_create(
                by=None, username="bench_cm", roles=["community_manager"], password="x"
            )
            self.review_manager = account_services.user_create(
                by=None, username="bench_rm", roles=["review_manager"], password="x"
            )
            self._fill(options["accounts"])
            if not options["skip_fetch"]:
                self._fetch(options)
            if not options["skip_pages"]:
                self._pages(options["history_restaurants"], options["runs"])

    # --- Data ----------------------------------------------------------------------------------

    def _fill(self, accounts: int) -> None:
        restaurants = [
            Restaurant(
                name=f"Bistrot {index}",
                search_name=normalize_search(f"Bistrot {index}"),
                city="Lyon",
                search_city="lyon",
                status=RestaurantStatus.CLIENT,
                client_code=f"B{index:06d}",
                community_manager=self.community_manager,
                review_manager=self.review_manager,
            )
            for index in range(-(-accounts // len(NETWORKS)))
        ]
        Restaurant.objects.bulk_create(restaurants, batch_size=2000)
        ids = list(Restaurant.objects.order_by("pk").values_list("pk", flat=True))
        rows = []
        for index in range(accounts):
            restaurant_id = ids[index // len(NETWORKS)]
            network = NETWORKS[index % len(NETWORKS)]
            rows.append(
                SocialAccount(
                    restaurant_id=restaurant_id,
                    network=network,
                    external_id=self._external_id(network, restaurant_id),
                    name=f"{network} {restaurant_id}",
                    credentials=self._credentials(network, restaurant_id),
                )
            )
        SocialAccount.objects.bulk_create(rows, batch_size=1000)
        self.stdout.write(f"{len(ids)} restaurants, {accounts} accounts.")

    @staticmethod
    def _external_id(network: str, restaurant_id: int) -> str:
        if network == Network.GOOGLE:
            return f"accounts/1{restaurant_id:07d}/locations/2{restaurant_id:07d}"
        prefix = {Network.FACEBOOK: 3, Network.INSTAGRAM: 4, Network.TRIPADVISOR: 5}[network]
        return f"{prefix}{restaurant_id:09d}"

    @staticmethod
    def _credentials(network: str, restaurant_id: int) -> str:
        if network in (Network.FACEBOOK, Network.INSTAGRAM):
            return json.dumps({"access_token": f"bench-page-token-{restaurant_id}"})
        if network == Network.GOOGLE:
            # A token still valid: no refresh at Google's OAuth endpoint, which is not faked (a
            # real run refreshes it once a day per account, outside the two APIs' quotas).
            return json.dumps(
                {
                    "token": f"bench-google-token-{restaurant_id}",
                    "expiry": "2099-01-01T00:00:00Z",
                    "refresh_token": "bench-refresh",
                    "client_id": "bench-client",
                    "client_secret": "bench-secret",
                }
            )
        return ""

    # --- Fetch ---------------------------------------------------------------------------------

    def _fetch(self, options) -> None:
        platforms = fake_platforms.FakePlatforms(latency=options["latency"])
        platforms.start()
        queue = f"bench-social-{os.getpid()}"
        worker = self._start_worker(platforms, queue, options["concurrency"])
        try:
            self._wait_for_worker(worker, queue)
            count = SocialAccount.objects.count()
            started = timezone.now()
            clock = time.perf_counter()
            tasks.fetch_metrics.apply_async(queue=queue)
            tasks.fetch_reviews.apply_async(queue=queue)
            done = self._wait_until_done(started, count, options["timeout"], worker)
            elapsed = time.perf_counter() - clock
        finally:
            self._stop(worker)
            platforms.stop()
            with current_app.connection_for_write() as broker:
                broker.default_channel.queue_purge(queue)
        self._report_fetch(platforms.traffic, count, done, elapsed, options)

    def _start_worker(self, platforms, queue: str, concurrency: int) -> subprocess.Popen:
        database = settings.DATABASES["default"]
        url = urlsplit(settings.DATABASE_URL)
        env = {
            **os.environ,
            **platforms.urls,
            "DATABASE_URL": urlunsplit(url._replace(path="/" + database["NAME"])),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_QUEUE": queue,
            "WORKER_CONCURRENCY": str(concurrency),
            "TRIPADVISOR_API_KEY": "bench-key",
            # The run's own cache keys: its quota counters start empty.
            "CACHE_KEY_PREFIX": queue,
        }
        env.pop("PYTEST_XDIST_WORKER", None)
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "comadvisor",
            "worker",
            "--loglevel=warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{queue}@%h",
        ]
        self.stdout.write(
            f"Worker: {concurrency} processes on queue {queue}; fake platforms at "
            f"{platforms.urls['GRAPH_API_URL']} ({platforms.latency * 1000:.0f} ms per call)."
        )
        return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)

    def _wait_for_worker(self, worker: subprocess.Popen, queue: str) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise CommandError("the benchmark worker stopped at start")
            replies = current_app.control.ping(timeout=1.0)
            if any(name.startswith(queue) for reply in replies for name in reply):
                return
        raise CommandError("the benchmark worker did not answer within 90 s")

    def _wait_until_done(
        self, started: dt.datetime, count: int, timeout: int, worker: subprocess.Popen
    ) -> int:
        """Accounts whose metrics and reviews were both fetched (or failed) since `started`."""
        metrics = Q(last_fetch_at__gte=started) | Q(last_error_at__gte=started)
        reviews = Q(last_reviews_at__gte=started) | Q(last_error_at__gte=started)
        deadline = time.monotonic() + timeout
        done, shown = 0, time.monotonic()
        while time.monotonic() < deadline and worker.poll() is None:
            done = SocialAccount.objects.filter(metrics & reviews).count()
            if done >= count:
                return done
            if time.monotonic() - shown >= 30:
                self.stdout.write(f"  {done} / {count} accounts done")
                shown = time.monotonic()
            time.sleep(1)
        return done

    @staticmethod
    def _stop(worker: subprocess.Popen) -> None:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def _report_fetch(self, traffic, count: int, done: int, elapsed: float, options) -> None:
        failed = SocialAccount.objects.exclude(last_error="").count()
        snapshots = MetricSnapshot.objects.count()
        reviews = SocialAccount.objects.filter(reviews__isnull=False).distinct().count()
        write = self.stdout.write
        write(
            f"Daily fetch of {count} accounts (metrics and reviews): {elapsed:.0f} s "
            f"({elapsed / 60:.1f} min), {done} done, {failed} with an error; {snapshots} snapshots "
            f"stored, reviews for {reviews} accounts. Peak parallel calls: "
            f"{traffic.peak_in_flight}."
        )
        write(f"{'API':22} {'calls':>7} {'busiest':>14} {'quota':>10} {'refused':>8}")
        for api in (
            fake_platforms.GRAPH,
            fake_platforms.GOOGLE_PERFORMANCE,
            fake_platforms.GOOGLE_BUSINESS,
            fake_platforms.TRIPADVISOR,
        ):
            calls = len(traffic.calls.get(api, []))
            if api in fake_platforms.QUOTAS:
                limit, seconds = fake_platforms.QUOTAS[api]
                unit = "min" if seconds == 60 else "s"
                busiest = f"{traffic.busiest(api, seconds)} / {unit}"
                quota = f"{limit} / {unit}"
            else:
                busiest = f"{traffic.meta_usage_peak:.1f} % use"
                quota = "< 90 %"
            write(f"{api:22} {calls:7d} {busiest:>14} {quota:>10} {traffic.refused.get(api, 0):8d}")
        budgets = ", ".join(
            f"{name} {budget.per_window} per {budget.window:g} s"
            for name, budget in BUDGETS.items()
        )
        write(f"Call budgets: {budgets}.")
        errors = (
            SocialAccount.objects.exclude(last_error="")
            .values_list("network", "last_error")
            .annotate(accounts=Count("pk"))
            .order_by("-accounts")[:5]
        )
        for network, error, accounts in errors:
            write(f"  {accounts} {network} accounts: {error}")
        if done < count:
            raise CommandError(f"only {done} of {count} accounts were fetched in time")

    # --- Pages ---------------------------------------------------------------------------------

    def _pages(self, restaurants: int, runs: int) -> None:
        started = time.perf_counter()
        first = timezone.localdate() - dt.timedelta(days=730)
        accounts = list(
            SocialAccount.objects.filter(
                restaurant__in=Restaurant.objects.order_by("pk")[:restaurants]
            )
        )
        MetricSnapshot.objects.filter(account__in=accounts).delete()
        batch = []
        for account in accounts:
            for offset in range(730):
                day = first + dt.timedelta(days=offset)
                for metric in HISTORY_METRICS:
                    batch.append(
                        MetricSnapshot(
                            account=account, metric=metric, day=day, value=offset + len(metric)
                        )
                    )
            if len(batch) >= 50_000:
                MetricSnapshot.objects.bulk_create(batch, batch_size=10_000)
                batch = []
        MetricSnapshot.objects.bulk_create(batch, batch_size=10_000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"Two years of daily snapshots for {len(accounts)} accounts "
            f"({MetricSnapshot.objects.count()} rows in all) in "
            f"{time.perf_counter() - started:.0f} s."
        )
        restaurant = accounts[0].restaurant_id
        scenarios = [
            (
                "social page, 24 months (community manager)",
                self.community_manager,
                f"/restaurants/{restaurant}/social/?period=24m",
            ),
            (
                "social page, this month (community manager)",
                self.community_manager,
                f"/restaurants/{restaurant}/social/",
            ),
            ("post list (community manager)", self.community_manager, "/social/posts/"),
            ("review queue (review manager)", self.review_manager, "/reviews/"),
            ("connector health (community manager)", self.community_manager, "/social/health/"),
        ]
        time_pages(self.stdout.write, scenarios, runs)
