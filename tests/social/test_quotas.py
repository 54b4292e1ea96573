"""The shared call budgets (social.quotas) and what the connectors and jobs do with them."""

import datetime as dt
import json
import random

import pytest
from django.utils import timezone

from comadvisor.connectors import RateLimited
from social import quotas, tasks
from social.management.fake_platforms import Traffic
from social.models import SocialAccount
from social.providers.google import GoogleProvider


class Clock:
    """A clock that sleeping moves forward, with every taken call's time."""

    def __init__(self, start: float = 1_000_000.0):
        self.now = start
        self.taken: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _budget(monkeypatch, name: str, budget: quotas.Budget) -> None:
    monkeypatch.setitem(quotas.BUDGETS, name, budget)


@pytest.mark.parametrize(
    "budget",
    [
        quotas.Budget(limit=300, period=60, windows=30),
        quotas.Budget(limit=50, period=1, windows=4),
        quotas.Budget(limit=10, period=60, windows=6),
    ],
)
def test_no_sliding_period_ever_holds_more_than_the_limit(monkeypatch, budget):
    _budget(monkeypatch, "test", budget)
    clock = Clock()
    rng = random.Random(3)
    for _ in range(budget.limit * 4):
        # Callers arrive in bursts and lulls.
        clock.now += rng.choice([0, 0, 0, budget.window / 7, budget.window * 1.5])
        quotas.acquire("test", clock=clock.time, sleep=clock.sleep)
        clock.taken.append(clock.now)

    traffic = Traffic()
    traffic.calls["test"] = clock.taken
    assert traffic.busiest("test", budget.period) <= budget.limit


@pytest.mark.parametrize(
    ("budget", "share"),
    [
        (quotas.Budget(limit=300, period=60, windows=30), 0.9),
        (quotas.Budget(limit=50, period=1, windows=4), 0.8),
    ],
)
def test_a_burst_uses_most_of_the_quota(monkeypatch, budget, share):
    _budget(monkeypatch, "test", budget)
    clock = Clock()
    for _ in range(budget.limit * 3):
        quotas.acquire("test", clock=clock.time, sleep=clock.sleep)
        clock.taken.append(clock.now)

    traffic = Traffic()
    traffic.calls["test"] = clock.taken
    assert share * budget.limit <= traffic.busiest("test", budget.period) <= budget.limit


def test_a_caller_over_the_budget_waits_for_the_next_window(monkeypatch):
    _budget(monkeypatch, "google-performance", quotas.Budget(limit=300, period=60, windows=30))
    clock = Clock(start=1_000_000.0)
    waits = [
        quotas.acquire("google-performance", clock=clock.time, sleep=clock.sleep) for _ in range(10)
    ]

    assert waits[:9] == [0] * 9
    assert 0 < waits[9] <= 2.5
    assert clock.now >= 1_000_002.0


def test_a_caller_that_would_wait_too_long_is_rate_limited(monkeypatch):
    _budget(monkeypatch, "test", quotas.Budget(limit=2, period=60, windows=1))
    clock = Clock()
    quotas.acquire("test", clock=clock.time, sleep=clock.sleep)

    with pytest.raises(RateLimited) as raised:
        quotas.acquire("test", clock=clock.time, sleep=clock.sleep, max_wait=10)

    assert "test" in str(raised.value)
    assert raised.value.until > timezone.now()


def test_budgets_per_profile_are_apart(monkeypatch):
    _budget(monkeypatch, "google-edits", quotas.Budget(limit=2, period=60, windows=1))
    clock = Clock()
    assert quotas.acquire("google-edits:locations/1", clock=clock.time, sleep=clock.sleep) == 0
    assert quotas.acquire("google-edits:locations/2", clock=clock.time, sleep=clock.sleep) == 0
    assert quotas.acquire("google-edits:locations/1", clock=clock.time, sleep=clock.sleep) > 0


def test_a_pause_holds_calls_until_it_ends_and_keeps_the_later_end():
    later = timezone.now() + dt.timedelta(minutes=10)
    quotas.pause("meta-app", later)
    quotas.pause("meta-app", timezone.now() + dt.timedelta(minutes=1))

    assert quotas.paused_until("meta-app") == later
    quotas.check_paused("meta-business:1")
    with pytest.raises(RateLimited) as raised:
        quotas.check_paused("meta-business:1", "meta-app")
    assert raised.value.until == later


def test_google_calls_draw_on_their_api_budget(monkeypatch, restaurant_factory):
    taken = []
    monkeypatch.setattr(quotas, "acquire", taken.append)

    class Http:
        def request(self, uri, method="GET", body=None, headers=None, **kwargs):
            import httplib2

            return httplib2.Response({"status": "200"}), json.dumps({}).encode()

    account = SocialAccount(
        restaurant=restaurant_factory(), network="google", external_id="accounts/1/locations/2"
    )
    provider = GoogleProvider(account, http=Http())
    provider.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    provider.fetch_reviews(None)
    provider.reply("accounts/1/locations/2/reviews/r1", "Merci !")

    assert taken == [
        quotas.GOOGLE_PERFORMANCE,
        quotas.GOOGLE_BUSINESS,
        quotas.GOOGLE_BUSINESS,
        "google-edits:accounts/1/locations/2",
    ]


class FakeTask:
    class request:
        is_eager = False

    def __init__(self):
        self.countdown = None

    def retry(self, countdown):
        self.countdown = countdown
        return RuntimeError("retry")


def test_a_rate_limited_fetch_is_tried_again_when_the_limit_ends():
    task = FakeTask()
    with pytest.raises(RuntimeError):
        tasks._after_rate_limit(task, timezone.now() + dt.timedelta(minutes=12))
    assert 12 * 60 - 2 <= task.countdown <= 12 * 60 + 1

    # A limit far away is left to the next daily run; none means nothing to do.
    tasks._after_rate_limit(task, timezone.now() + dt.timedelta(days=1))
    tasks._after_rate_limit(task, None)
