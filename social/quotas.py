"""Call budgets that keep the connectors inside the platforms' quotas (SOCIAL_APIS.md), shared by
every worker process through the cache (Redis in production; the embedded default runs tasks in
one process, where the local-memory cache is enough).

Two kinds:
- a budget of calls per period (Google: 300 requests a minute per API, 10 edits a minute per
  profile; TripAdvisor: 50 requests a second). The period is cut into fixed windows, each allowed
  limit // (windows + 1) calls: a sliding period overlaps at most windows + 1 of them, so no
  sliding period ever holds more than the limit. A caller over the budget sleeps until the next
  window; one that would wait longer than `max_wait` gets RateLimited instead.
- a pause (Meta): Graph gives no fixed rate but reports its usage in response headers; when a
  quota reaches USAGE_HIGH percent, calls under that quota (the app, or one Page's business use
  case) pause until Meta says access is regained, and every worker sees the pause.
"""

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from comadvisor.connectors import RateLimited


@dataclass(frozen=True)
class Budget:
    limit: int
    period: float
    windows: int

    @property
    def window(self) -> float:
        return self.period / self.windows

    @property
    def per_window(self) -> int:
        return max(1, self.limit // (self.windows + 1))


GOOGLE_PERFORMANCE = "google-performance"
GOOGLE_BUSINESS = "google-business"
GOOGLE_EDITS = "google-edits"
TRIPADVISOR = "tripadvisor"

# Budget name (before any ":" qualifier) -> budget. 300 a minute in 2-second windows of 9 calls:
# at most 279 in any minute. 10 edits a minute per profile in 10-second windows of 1. 50 a second
# in quarter-second windows of 10: at most 50 in any second.
BUDGETS: dict[str, Budget] = {
    GOOGLE_PERFORMANCE: Budget(limit=300, period=60, windows=30),
    GOOGLE_BUSINESS: Budget(limit=300, period=60, windows=30),
    GOOGLE_EDITS: Budget(limit=10, period=60, windows=6),
    TRIPADVISOR: Budget(limit=50, period=1, windows=4),
}

# The cache version of every key below (tests give each test its own).
CACHE_VERSION = 1

# A worker waits at most this long for its turn before giving the call up as rate limited.
MAX_WAIT = 120.0


def budget_of(name: str) -> Budget:
    return BUDGETS[name.split(":", 1)[0]]


def acquire(
    name: str,
    *,
    max_wait: float = MAX_WAIT,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Take one call from the budget `name` ("google-edits:locations/1" for a per-profile one),
    waiting for a window with room left. Returns the seconds waited."""
    budget = budget_of(name)
    waited = 0.0
    while True:
        now = clock()
        index = int(now // budget.window)
        key = f"quota:{name}:{index}"
        cache.add(key, 0, timeout=int(budget.window * 2) + 2, version=CACHE_VERSION)
        try:
            used = cache.incr(key, version=CACHE_VERSION)
        except ValueError:
            # The window's counter expired between add and incr: take the next turn afresh.
            continue
        if used <= budget.per_window:
            return waited
        # Wake a little after the window opens, spread so the waiting workers do not all race.
        pause = (index + 1) * budget.window - now + random.uniform(0, budget.window / 4)
        if waited + pause > max_wait:
            until = timezone.now() + dt.timedelta(seconds=pause)
            raise RateLimited(f"call budget {name} exhausted", until)
        sleep(pause)
        waited += pause


def pause(name: str, until: dt.datetime) -> None:
    """Hold every call under `name` until `until` (a later pause already set is kept)."""
    current = paused_until(name)
    if current is not None and current >= until:
        return
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
    cache.set(f"quota-pause:{name}", until.timestamp(), timeout=seconds, version=CACHE_VERSION)


def paused_until(name: str) -> dt.datetime | None:
    stamp = cache.get(f"quota-pause:{name}", version=CACHE_VERSION)
    if stamp is None:
        return None
    until = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
    return until if until > timezone.now() else None


def check_paused(*names: str) -> None:
    """RateLimited when any of the budgets `names` is paused."""
    stamps = cache.get_many([f"quota-pause:{name}" for name in names], version=CACHE_VERSION)
    now = timezone.now()
    for name in names:
        stamp = stamps.get(f"quota-pause:{name}")
        until = dt.datetime.fromtimestamp(stamp, tz=dt.UTC) if stamp is not None else None
        if until is not None and until > now:
            raise RateLimited(f"{name} is paused: its usage quota is nearly spent", until)
