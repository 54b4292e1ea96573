"""Two workers at once: the same due publication is published once, and two fetches of one
account's reviews (the button and the daily job) store each review once without losing either
fetch. The threaded tests run on PostgreSQL, each thread with its own connection."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts.enums import RoleName
from social import services
from social.enums import PublicationState, TaskState
from social.models import Review, ReviewTask
from social.providers import Provider, Published, RemoteReview
from tests.factories import UserFactory
from tests.social.conftest import make_account, make_bistro

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two workers overlapping need PostgreSQL (row locks, a unique index that makes the "
    "second writer wait); SQLite serialises every writer, so two workers cannot overlap there",
)

WRITTEN = timezone.now() - dt.timedelta(days=1)
REMOTE = [
    RemoteReview(
        external_id=f"g{number}",
        author=f"Client {number}",
        rating=rating,
        text=f"avis {number}",
        written_at=WRITTEN,
        updated_at=WRITTEN,
    )
    for number, rating in ((1, 5), (2, 1), (3, 4))
]


class Reviews(Provider):
    def fetch_reviews(self, since):
        return list(REMOTE)


class Slow(Provider):
    """Publishes after a while, counting its calls (from any thread)."""

    can_publish = True

    def __init__(self, account):
        super().__init__(account)
        self.calls = 0
        self.lock = threading.Lock()

    def publish(self, content, *, state, checkpoint):
        with self.lock:
            self.calls += 1
        time.sleep(0.3)
        return Published(external_id="post-1", url="https://example.test/post-1")


def _people():
    return {
        role: UserFactory(username=f"conc_{role}", roles=[role])
        for role in (RoleName.COMMUNITY_MANAGER, RoleName.REVIEW_MANAGER, RoleName.CLIENT_MANAGER)
    }


def _bistro(people):
    return make_bistro(
        community_manager=people[RoleName.COMMUNITY_MANAGER],
        review_manager=people[RoleName.REVIEW_MANAGER],
        client_manager=people[RoleName.CLIENT_MANAGER],
    )


def _run(workers: int, target) -> tuple[list, list[BaseException]]:
    """Run `target()` in `workers` threads started together; their results and errors."""
    start = threading.Barrier(workers)
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            results.append(target())
        except BaseException as error:  # reported by the caller's assertions
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@ON_POSTGRESQL
def test_workers_publishing_the_same_due_publication_at_once_publish_it_once(workers):
    people = _people()
    bistro = _bistro(people)
    account = make_account(bistro, "facebook")
    manager = people[RoleName.COMMUNITY_MANAGER]
    post = services.post_save(by=manager, restaurant=bistro, accounts=[account], text="Jazz")
    at = timezone.now() - dt.timedelta(seconds=5)
    services.post_schedule(post=post, by=manager, at=at, now=at)
    publication = post.publications.get()
    provider = Slow(account)

    results, errors = _run(
        workers,
        lambda: services.publication_publish(publication_id=publication.pk, provider=provider),
    )

    assert errors == []
    assert sorted(results) == [PublicationState.PUBLISHED, *["skipped"] * (workers - 1)]
    assert provider.calls == 1
    publication.refresh_from_db()
    assert (publication.state, publication.attempts, publication.external_id) == (
        PublicationState.PUBLISHED, 1, "post-1",
    )  # fmt: skip


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@ON_POSTGRESQL
def test_two_fetches_of_the_same_reviews_at_once_store_each_once(monkeypatch):
    people = _people()
    bistro = _bistro(people)
    account = make_account(bistro, "google")
    monkeypatch.setattr(services, "provider_for", Reviews)
    # Both fetches looked their reviews up (none yet) before either stores one: the second to
    # insert waits on the unique index until the first commits, then is refused.
    both_looked = threading.Barrier(2)
    waited = threading.local()
    create = services._review_create

    def create_after_both_looked(*args, **kwargs):
        if not getattr(waited, "done", False):
            waited.done = True
            both_looked.wait(timeout=30)
        return create(*args, **kwargs)

    monkeypatch.setattr(services, "_review_create", create_after_both_looked)

    def fetch():
        return services.reviews_fetch(account=type(account).objects.get(pk=account.pk))

    outcomes, errors = _run(2, fetch)

    assert errors == []
    assert sorted((o.new, o.unchanged, o.error) for o in outcomes) == [(0, 3, ""), (3, 0, "")]
    assert sorted(Review.objects.values_list("external_id", flat=True)) == ["g1", "g2", "g3"]
    assert ReviewTask.objects.filter(state=TaskState.OPEN).count() == 3
    assert bistro.activities.filter(origin="review").count() == 1
    account.refresh_from_db()
    assert account.last_reviews_at is not None and account.last_error == ""


def test_a_review_stored_by_another_fetch_meanwhile_does_not_undo_this_one(
    google, review_manager, monkeypatch
):
    """The same race, played in one connection: another fetch stores g1 (with its task) after
    this fetch looked its reviews up, while it works out g1's due time. This one goes on: g1 is
    taken as seen, g2 and g3 are stored."""
    monkeypatch.setattr(services, "provider_for", Reviews)
    due_at = services.review_due_at
    raced = []

    def other_fetch_meanwhile(**kwargs):
        if not raced:
            raced.append(True)
            theirs = services._review_create(google, REMOTE[0], open_due_at=timezone.now())
            ReviewTask.objects.create(review=theirs, due_at=theirs.open_due_at)
        return due_at(**kwargs)

    monkeypatch.setattr(services, "review_due_at", other_fetch_meanwhile)

    outcome = services.reviews_fetch(account=google)

    assert raced == [True]
    assert (outcome.new, outcome.changed, outcome.unchanged, outcome.error) == (2, 0, 1, "")
    assert sorted(Review.objects.values_list("external_id", flat=True)) == ["g1", "g2", "g3"]
    # One task each: g1's is the other fetch's.
    open_tasks = ReviewTask.objects.filter(state=TaskState.OPEN)
    assert sorted(open_tasks.values_list("review__external_id", flat=True)) == ["g1", "g2", "g3"]
    google.refresh_from_db()
    assert google.last_reviews_at is not None


def test_a_review_given_twice_in_one_fetch_is_stored_once(google, monkeypatch):
    class Twice(Provider):
        def fetch_reviews(self, since):
            return [REMOTE[0], REMOTE[1], REMOTE[0]]

    monkeypatch.setattr(services, "provider_for", Twice)

    outcome = services.reviews_fetch(account=google)

    assert (outcome.new, outcome.unchanged, outcome.error) == (2, 1, "")
    assert sorted(Review.objects.values_list("external_id", flat=True)) == ["g1", "g2"]
    assert ReviewTask.objects.count() == 2
