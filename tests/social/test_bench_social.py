"""The social benchmark: its pass/fail check, and a run end to end (a worker of its own, the fake
platforms on loopback, a throw-away database) on a few accounts, which needs PostgreSQL and
Redis as the command does."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.utils import timezone

from social.management import fake_platforms
from social.management.commands.bench_social import Command, Run
from tests.social.conftest import make_account

ROOT = Path(__file__).resolve().parents[2]

needs_postgresql_and_redis = pytest.mark.skipif(
    not (settings.REDIS_URL and settings.DATABASE_URL.startswith("postgres")),
    reason="the social benchmark needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
)


def _run(**fields) -> Run:
    defaults = {
        "label": "Daily fetch",
        "started": timezone.now() - dt.timedelta(minutes=5),
        "accounts": 4,
        "reviews_due": 3,
        "elapsed": 200.0,
        "metrics_done": 4,
        "reviews_done": 3,
        "tripadvisor_allowance": 10,
    }
    return Run(**(defaults | fields))


def _calls(run: Run, api: str, count: int, seconds: float) -> None:
    run.traffic.calls[api] = [index * seconds / count for index in range(count)]


@pytest.mark.django_db
def test_a_run_within_every_target_passes():
    run = _run()
    _calls(run, fake_platforms.GOOGLE_PERFORMANCE, 300, 60)
    _calls(run, fake_platforms.TRIPADVISOR, 10, 1)

    assert Command()._check(run, limit=600) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"elapsed": 601.0}, "Daily fetch: 601 s > 600 s"),
        ({"reviews_done": 2}, "reviews 2 / 3 done when it stopped"),
        ({"metrics_done": 3}, "metrics 3 / 4"),
    ],
)
def test_a_run_too_slow_or_incomplete_fails(change, message):
    failures = Command()._check(_run(**change), limit=600)

    assert len(failures) == 1 and message in failures[0]


@pytest.mark.django_db
def test_the_first_fetch_is_not_held_to_the_time_limit():
    assert Command()._check(_run(label="First fetch", elapsed=2000.0), limit=None) == []


@pytest.mark.django_db
def test_refused_calls_busy_windows_and_overspent_budgets_fail():
    run = _run()
    run.traffic.refused[fake_platforms.GRAPH] = 2
    _calls(run, fake_platforms.GOOGLE_BUSINESS, 301, 59)
    _calls(run, fake_platforms.TRIPADVISOR, 11, 30)
    run.traffic.errors[fake_platforms.GOOGLE_PERFORMANCE] = 1

    failures = Command()._check(run, limit=600)

    assert failures == [
        "Daily fetch: the platforms refused 2 calls",
        "Daily fetch: 301 google-business calls in 60 s > 300",
        "Daily fetch: 11 TripAdvisor calls > today's share 10",
        "Daily fetch: the fake platforms answered 1 calls with errors",
    ]


def test_an_account_that_failed_once_fails_the_run(bistro):
    run = _run()
    account = make_account(bistro, "google", demo=False)
    account.last_error_at = timezone.now()
    account.last_error = "Google error 503"
    account.save()
    # A failure before the run does not count.
    make_account(bistro, "facebook", last_error_at=run.started - dt.timedelta(seconds=1))

    assert Command()._check(run, limit=600) == ["Daily fetch: 1 accounts failed at least once"]


@needs_postgresql_and_redis
def test_the_benchmark_fetches_every_account_within_the_quotas():
    url = urlsplit(settings.DATABASE_URL)
    # Its own database name: the throw-away one is test_<name>, apart from the suite's.
    name = url.path.strip("/") + f"_bench{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path="/" + name))}
    command = [sys.executable, "manage.py", "bench_social", "--accounts", "12", "--latency",
               "0.01", "--concurrency", "2", "--history-restaurants", "1", "--runs", "2",
               "--posts-per-month", "1"]  # fmt: skip

    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "All targets met." in out
    daily = out[out.index("Daily fetch of 12 accounts") :]
    assert "metrics 12 / 12, reviews 9 / 9 done; 0 failed at least once" in daily
    google = next(line for line in daily.splitlines() if line.startswith("google-performance"))
    # 3 locations: 3 calls, none refused.
    assert google.split()[1] == "3" and google.split()[-1] == "0"
    assert "social page, 24 months" in out
