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
from social.providers import PostContent
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
    assert (
        quotas.acquire(
            "google-edits:locations/1", clock=clock.time, sleep=clock.sleep, max_wait=120
        )
        > 0
    )


def test_a_worker_waits_long_for_its_turn_a_web_request_briefly(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert quotas.wait_limit() == quotas.MAX_WAIT
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert quotas.wait_limit() == quotas.SHORT_WAIT
    with quotas.waiting_at_most(3):
        assert quotas.wait_limit() == 3
    assert quotas.wait_limit() == quotas.SHORT_WAIT


def test_in_a_request_a_long_wait_gives_up_at_once(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _budget(monkeypatch, "test", quotas.Budget(limit=2, period=60, windows=1))
    clock = Clock()
    quotas.acquire("test", clock=clock.time, sleep=clock.sleep)
    started = clock.now

    with pytest.raises(quotas.BudgetExhausted):
        quotas.acquire("test", clock=clock.time, sleep=clock.sleep)

    assert clock.now == started


def test_a_paused_budget_makes_no_call_until_the_pause_ends(monkeypatch):
    _budget(monkeypatch, "test", quotas.Budget(limit=300, period=60, windows=30))
    until = timezone.now() + dt.timedelta(seconds=90)
    quotas.pause("test", until)

    with pytest.raises(RateLimited) as raised:
        quotas.acquire("test")

    assert raised.value.until == until.replace(microsecond=raised.value.until.microsecond)
    assert not isinstance(raised.value, quotas.BudgetExhausted)


def test_pacing_spreads_callers_at_the_budgets_steady_rate(monkeypatch):
    _budget(monkeypatch, quotas.GOOGLE_PERFORMANCE, quotas.Budget(limit=300, period=60, windows=30))
    _budget(monkeypatch, quotas.TRIPADVISOR, quotas.Budget(limit=50, period=1, windows=4))
    # 300 a minute in 2-second windows of 9: one call every 2/9 s; two calls take twice that.
    assert quotas.pacing(quotas.GOOGLE_PERFORMANCE) == pytest.approx(2 / 9)
    assert quotas.pacing(quotas.TRIPADVISOR, 2) == pytest.approx(0.05)


@pytest.mark.django_db
def test_a_monthly_budget_counts_each_call_and_refuses_past_its_limit():
    march = dt.datetime(2026, 3, 31, 23, 0, tzinfo=dt.UTC)
    for _ in range(3):
        quotas.monthly_take("test-month", limit=3, now=march)

    with pytest.raises(quotas.BudgetExhausted) as raised:
        quotas.monthly_take("test-month", limit=3, now=march)

    assert raised.value.until == dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    assert quotas.monthly_used("test-month", now=march) == 3
    # A new month starts afresh.
    quotas.monthly_take("test-month", limit=3, now=march + dt.timedelta(hours=2))
    assert quotas.monthly_used("test-month", now=march + dt.timedelta(hours=2)) == 1


@pytest.mark.django_db
def test_what_is_left_of_a_month_is_shared_over_the_days_left():
    now = dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC)
    for _ in range(100):
        quotas.monthly_take("test-month", limit=5000, now=now)

    # 4,900 left over the 10 days from the 21st to the 30th.
    assert quotas.monthly_allowance_today("test-month", limit=5000, now=now) == 490
    assert quotas.monthly_allowance_today("test-month", limit=100, now=now) == 0


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

            body = {"name": "accounts/1/locations/2/localPosts/p1"}
            return httplib2.Response({"status": "200"}), json.dumps(body).encode()

    account = SocialAccount(
        restaurant=restaurant_factory(), network="google", external_id="accounts/1/locations/2"
    )
    provider = GoogleProvider(account, http=Http())
    provider.fetch_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    provider.fetch_reviews(None)
    provider.reply("accounts/1/locations/2/reviews/r1", "Merci !")
    provider.publish(PostContent(text="Brunch dimanche"), state={}, checkpoint=lambda state: None)

    edits = "google-edits:accounts/1/locations/2"
    assert taken == [
        quotas.GOOGLE_PERFORMANCE,
        quotas.GOOGLE_BUSINESS,
        quotas.GOOGLE_BUSINESS,
        edits,
        # Publishing is an edit of the profile too.
        quotas.GOOGLE_BUSINESS,
        edits,
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


class Queued:
    """Stands in for a task's apply_async: keeps (account id, countdown)."""

    def __init__(self):
        self.calls = []

    def apply_async(self, args, countdown=None):
        self.calls.append((args[0], countdown))


def test_the_daily_jobs_release_google_accounts_at_the_budgets_pace(monkeypatch):
    _budget(monkeypatch, quotas.GOOGLE_PERFORMANCE, quotas.Budget(limit=300, period=60, windows=30))
    queued = Queued()
    rows = [(1, "google"), (2, "facebook"), (3, "google"), (4, "instagram"), (5, "google")]

    assert tasks.fan_out(queued, rows, tasks.METRICS_PACE) == 5

    countdowns = dict(queued.calls)
    assert [countdowns[pk] for pk in (2, 4)] == [None, None]
    assert countdowns[1] is None
    assert countdowns[3] == pytest.approx(2 / 9) and countdowns[5] == pytest.approx(4 / 9)


@pytest.mark.django_db
def test_the_review_job_asks_tripadvisor_only_for_todays_share(restaurant_factory, monkeypatch):
    from social.models import SocialSettings
    from social.selectors import reviews_due_accounts

    config = SocialSettings.load()
    config.tripadvisor_monthly_calls = 40
    config.save()
    restaurant = restaurant_factory()
    now = timezone.now()

    def account(network, external_id, **fields):
        return SocialAccount.objects.create(
            restaurant=restaurant, network=network, external_id=external_id, name="x", **fields
        )

    google = account("google", "accounts/1/locations/1")
    instagram = account("instagram", "ig")
    recent = account("tripadvisor", "1", last_reviews_at=now - dt.timedelta(days=1))
    oldest = account("tripadvisor", "2", last_reviews_at=now - dt.timedelta(days=9))
    never = account("tripadvisor", "3")
    day = dt.datetime(2026, 11, 21, 6, tzinfo=dt.UTC)  # 10 days left: 4 calls, 2 locations

    due = reviews_due_accounts(now=day)

    assert due == sorted(
        [(google.pk, "google"), (oldest.pk, "tripadvisor"), (never.pk, "tripadvisor")]
    )
    assert instagram.pk not in dict(due) and recent.pk not in dict(due)


def test_a_429_from_google_pauses_the_api_for_every_worker(monkeypatch, restaurant_factory):
    import httplib2

    calls = []

    class Http:
        def request(self, uri, method="GET", body=None, headers=None, **kwargs):
            calls.append(uri)
            return (
                httplib2.Response({"status": "429", "retry-after": "90"}),
                json.dumps({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}).encode(),
            )

    def provider(location):
        account = SocialAccount(
            restaurant=restaurant_factory(), network="google", external_id=location
        )
        return GoogleProvider(account, http=Http())

    with pytest.raises(RateLimited):
        provider("accounts/1/locations/2").fetch_reviews(None)
    with pytest.raises(RateLimited) as second:
        provider("accounts/1/locations/3").fetch_reviews(None)

    assert len(calls) == 1
    assert quotas.paused_until(quotas.GOOGLE_BUSINESS) is not None
    assert quotas.paused_until(quotas.GOOGLE_PERFORMANCE) is None
    assert 85 <= (second.value.until - timezone.now()).total_seconds() <= 91
