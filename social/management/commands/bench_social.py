"""Benchmark of the social desk, in a throw-away PostgreSQL database, with Redis as the broker.

    manage.py bench_social [--accounts 5000 --latency 0.15 --concurrency N --limit 600
                            --history-restaurants 0 --posts-per-month 8 --runs 30
                            --skip-fetch --skip-pages --keep]

Fetch. A fake Graph / Google / TripAdvisor server on loopback (social.management.fake_platforms)
answers for the accounts (a quarter per network) after `latency` seconds per call and enforces
the platforms' quotas; a Celery worker started for the run (its own queue, `concurrency`
processes) runs the daily metrics and reviews jobs for all of them at once. Two runs:

1. the first fetch, as if every account had been connected the day before: each account's first
   review fetch reads its whole history (a Google location's 5 to 60 reviews, in pages of 50);
2. the daily fetch of the next day, the run the ten-minute target is about: each account's
   previous fetch is moved a day back and the fake platforms now also serve that day's new and
   edited reviews, so every account reads three days of metrics and the reviews written or
   changed since, as the daily jobs do every day after an account's first fetch.

An account counts as done once its metrics and (where the daily job asks for them) its reviews
were fetched successfully during the run; the time is the last success's. TripAdvisor locations
are asked only as far as the monthly call budget allows today (SocialSettings).

The command fails (exit status 1) when in either run a platform refused a call, the busiest
minute (Google) or second (TripAdvisor) went over its quota, TripAdvisor was called more than
today's share of its monthly budget, an account's fetch failed even once, or the fake server
answered an unknown request; and when the daily run left an account not done or took longer
than `limit` seconds.

Pages: two years of daily snapshots for every account (or the first `history-restaurants`
restaurants'), posts over four months, then the social page, the post list and calendar, the
review queue and the connector health page, timed (p50/p95) with their query counts; the social
page must run the same queries over 24 months as over 30 days.
"""

import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, F, Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from comadvisor.bench import percentile, throwaway_database
from crm.enums import RestaurantStatus
from crm.models import Restaurant
from crm.text import normalize_search
from sales.enums import ContractStatus, Network
from sales.models import Contract, ContractTerm, Pack, add_months, first_of_month
from social import quotas, tasks
from social.enums import PostStatus, PublicationState
from social.management import fake_platforms
from social.metrics import desk_metrics_of
from social.models import MetricSnapshot, Post, Publication, Review, ReviewTask, SocialAccount
from social.providers.tripadvisor import monthly_calls
from social.selectors import fetchable_accounts, reviews_due_accounts

NETWORKS = [Network.FACEBOOK, Network.INSTAGRAM, Network.GOOGLE, Network.TRIPADVISOR]
# The networks a post goes to (TripAdvisor takes none).
POST_NETWORKS = [Network.FACEBOOK, Network.INSTAGRAM, Network.GOOGLE]


