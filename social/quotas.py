"""Call budgets that keep the connectors inside the platforms' quotas (SOCIAL_APIS.md), shared by
every worker process through the cache (Redis in production; the embedded default runs tasks in
one process, where the local-memory cache is enough).

Three kinds:
- a budget of calls per period (Google: 300 requests a minute per API, 10 edits a minute per
  profile; TripAdvisor: 50 requests a second). The period is cut into fixed windows, each allowed
  limit // (windows + 1) calls: a sliding period overlaps at most windows + 1 of them, so no
  sliding period ever holds more than the limit. A caller over the budget sleeps until the next
  window; one that would wait longer than its limit gets BudgetExhausted instead. When the
  platform refuses a call all the same (Google's 429), the budget is paused for every worker
  until the platform's retry time.
- a pause (Meta): Graph gives no fixed rate but reports its usage in response headers; when a
  quota reaches USAGE_HIGH percent, calls under that quota (the app, or one Page's business use
  case) pause until Meta says access is regained, and every worker sees the pause.
- a monthly budget kept in the database (TripAdvisor's free 5,000 calls a month, an admin
  setting): counted per calendar month in UTC, so a cache eviction cannot hand out calls twice.
  The daily job spreads what is left over the days left (monthly_allowance_today).
"""

import datetime as dt
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from comadvisor.connectors import RateLimited


class BudgetExhausted(RateLimited):
    """Our own budget, not the platform, says to wait: longer than the caller may, or until the
    next month for a monthly budget."""


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

    @property
    def spacing(self) -> float:
        """Seconds between calls at the budget's steady rate."""
        return self.window / self.per_window


GOOGLE_PERFORMANCE = "google-performance"
GOOGLE_BUSINESS = "google-business"
GOOGLE_EDITS = "google-edits"
TRIPADVISOR = "tripadvisor"
# The monthly budget of TripAdvisor calls (SocialSettings.tripadvisor_monthly_calls).
TRIPADVISOR_MONTH = "tripadvisor-month"

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
# Where the call runs inside a web request (the embedded mode runs tasks in the request, a reply
# is sent from the page), a page never sleeps longer than this.
SHORT_WAIT = 15.0

_wait_limit: ContextVar[float | None] = ContextVar("quota_wait_limit", default=None)


def budget_of(name: str) -> Budget:
    return BUDGETS[name.split(":", 1)[0]]


def wait_limit() -> float:
    """How long a caller may sleep for its turn here: what waiting_at_most() set, else a short
    wait when tasks run eagerly (inside the request), else MAX_WAIT (a worker)."""
    chosen = _wait_limit.get()
    if chosen is not None:
        return chosen
    return SHORT_WAIT if settings.CELERY_TASK_ALWAYS_EAGER else MAX_WAIT


@contextmanager
def waiting_at_most(seconds: float) -> Iterator[None]:
    token = _wait_limit.set(seconds)
    try:
        yield
    finally:
        _wait_limit.reset(token)


def acquire(
    name: str,
    *,
    max_wait: float | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Take one call from the budget `name` ("google-edits:locations/1" for a per-profile one),
    waiting for a window with room left. Returns the seconds waited. RateLimited while the budget
    is paused (the platform refused a call), BudgetExhausted when the wait would be too long."""
    budget = budget_of(name)
    paused = paused_until(name)
    if paused is not None:
        raise RateLimited(f"{name} is paused: the platform refused a call", paused)
    max_wait = wait_limit() if max_wait is None else max_wait
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
        pause_for = (index + 1) * budget.window - now + random.uniform(0, budget.window / 4)
        if waited + pause_for > max_wait:
            until = timezone.now() + dt.timedelta(seconds=pause_for)
            raise BudgetExhausted(f"call budget {name} exhausted", until)
        sleep(pause_for)
        waited += pause_for


def pacing(name: str, calls: int = 1) -> float:
    """Seconds between two callers making `calls` calls each on budget `name`, so that a job
    releasing them at this pace never has them wait (and hold a worker process) for their turn."""
    return budget_of(name).spacing * calls


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


# --- Monthly budgets -----------------------------------------------------------------------------


def _month_of(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date().replace(day=1)


def _next_month(month: dt.date) -> dt.datetime:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return dt.datetime.combine(following, dt.time(), tzinfo=dt.UTC)


def monthly_take(name: str, *, limit: int, now: dt.datetime | None = None) -> None:
    """Count one call on the monthly budget `name`; BudgetExhausted until the next month once
    `limit` calls were counted this month. One conditional UPDATE: two workers never both take
    the last call."""
    from social.models import ApiUsage

    month = _month_of(now or timezone.now())
    for _attempt in range(2):
        taken = ApiUsage.objects.filter(api=name, month=month, calls__lt=limit).update(
            calls=F("calls") + 1
        )
        if taken:
            return
        if ApiUsage.objects.filter(api=name, month=month).exists():
            break
        ApiUsage.objects.bulk_create([ApiUsage(api=name, month=month)], ignore_conflicts=True)
    raise BudgetExhausted(f"monthly budget {name} of {limit} calls spent", _next_month(month))


def monthly_used(name: str, *, now: dt.datetime | None = None) -> int:
    from social.models import ApiUsage

    month = _month_of(now or timezone.now())
    return (
        ApiUsage.objects.filter(api=name, month=month).values_list("calls", flat=True).first() or 0
    )


def monthly_allowance_today(name: str, *, limit: int, now: dt.datetime | None = None) -> int:
    """The calls today may use so that what is left of the month lasts to its end: what is left
    shared evenly over the days left, today included."""
    now = now or timezone.now()
    month = _month_of(now)
    days_left = (_next_month(month).date() - now.astimezone(dt.UTC).date()).days
    left = max(0, limit - monthly_used(name, now=now))
    return math.floor(left / max(1, days_left))
