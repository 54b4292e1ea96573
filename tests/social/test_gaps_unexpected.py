"""A provider raising something that is none of the four outcomes (a KeyError reading an answer)
ends as a permanent error all the same: logged with its traceback, recorded where the desk shows
it, never left half-done."""

import datetime as dt
import logging

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from social import services
from social.enums import AccountState, ErrorCode, PostStatus, PublicationState
from social.models import Publication, Review, ReviewTask
from social.providers import Provider
from tests.social.conftest import make_account


class Misreading(Provider):
    """Reads an answer that lacks the key it expects, whatever it is asked."""

    can_publish = True
    can_reply = True

    def fetch_metrics(self, since, until):
        return {}["data"]

    def fetch_reviews(self, since):
        return {}["reviews"]

    def publish(self, content, *, state, checkpoint):
        return {}["id"]

    def reply(self, review_external_id, text):
        return {}["name"]


@pytest.fixture
def misreading(monkeypatch):
    monkeypatch.setattr(services, "provider_for", Misreading)


def _logged(caplog, doing: str, account_id: int) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.getMessage() == f"{doing} of social account {account_id} failed unexpectedly"
        and record.exc_info
        and record.exc_info[0] is KeyError
    ]


def test_metrics_fetch_records_an_unexpected_failure_on_the_account(facebook, misreading, caplog):
    outcome = services.metrics_fetch(account=facebook)

    facebook.refresh_from_db()
    assert (outcome.stored, outcome.error, outcome.retry_at) == (0, "KeyError: 'data'", None)
    assert (facebook.state, facebook.last_error_code, facebook.last_error) == (
        AccountState.ERROR, ErrorCode.UNEXPECTED, "KeyError: 'data'",
    )  # fmt: skip
    assert facebook.last_fetch_at is None
    assert len(_logged(caplog, "metrics fetch", facebook.pk)) == 1


def test_reviews_fetch_records_an_unexpected_failure_on_the_account(google, misreading, caplog):
    outcome = services.reviews_fetch(account=google)

    google.refresh_from_db()
    assert (outcome.new, outcome.error) == (0, "KeyError: 'reviews'")
    assert (google.state, google.last_error_code, google.last_error) == (
        AccountState.ERROR, ErrorCode.UNEXPECTED, "KeyError: 'reviews'",
    )  # fmt: skip
    assert google.last_reviews_at is None
    assert len(_logged(caplog, "reviews fetch", google.pk)) == 1


def test_an_unexpected_failure_shows_on_the_health_page(
    client, community_manager, facebook, google, misreading
):
    services.metrics_fetch(account=facebook)
    community_manager.language = "en"
    community_manager.save(update_fields=["language"])
    client.force_login(community_manager)

    response = client.get(reverse("social:health"), {"state": "error"})

    assert [account.pk for account in response.context["page"]] == [facebook.pk]
    page = response.content.decode()
    with translation.override("en"):
        label = str(ErrorCode.UNEXPECTED.label)
    assert label == (
        "The desk could not handle the platform's answer; the error is logged for the team."
    )
    assert escape(label) in page and "(KeyError: &#x27;data&#x27;)" in page


def test_the_daily_tasks_finish_on_an_unexpected_failure(facebook, google, misreading):
    from social import tasks

    assert tasks.fetch_account_metrics.apply(args=[facebook.pk]).get() == 0
    assert tasks.fetch_account_reviews.apply(args=[google.pk]).get() == 0

    facebook.refresh_from_db()
    google.refresh_from_db()
    assert facebook.last_error_code == google.last_error_code == ErrorCode.UNEXPECTED


def test_publishing_fails_on_an_unexpected_failure_instead_of_staying_publishing(
    bistro, facebook, community_manager, misreading, caplog
):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="Soirée jazz"
    )
    at = timezone.now() - dt.timedelta(seconds=5)
    services.post_schedule(post=post, by=community_manager, at=at, now=at)
    publication = post.publications.get()

    state = services.publication_publish(publication_id=publication.pk)

    publication.refresh_from_db()
    assert state == PublicationState.FAILED
    assert (publication.state, publication.last_error_code, publication.last_error) == (
        PublicationState.FAILED, ErrorCode.UNEXPECTED, "KeyError: 'id'",
    )  # fmt: skip
    assert (publication.attempts, publication.next_attempt_at) == (1, None)
    assert len(_logged(caplog, "publishing", facebook.pk)) == 1
    # The post's own failure: the account, which works, is not put in error.
    facebook.refresh_from_db()
    assert (facebook.state, facebook.last_error_code) == (AccountState.OK, "")
    post.refresh_from_db()
    assert post.status == PostStatus.DONE


