"""Connector errors are kept as an outcome code, shown translated, with the platform's own words
beside it; a success clears them."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from comadvisor.connectors import NeedsReconnect, Permanent, RateLimited, RetryLater
from social import quotas, services
from social.enums import AccountState, ErrorCode, PublicationState
from social.models import Publication
from social.providers import MetricsResult, MetricValue, Provider
from tests.social.conftest import make_account

SOON = dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RetryLater("Google error 503"), ErrorCode.RETRY_LATER),
        (RateLimited("Meta rate limit (#4, HTTP 400)", timezone.now() + SOON), "rate_limited"),
        (quotas.BudgetExhausted("call budget google-business exhausted", timezone.now()), "budget"),
        (NeedsReconnect("Meta refused the access token (#190)"), "needs_reconnect"),
        (Permanent("Meta refused the request (#10)"), "permanent"),
    ],
)
def test_a_failure_keeps_its_outcome_code_and_the_platforms_words(facebook, error, code):
    services.account_record_failure(account=facebook, error=error)

    facebook.refresh_from_db()
    assert (facebook.last_error_code, facebook.last_error) == (code, str(error))


def test_the_page_shows_the_outcome_in_the_readers_language(client, community_manager, facebook):
    services.account_record_failure(
        account=facebook, error=NeedsReconnect("Meta refused the access token (#190)")
    )
    client.force_login(community_manager)
    url = reverse("social:restaurant_social", args=[facebook.restaurant_id])

    for language in ("en", "fr"):
        community_manager.language = language
        community_manager.save()
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        with translation.override(language):
            label = str(ErrorCode.NEEDS_RECONNECT.label)
        assert f'data-error-code="needs_reconnect">{escape(label)}' in page
        assert "(Meta refused the access token (#190))" in page


def test_the_reconnect_mail_gives_the_outcome_in_the_readers_language(
    facebook, community_manager, django_capture_on_commit_callbacks
):
    community_manager.language = "en"
    community_manager.save()

    with django_capture_on_commit_callbacks(execute=True):
        services.account_record_failure(
            account=facebook, error=NeedsReconnect("token expired (#190)")
        )

    body = next(message.body for message in mail.outbox if community_manager.email in message.to)
    assert "The platform refused the access: reconnect the account. token expired (#190)" in body


class Metrics(Provider):
    def fetch_metrics(self, since, until):
        return MetricsResult(values=[MetricValue("reach", until, 3.0)])


def test_a_success_clears_the_last_error_but_keeps_its_time(facebook, monkeypatch):
    services.account_record_failure(account=facebook, error=RetryLater("Google error 503"))
    failed_at = facebook.last_error_at
    monkeypatch.setattr(services, "provider_for", Metrics)

    services.metrics_fetch(account=facebook)

    facebook.refresh_from_db()
    assert (facebook.last_error_code, facebook.last_error) == ("", "")
    assert facebook.last_error_at == failed_at and facebook.state == AccountState.OK


def test_an_interrupted_publication_says_so(bistro, facebook, community_manager):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="x"
    )
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Publication.objects.update(state=PublicationState.PUBLISHING, claimed_at=long_ago)

    assert services.publications_release_stuck() == 1

    publication = post.publications.get()
    assert (publication.state, publication.last_error_code, publication.last_error) == (
        "scheduled", ErrorCode.INTERRUPTED, "",
    )  # fmt: skip


def test_a_disconnection_names_who_did_it_not_a_sentence(facebook, community_manager):
    facebook.credentials = ""
    facebook.demo = False
    facebook.save()

    services.account_disconnect(account=facebook, by=community_manager)

    facebook.refresh_from_db()
    assert facebook.last_error_code == ErrorCode.DISCONNECTED
    assert facebook.last_error == community_manager.username


def test_a_rate_limit_that_is_over_shows_no_longer(client, community_manager, bistro):
    past = make_account(
        bistro, "facebook", state=AccountState.RATE_LIMITED,
        rate_limited_until=timezone.now() - SOON,
    )  # fmt: skip
    current = make_account(
        bistro, "google", state=AccountState.RATE_LIMITED, rate_limited_until=timezone.now() + SOON
    )
    client.force_login(community_manager)

    page = client.get(reverse("social:restaurant_social", args=[bistro.pk])).content.decode()

    row = page[page.index(f'data-account="{past.pk}"') :]
    assert 'data-state="ok"' in row[: row.index("</tr>")]
    row = page[page.index(f'data-account="{current.pk}"') :]
    assert 'data-state="rate_limited"' in row[: row.index("</tr>")]


def test_an_access_about_to_expire_is_flagged(client, community_manager, bistro):
    soon = make_account(bistro, "facebook", token_expires_at=timezone.now() + dt.timedelta(days=3))
    later = make_account(bistro, "google", token_expires_at=timezone.now() + dt.timedelta(days=50))
    client.force_login(community_manager)

    page = client.get(reverse("social:restaurant_social", args=[bistro.pk])).content.decode()

    assert soon.token_expires_soon and not later.token_expires_soon
    assert page.count('data-testid="token-expires"') == 1


class _FailingReply(Provider):
    can_reply = True

    def __init__(self, account, error):
        super().__init__(account)
        self.error = error

    def reply(self, review_external_id, text):
        raise self.error


@pytest.mark.parametrize(
    ("failure", "code", "detail"),
    [
        ("network", ErrorCode.RETRY_LATER, "network error: ConnectionError"),
        ("budget", ErrorCode.BUDGET, "call budget google-business exhausted"),
        ("disconnected", ErrorCode.DISCONNECTED, "the account is not connected"),
    ],
)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_failed_reply_says_why_in_the_readers_language_and_keeps_the_text(
    client, monkeypatch, community_manager, review_manager, bistro, failure, code, detail, language
):
    from social.models import Review, ReviewTask

    google = make_account(bistro, "google", demo=False, credentials='{"token": "t"}')
    if failure == "disconnected":
        services.account_disconnect(account=google, by=community_manager)
    else:
        error = (
            RetryLater(detail)
            if failure == "network"
            else quotas.BudgetExhausted(detail, timezone.now() + dt.timedelta(minutes=3))
        )
        monkeypatch.setattr(services, "provider_for", lambda account: _FailingReply(account, error))
    now = timezone.now()
    review = Review.objects.create(
        account=google, restaurant=bistro, network="google", external_id="r1", rating=2,
        written_at=now, updated_at=now, open_due_at=now + dt.timedelta(hours=4),
    )  # fmt: skip
    ReviewTask.objects.create(review=review, due_at=review.open_due_at)
    review_manager.language = language
    review_manager.save(update_fields=["language"])
    client.force_login(review_manager)

    response = client.post(
        reverse("social:review_detail", args=[review.pk]),
        {"text": "Merci, à bientôt", "action": "send"},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 200
    page = response.content.decode()
    with translation.override(language):
        label = str(code.label)
        refused = str(ErrorCode.PERMANENT.label)
    assert f"{escape(label)} ({escape(detail)})" in page
    assert escape(refused) not in page
    assert "Merci, à bientôt" in page
    review.refresh_from_db()
    assert review.replied_at is None and ReviewTask.objects.get().state == "open"


def test_a_refused_connection_says_why_in_the_readers_language(
    client, community_manager, bistro, settings, monkeypatch
):
    import requests

    from social import oauth

    settings.META_APP_ID, settings.META_APP_SECRET = "app", "secret"
    monkeypatch.setattr(
        oauth, "meta_authorization_url", lambda *, redirect_uri, state: f"https://m.test/?s={state}"
    )
    client.force_login(community_manager)
    for raised, code, detail in [
        (ValueError("code expired"), ErrorCode.PERMANENT, "code expired"),
        (requests.ConnectionError("down"), ErrorCode.RETRY_LATER, "network error: ConnectionError"),
    ]:

        def refuse(*, code, redirect_uri, raised=raised):
            raise raised

        monkeypatch.setattr(oauth, "meta_exchange_code", refuse)
        start = client.get(reverse("social:connect_start", args=[bistro.pk, "meta"]))
        state = start["Location"].split("s=")[1]

        page = client.get(
            reverse("social:connect_meta_callback"), {"state": state, "code": "c"}, follow=True
        ).content.decode()

        with translation.override(community_manager.language or "fr"):
            label = str(code.label)
        assert f"{escape(label)} ({escape(detail)})" in page
