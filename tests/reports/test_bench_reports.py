"""The monthly reports benchmark: a run end to end on two reports (its own throw-away database,
the PDFs in a temporary folder), and the limit on the median that fails it."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from reports.management.commands.bench_reports import Command

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(
    r"^2 monthly reports of \d{2}/\d{4} rendered to PDF \(2 generated, 0 failed\): "
    r"median (?P<median>\d+\.\d{3}) s, p95 \d+\.\d{3} s, slowest \d+\.\d{3} s; "
    r"total (?P<total>\d+) s\.$",
    re.MULTILINE,
)


def _bench(*arguments: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    url = urlsplit(settings.DATABASE_URL)
    if url.scheme.startswith("postgres"):
        # Its own database name: the throw-away one is test_<name>, which the suite uses.
        name = url.path.strip("/") + f"_bench{os.environ.get('PYTEST_XDIST_WORKER', '')}"
        env["DATABASE_URL"] = urlunsplit(url._replace(path="/" + name))
    return subprocess.run(
        [sys.executable, "manage.py", "bench_reports", "--reports", "2", *arguments],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_benchmark_renders_the_reports_and_prints_the_median_and_total():
    result = _bench("--limit", "60")

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^2 restaurants, \d+ snapshots, \d+ reviews in", result.stdout, re.M)
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout
    median, total = float(summary["median"]), int(summary["total"])
    # Two reports: the total is at least twice the median (printed rounded to the second).
    assert 0 < median < 60 and total + 0.5 >= 2 * median


def test_a_median_reaching_the_limit_fails_the_benchmark():
    result = _bench("--limit", "0.001")

    assert result.returncode == 1
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout
    assert f"median {summary['median']} s per report reaches the 0.001 s limit" in result.stderr


def test_the_limit_is_one_second_unless_told():
    options = Command().create_parser("manage.py", "bench_reports").parse_args([])

    assert options.limit == 1.0 and options.reports == 500


@pytest.mark.parametrize(
    ("median", "failed", "expected"),
    [
        (0.999, 0, []),
        (1.0, 0, ["median 1.000 s per report reaches the 1 s limit"]),
        (0.5, 2, ["2 report(s) failed"]),
    ],
)
def test_what_fails_a_run(median, failed, expected):
    assert Command._check(median=median, failed=failed, limit=1.0) == expected


def test_a_limit_that_is_not_positive_is_refused():
    with pytest.raises(CommandError, match="--limit must be a positive number of seconds"):
        call_command("bench_reports", "--reports", "1", "--limit", "0")