def test_a_failed_publication_offers_retry_with_the_reason(
    client, bistro, facebook, community_manager, misreading
):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="Soirée jazz"
    )
    at = timezone.now() - dt.timedelta(seconds=5)
    services.post_schedule(post=post, by=community_manager, at=at, now=at)
    publication = post.publications.get()
    services.publication_publish(publication_id=publication.pk)
    client.force_login(community_manager)

    page = client.get(reverse("social:post_edit", args=[post.pk])).content.decode()

    row = page.split(f'<tr data-publication="{publication.pk}"', 1)[1].split("</tr>", 1)[0]
    with translation.override(community_manager.language or "fr"):
        label = str(ErrorCode.UNEXPECTED.label)
    assert 'data-testid="retry"' in row
    assert escape(label) in row


def _claimed(post, *, attempts: int, minutes_ago: int = 20) -> Publication:
    Publication.objects.filter(post=post).update(
        state=PublicationState.PUBLISHING,
        claimed_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        attempts=attempts,
    )
    return post.publications.get()


def test_a_publication_interrupted_at_its_last_attempt_fails(bistro, facebook, community_manager):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="x"
    )
    services.post_schedule(post=post, by=community_manager, at=timezone.now())
    publication = _claimed(post, attempts=services.MAX_ATTEMPTS)

    assert services.publications_release_stuck() == 1

    publication.refresh_from_db()
    assert (publication.state, publication.last_error_code, publication.next_attempt_at) == (
        PublicationState.FAILED, ErrorCode.INTERRUPTED_LAST, None,
    )  # fmt: skip
    post.refresh_from_db()
    assert post.status == PostStatus.DONE
    # The every-minute job does not take it again.
    assert services.publications_due() == []


def test_a_publication_interrupted_before_its_last_attempt_is_released(
    bistro, facebook, community_manager
):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="x"
    )
    services.post_schedule(post=post, by=community_manager, at=timezone.now())
    publication = _claimed(post, attempts=services.MAX_ATTEMPTS - 1)
    recent = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[make_account(bistro)], text="y"
    )
    services.post_schedule(post=recent, by=community_manager, at=timezone.now())
    # Claimed five minutes ago: still being published, left alone.
    working = _claimed(recent, attempts=services.MAX_ATTEMPTS, minutes_ago=5)

    assert services.publications_release_stuck() == 1

    publication.refresh_from_db()
    working.refresh_from_db()
    assert (publication.state, publication.last_error_code) == (
        PublicationState.SCHEDULED, ErrorCode.INTERRUPTED,
    )  # fmt: skip
    assert working.state == PublicationState.PUBLISHING
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED


def test_an_unexpected_failure_of_a_reply_says_why_and_keeps_the_text(
    client, review_manager, bistro, misreading
):
    google = make_account(bistro, "google", demo=False, credentials='{"token": "t"}')
    now = timezone.now()
    review = Review.objects.create(
        account=google, restaurant=bistro, network="google", external_id="r1", rating=2,
        written_at=now, updated_at=now, open_due_at=now + dt.timedelta(hours=4),
    )  # fmt: skip
    ReviewTask.objects.create(review=review, due_at=review.open_due_at)
    review_manager.language = "en"
    review_manager.save(update_fields=["language"])
    client.force_login(review_manager)

    response = client.post(
        reverse("social:review_detail", args=[review.pk]),
        {"text": "Merci, à bientôt", "action": "send"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    page = response.content.decode()
    with translation.override("en"):
        label = str(ErrorCode.UNEXPECTED.label)
    assert f"{escape(label)} (KeyError: &#x27;name&#x27;)" in page
    assert "Merci, à bientôt" in page
    review.refresh_from_db()
    google.refresh_from_db()
    assert review.replied_at is None and ReviewTask.objects.get().state == "open"
    assert (google.state, google.last_error_code) == (AccountState.ERROR, ErrorCode.UNEXPECTED)
