"""The social benchmark runs end to end (a worker of its own, the fake platforms on loopback, a
throw-away database) on a few accounts. It needs PostgreSQL and Redis, as the command does."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (settings.REDIS_URL and settings.DATABASE_URL.startswith("postgres")),
    reason="the social benchmark needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
)


def test_the_benchmark_fetches_every_account_within_the_quotas():
    url = urlsplit(settings.DATABASE_URL)
    # Its own database name: the throw-away one is test_<name>, apart from the suite's.
    name = url.path.strip("/") + f"_bench{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path="/" + name))}
    command = [sys.executable, "manage.py", "bench_social", "--accounts", "12", "--latency",
               "0.01", "--concurrency", "2", "--history-restaurants", "1", "--runs", "2"]  # fmt: skip

    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Daily fetch of 12 accounts" in out
    assert "12 done, 0 with an error" in out
    assert "social page, 24 months (community manager)" in out
    google = next(line for line in out.splitlines() if line.startswith("google-performance"))
    # 3 locations: 3 calls, none refused.
    assert google.split()[1] == "3" and google.split()[-1] == "0"
