import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from comadvisor.connectors import NeedsReconnect, RateLimited, RetryLater
from social import services
from social.enums import AccountState
from social.models import MetricSnapshot, SocialAccount
from social.providers import MetricsResult, MetricValue, Provider
from social.providers.demo import DemoProvider
from tests.social.conftest import make_account

DAY = dt.date(2026, 10, 5)


class Scripted(Provider):
    """A provider answering what the test scripts (the real ones replay recorded responses in
    their own tests); `calls` counts the requests."""

    def __init__(self, account, *, result=None, error=None):
        super().__init__(account)
        self.result = result
        self.error = error
        self.calls = 0

    def fetch_metrics(self, since, until):
        self.calls += 1
        if self.error:
            raise self.error
        return self.result


def use(monkeypatch, provider):
    monkeypatch.setattr(services, "provider_for", lambda account: provider)


def test_metrics_fetch_stores_one_row_per_metric_and_day(facebook):
    outcome = services.metrics_fetch(account=facebook, since=DAY, until=DAY + dt.timedelta(days=2))

    expected = DemoProvider(facebook).fetch_metrics(DAY, DAY + dt.timedelta(days=2)).values
    assert outcome.stored == len(expected) == 3 * 5
    rows = {(s.metric, s.day): s.value for s in MetricSnapshot.objects.filter(account=facebook)}
    assert rows == {(v.metric, v.day): v.value for v in expected}
    facebook.refresh_from_db()
    assert facebook.last_fetch_at is not None


def test_refetching_a_day_replaces_its_values(facebook, monkeypatch):
    use(monkeypatch, Scripted(facebook, result=MetricsResult([MetricValue("reach", DAY, 10.0)])))
    services.metrics_fetch(account=facebook, since=DAY, until=DAY)
    use(monkeypatch, Scripted(facebook, result=MetricsResult([MetricValue("reach", DAY, 12.0)])))

    services.metrics_fetch(account=facebook, since=DAY, until=DAY)

    assert list(MetricSnapshot.objects.values_list("metric", "day", "value")) == [
        ("reach", DAY, 12.0)
    ]


def test_api_metrics_adding_into_one_desk_metric_are_summed(google, monkeypatch):
    values = [MetricValue("views", DAY, 5.0), MetricValue("views", DAY, 7.0)]
    use(monkeypatch, Scripted(google, result=MetricsResult(values)))

    services.metrics_fetch(account=google, since=DAY, until=DAY)

    assert MetricSnapshot.objects.get(metric="views").value == 12.0


def test_a_refused_metric_does_not_lose_the_others(facebook, monkeypatch):
    result = MetricsResult(
        [MetricValue("reach", DAY, 10.0), MetricValue("interactions", DAY, 3.0)],
        refused={"page_media_view": "(#100) invalid metric"},
    )
    use(monkeypatch, Scripted(facebook, result=result))

    outcome = services.metrics_fetch(account=facebook, since=DAY, until=DAY)

    assert outcome.stored == 2
    facebook.refresh_from_db()
    assert facebook.state == AccountState.OK
    assert facebook.last_error == "page_media_view: (#100) invalid metric"


def test_expired_token_flags_the_account_and_emails_once(
    facebook, monkeypatch, admin_user, community_manager, django_capture_on_commit_callbacks
):
    provider = Scripted(facebook, error=NeedsReconnect("(#190) token expired"))
    use(monkeypatch, provider)

    with django_capture_on_commit_callbacks(execute=True):
        services.metrics_fetch(account=facebook, since=DAY, until=DAY)
    # Ready again without a reconnection (an admin reset its state): the next fetch calls the
    # platform, fails the same way, and must not e-mail a second time.
    SocialAccount.objects.filter(pk=facebook.pk).update(state=AccountState.OK)
    facebook.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.metrics_fetch(account=facebook, since=DAY, until=DAY)

    facebook.refresh_from_db()
    assert provider.calls == 2
    assert facebook.state == AccountState.NEEDS_RECONNECT
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [admin_user.email, community_manager.email]
    )
    assert "Le Bistro" in mail.outbox[0].subject + mail.outbox[0].body


def test_two_workers_failing_on_the_same_account_email_once(
    facebook, admin_user, community_manager, django_capture_on_commit_callbacks
):
    # Both loaded the account before either recorded its failure.
    first = SocialAccount.objects.get(pk=facebook.pk)
    second = SocialAccount.objects.get(pk=facebook.pk)
    error = NeedsReconnect("(#190) token expired")

    with django_capture_on_commit_callbacks(execute=True):
        services.account_record_failure(account=first, error=error)
    with django_capture_on_commit_callbacks(execute=True):
        services.account_record_failure(account=second, error=error)

    assert len(mail.outbox) == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [admin_user.email, community_manager.email]
    )


def test_an_account_waiting_for_reconnection_is_not_called(facebook, monkeypatch):
    provider = Scripted(facebook, result=MetricsResult())
    use(monkeypatch, provider)
    facebook.state = AccountState.NEEDS_RECONNECT

    outcome = services.metrics_fetch(account=facebook, since=DAY, until=DAY)

    assert outcome.skipped and provider.calls == 0


def test_rate_limit_records_until_and_waits(facebook, monkeypatch):
    until = timezone.now() + dt.timedelta(hours=1)
    provider = Scripted(facebook, error=RateLimited("(#4) application request limit", until))
    use(monkeypatch, provider)

    services.metrics_fetch(account=facebook, since=DAY, until=DAY)
    again = services.metrics_fetch(account=facebook, since=DAY, until=DAY)

    facebook.refresh_from_db()
    assert facebook.state == AccountState.RATE_LIMITED
    assert facebook.rate_limited_until == until
    assert again.skipped and provider.calls == 1


def test_network_fault_is_recorded_and_raised_for_a_retry(facebook, monkeypatch):
    use(monkeypatch, Scripted(facebook, error=RetryLater("503 from Graph")))

    with pytest.raises(RetryLater):
        services.metrics_fetch(account=facebook, since=DAY, until=DAY)

    facebook.refresh_from_db()
    assert facebook.state == AccountState.OK
    assert facebook.last_error == "503 from Graph"


def test_success_after_a_rate_limit_clears_the_state(facebook):
    facebook.state = AccountState.RATE_LIMITED
    facebook.rate_limited_until = timezone.now() - dt.timedelta(minutes=1)
    facebook.save()

    services.metrics_fetch(account=facebook, since=DAY, until=DAY)

    facebook.refresh_from_db()
    assert facebook.state == AccountState.OK and facebook.rate_limited_until is None


def test_fetch_metrics_command_fills_a_range_for_every_account(bistro):
    make_account(bistro, "facebook")
    make_account(bistro, "google")

    call_command("fetch_metrics", "--since", "2026-10-01", "--until", "2026-10-02")

    # Facebook feeds 5 desk metrics, Google 7, over two days.
    assert MetricSnapshot.objects.count() == (5 + 7) * 2