@dataclass
class Run:
    label: str
    started: dt.datetime
    accounts: int
    reviews_due: int
    elapsed: float = 0.0
    metrics_done: int = 0
    reviews_done: int = 0
    tripadvisor_allowance: int = 0
    traffic: fake_platforms.Traffic = field(default_factory=fake_platforms.Traffic)

    @property
    def complete(self) -> bool:
        return self.metrics_done >= self.accounts and self.reviews_done >= self.reviews_due


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
        parser.add_argument(
            "--limit", type=int, default=600, help="seconds the daily fetch may take"
        )
        parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait per run")
        parser.add_argument(
            "--history-restaurants",
            type=int,
            default=0,
            help="restaurants given two years of snapshots (0: all)",
        )
        parser.add_argument("--posts-per-month", type=int, default=8)
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument("--skip-fetch", action="store_true")
        parser.add_argument("--skip-pages", action="store_true")
        parser.add_argument(
            "--keep", action="store_true", help="keep the throw-away database (to study it)"
        )

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_social needs PostgreSQL (DATABASE_URL): a worker shares it.")
        if not settings.REDIS_URL:
            raise CommandError("bench_social needs Redis (REDIS_URL) as the worker's broker.")
        failures: list[str] = []
        with throwaway_database(keep=options["keep"]):
            self.community_manager = account_services.user_create(
                by=None, username="bench_cm", roles=["community_manager"], password="x"
            )
            self.review_manager = account_services.user_create(
                by=None, username="bench_rm", roles=["review_manager"], password="x"
            )
            self._fill(options["accounts"])
            if not options["skip_fetch"]:
                failures += self._fetch(options)
            if not options["skip_pages"]:
                failures += self._pages(
                    options["history_restaurants"], options["posts_per_month"], options["runs"]
                )
        if options["keep"]:
            self.stdout.write(f"Kept the database {settings.DATABASES['default']['NAME']}.")
        if failures:
            raise CommandError("; ".join(failures))
        self.stdout.write("All targets met.")

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
        self._contracts(ids)
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
        self.stdout.write(
            f"{len(ids)} restaurants under a contract with review management, {accounts} accounts."
        )

    def _contracts(self, restaurant_ids: list[int]) -> None:
        """A running 13-month contract with review management for every restaurant, so new
        reviews open tasks as they do for real clients."""
        pack = Pack.objects.create(
            code="bench-social", name="Social", monthly_price=Decimal("250"),
            networks=[str(network) for network in NETWORKS], posts_per_month=12,
            monthly_report=True, review_management=True,
        )  # fmt: skip
        start = add_months(first_of_month(timezone.localdate()), -2)
        Contract.objects.bulk_create(
            [
                Contract(
                    restaurant_id=pk,
                    start_date=start,
                    duration_months=13,
                    end_date=add_months(start, 13) - dt.timedelta(days=1),
                    status=ContractStatus.ACTIVE,
                    signed_by=self.community_manager,
                )
                for pk in restaurant_ids
            ],
            batch_size=2000,
        )
        ContractTerm.objects.bulk_create(
            [
                ContractTerm(
                    contract_id=contract_id,
                    starts_on=start,
                    pack=pack,
                    monthly_price=pack.monthly_price,
                    posts_per_month=pack.posts_per_month,
                    networks=pack.networks,
                    changed_by=self.community_manager,
                )
                for contract_id in Contract.objects.values_list("pk", flat=True)
            ],
            batch_size=2000,
        )

    @staticmethod
    def _external_id(network: str, restaurant_id: int) -> str:
        if network == Network.GOOGLE:
            return f"accounts/1{restaurant_id:07d}/locations/2{restaurant_id:07d}"
        # fake_platforms.INSTAGRAM_PREFIX: Instagram accounts are numbered 4..., Pages 3...
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

    def _fetch(self, options) -> list[str]:
        platforms = fake_platforms.FakePlatforms(latency=options["latency"])
        platforms.start()
        queue = f"bench-social-{os.getpid()}"
        worker = self._start_worker(platforms, queue, options["concurrency"])
        runs: list[Run] = []
        try:
            self._wait_for_worker(worker, queue)
            # The first fetch sees the platforms as they were a day ago.
            platforms.hold_back = dt.timedelta(days=1)
            runs.append(self._run("First fetch", platforms, queue, worker, options["timeout"]))
            self._report(runs[-1])
            # Make that fetch yesterday's, and let the platforms serve the day since.
            SocialAccount.objects.update(
                last_fetch_at=F("last_fetch_at") - dt.timedelta(days=1),
                last_reviews_at=F("last_reviews_at") - dt.timedelta(days=1),
            )
            platforms.hold_back = dt.timedelta()
            runs.append(self._run("Daily fetch", platforms, queue, worker, options["timeout"]))
            self._report(runs[-1])
        finally:
            self._stop(worker)
            platforms.stop()
            with current_app.connection_for_write() as broker:
                broker.default_channel.queue_purge(queue)
        failures = []
        for run in runs:
            failures += self._check(run, limit=options["limit"] if run is runs[-1] else None)
        return failures

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

    def _run(self, label: str, platforms, queue: str, worker, timeout: int) -> Run:
        """Queue the two daily jobs and wait until every account they ask for succeeded (or the
        timeout): the time is that of the last success."""
        platforms.traffic = fake_platforms.Traffic()
        reviews_due = [pk for pk, _network in reviews_due_accounts()]
        run = Run(
            label=label,
            started=timezone.now(),
            accounts=len(fetchable_accounts()),
            reviews_due=len(reviews_due),
            tripadvisor_allowance=quotas.monthly_allowance_today(
                quotas.TRIPADVISOR_MONTH, limit=monthly_calls()
            ),
        )
        run.traffic = platforms.traffic
        self.stdout.write(
            f"{label}: {run.accounts} accounts for metrics, {run.reviews_due} for reviews."
        )
        clock = time.perf_counter()
        tasks.fetch_metrics.apply_async(queue=queue)
        tasks.fetch_reviews.apply_async(queue=queue)
        deadline, shown = time.monotonic() + timeout, time.monotonic()
        metrics = SocialAccount.objects.filter(last_fetch_at__gte=run.started)
        reviews = SocialAccount.objects.filter(pk__in=reviews_due, last_reviews_at__gte=run.started)
        while time.monotonic() < deadline and worker.poll() is None:
            run.metrics_done, run.reviews_done = metrics.count(), reviews.count()
            if run.complete:
                break
            if time.monotonic() - shown >= 30:
                self.stdout.write(
                    f"  {time.perf_counter() - clock:4.0f} s: metrics {run.metrics_done} / "
                    f"{run.accounts}, reviews {run.reviews_done} / {run.reviews_due}"
                )
                shown = time.monotonic()
            time.sleep(1)
        if run.complete:
            last = SocialAccount.objects.aggregate(
                metrics=Max("last_fetch_at"), reviews=Max("last_reviews_at")
            )
            run.elapsed = (max(last["metrics"], last["reviews"]) - run.started).total_seconds()
        else:
            run.elapsed = time.perf_counter() - clock
        return run

    @staticmethod
    def _stop(worker: subprocess.Popen) -> None:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def _errors(self, run: Run) -> list[tuple[str, str, int]]:
        """(network, error, accounts) of the fetches that failed at least once during the run."""
        return list(
            SocialAccount.objects.filter(last_error_at__gte=run.started)
            .values_list("network", "last_error")
            .annotate(accounts=Count("pk"))
            .order_by("-accounts")
        )

    def _report(self, run: Run) -> None:
        traffic = run.traffic
        write = self.stdout.write
        failed = sum(accounts for _network, _error, accounts in self._errors(run))
        write(
            f"{run.label} of {run.accounts} accounts (metrics and reviews): {run.elapsed:.0f} s "
            f"({run.elapsed / 60:.1f} min); metrics {run.metrics_done} / {run.accounts}, "
            f"reviews {run.reviews_done} / {run.reviews_due} done; {failed} failed at least once; "
            f"{MetricSnapshot.objects.count()} snapshots, {Review.objects.count()} reviews, "
            f"{ReviewTask.objects.filter(opened_at__gte=run.started).count()} review tasks "
            f"opened. Peak parallel calls: {traffic.peak_in_flight}."
        )
        write(f"{'API':22} {'calls':>7} {'busiest':>14} {'quota':>14} {'refused':>8}")
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
                busiest = f"{traffic.meta_usage_peak:.3f} %"
                quota = "Page's 24 h"
            write(f"{api:22} {calls:7d} {busiest:>14} {quota:>14} {traffic.refused.get(api, 0):8d}")
        tripadvisor = len(traffic.calls.get(fake_platforms.TRIPADVISOR, []))
        write(
            f"TripAdvisor: {tripadvisor} calls for today's share of {run.tripadvisor_allowance} of "
            f"the {monthly_calls()} a month ({quotas.monthly_used(quotas.TRIPADVISOR_MONTH)} used "
            f"this month); Meta: the busiest Page used {traffic.meta_usage_peak:.3f} % of its "
            f"24-hour budget ({fake_platforms.META_CALLS_PER_UNIT} calls per engaged user)."
        )
        budgets = ", ".join(
            f"{name} {budget.per_window} per {budget.window:g} s"
            for name, budget in quotas.BUDGETS.items()
        )
        write(f"Call budgets: {budgets}.")
        for network, error, accounts in self._errors(run)[:5]:
            write(f"  {accounts} {network} accounts: {error or '(fetched after a retry)'}")

    def _check(self, run: Run, *, limit: int | None) -> list[str]:
        traffic, failures = run.traffic, []
        refused = sum(traffic.refused.values())
        if refused:
            failures.append(f"{run.label}: the platforms refused {refused} calls")
        for api, (quota, seconds) in fake_platforms.QUOTAS.items():
            busiest = traffic.busiest(api, seconds)
            if busiest > quota:
                failures.append(f"{run.label}: {busiest} {api} calls in {seconds:g} s > {quota}")
        tripadvisor = len(traffic.calls.get(fake_platforms.TRIPADVISOR, []))
        if tripadvisor > run.tripadvisor_allowance:
            failures.append(
                f"{run.label}: {tripadvisor} TripAdvisor calls > today's share "
                f"{run.tripadvisor_allowance}"
            )
        unknown = sum(traffic.errors.values())
        if unknown:
            failures.append(f"{run.label}: the fake platforms answered {unknown} calls with errors")
        failed = sum(accounts for _network, _error, accounts in self._errors(run))
        if failed:
            failures.append(f"{run.label}: {failed} accounts failed at least once")
        if limit is not None:
            if not run.complete:
                failures.append(
                    f"{run.label}: metrics {run.metrics_done} / {run.accounts}, reviews "
                    f"{run.reviews_done} / {run.reviews_due} done when it stopped"
                )
            elif run.elapsed > limit:
                failures.append(f"{run.label}: {run.elapsed:.0f} s > {limit} s")
        return failures

    # --- Pages ---------------------------------------------------------------------------------

    def _pages(self, restaurants: int, posts_per_month: int, runs: int) -> list[str]:
        self._history(restaurants)
        self._posts(posts_per_month)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        restaurant = Restaurant.objects.order_by("pk").first().pk
        month = first_of_month(timezone.localdate())
        events = (
            f"/social/posts/events/?start={month.isoformat()}T00:00:00Z"
            f"&end={add_months(month, 1).isoformat()}T00:00:00Z"
        )
        cm, rm = self.community_manager, self.review_manager
        scenarios = [
            ("social page, 24 months", cm, f"/restaurants/{restaurant}/social/?period=24m"),
            ("social page, 30 days", cm, f"/restaurants/{restaurant}/social/?period=30d"),
            ("post list", cm, "/social/posts/"),
            ("post calendar, a month of events", cm, events),
            ("review queue", rm, "/reviews/"),
            ("review queue, overdue", rm, "/reviews/?overdue=1"),
            ("review queue, negative and unanswered", rm, "/reviews/?negative=1&answered=no"),
            ("review queue, rating 1 on Google", rm, "/reviews/?rating=1&network=google"),
            ("connector health", cm, "/social/health/"),
            ("community manager's home", cm, "/"),
        ]
        write = self.stdout.write
        write(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        queries: dict[str, int] = {}
        for label, user, url in scenarios:
            median, p95, count = self._time(user, url, runs)
            queries[label] = count
            write(f"{label:40} {median:8.1f} {p95:8.1f} {count:8d}")
        long, short = queries["social page, 24 months"], queries["social page, 30 days"]
        if long != short:
            return [f"the social page runs {long} queries over 24 months, {short} over 30 days"]
        return []

    @staticmethod
    def _time(user, url: str, runs: int) -> tuple[float, float, int]:
        client = Client()
        client.force_login(user)
        client.get(url)  # warm-up
        timings, queries = [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
            queries = len(captured.captured_queries)
        return statistics.median(timings), percentile(timings, 0.95), queries

    def _history(self, restaurants: int) -> None:
        """Two years of daily snapshots of every metric each account's network gives, written
        by the database itself (the fetch's own days are kept)."""
        started = time.perf_counter()
        ids = list(Restaurant.objects.order_by("pk").values_list("pk", flat=True))
        if restaurants:
            ids = ids[:restaurants]
        pairs = [
            (str(network), metric) for network in NETWORKS for metric in desk_metrics_of(network)
        ]
        first = timezone.localdate() - dt.timedelta(days=730)
        last = timezone.localdate() - dt.timedelta(days=1)
        values = ", ".join(["(%s, %s)"] * len(pairs))
        sql = f"""
            INSERT INTO {MetricSnapshot._meta.db_table} (account_id, metric, day, value, fetched_at)
            SELECT a.id, m.metric, d.day::date,
                   (a.id %% 500) + (d.day::date - %s::date) * 0.5 + length(m.metric), now()
            FROM {SocialAccount._meta.db_table} a
            JOIN (VALUES {values}) AS m(network, metric) ON m.network = a.network
            CROSS JOIN generate_series(%s::date, %s::date, interval '1 day') AS d(day)
            WHERE a.restaurant_id = ANY(%s)
            ON CONFLICT (account_id, metric, day) DO NOTHING
        """
        flat = [part for pair in pairs for part in pair]
        with connection.cursor() as cursor:
            for offset in range(0, len(ids), 250):
                cursor.execute(sql, [first, *flat, first, last, ids[offset : offset + 250]])
        self.stdout.write(
            f"Two years of daily snapshots for {len(ids)} restaurants "
            f"({MetricSnapshot.objects.count()} rows in all) in "
            f"{time.perf_counter() - started:.0f} s."
        )

    def _posts(self, per_month: int) -> None:
        """`per_month` posts a month per restaurant over the last three months (published) and
        this one (scheduled), each to the restaurant's Facebook, Instagram and Google accounts."""
        started = time.perf_counter()
        now = timezone.now()
        accounts: dict[int, list[int]] = {}
        for pk, restaurant_id in SocialAccount.objects.filter(
            network__in=POST_NETWORKS
        ).values_list("pk", "restaurant_id"):
            accounts.setdefault(restaurant_id, []).append(pk)
        posts = []
        for restaurant_id in accounts:
            for index in range(per_month * 4):
                at = now + dt.timedelta(days=30 * (index / per_month - 3), hours=restaurant_id % 24)
                done = at < now
                posts.append(
                    Post(
                        restaurant_id=restaurant_id,
                        text=f"Menu du jour {index}",
                        status=PostStatus.DONE if done else PostStatus.SCHEDULED,
                        scheduled_at=at,
                        created_by=self.community_manager,
                    )
                )
        Post.objects.bulk_create(posts, batch_size=5000)
        publications = [
            Publication(
                post=post,
                account_id=account_id,
                due_at=post.scheduled_at,
                state=PublicationState.PUBLISHED
                if post.status == PostStatus.DONE
                else PublicationState.SCHEDULED,
                published_at=post.scheduled_at if post.status == PostStatus.DONE else None,
                external_id=f"bench-{post.pk}-{account_id}"
                if post.status == PostStatus.DONE
                else "",
            )
            for post in posts
            for account_id in accounts[post.restaurant_id]
        ]
        Publication.objects.bulk_create(publications, batch_size=5000)
        self.stdout.write(
            f"{len(posts)} posts, {len(publications)} publications in "
            f"{time.perf_counter() - started:.0f} s."
        )
