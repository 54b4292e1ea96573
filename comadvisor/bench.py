"""What the benchmark commands share: a throw-away database beside the configured one, and the
timing of pages (p50/p95 server time and query count)."""

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment


@contextmanager
def throwaway_database(*, keep: bool = False) -> Iterator[None]:
    """Create (or, with `keep`, reuse) the test database and work in it; drop it afterwards
    unless `keep`. The configured database is never touched."""
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep)
    try:
        yield
    finally:
        if not keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def time_pages(write: Callable[[str], None], scenarios: list[tuple], runs: int) -> None:
    """Request each (label, user, url) `runs` times after a warm-up, and write one line per page:
    p50 and p95 in milliseconds and the queries of one request."""
    write(f"{'page':48} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, user, url in scenarios:
        client = Client()
        client.force_login(user)
        client.get(url)  # warm-up
        timings, queries = [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(captured.captured_queries)
        write(
            f"{label:48} {statistics.median(timings):8.1f} {percentile(timings, 0.95):8.1f} "
            f"{queries:8d}"
        )
