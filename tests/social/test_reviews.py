import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.models import Activity
from social import services
from social.business_hours import add_business_hours
from social.enums import Sentiment, TaskState
from social.models import Review, ReviewTask
from social.providers import Provider, RemoteReview
from social.selectors import response_stats
from social.sentiment import sentiment_of
from tests.factories import RestaurantFactory
from tests.social.conftest import make_account

PARIS = ZoneInfo("Europe/Paris")
WRITTEN = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


def remote(external_id="r1", *, rating=4, text="Très bon repas", **fields) -> RemoteReview:
    values = {
        "external_id": external_id,
        "author": "Camille D.",
        "rating": rating,
        "text": text,
        "written_at": WRITTEN,
        "updated_at": WRITTEN,
        "language": "fr",
    }
    return RemoteReview(**(values | fields))


class Scripted(Provider):
    can_reply = True

    def __init__(self, account, reviews):
        super().__init__(account)
        self.reviews = reviews
        self.replies = []

    def fetch_reviews(self, since):
        return self.reviews

    def reply(self, review_external_id, text):
        self.replies.append((review_external_id, text))


def use(monkeypatch, provider):
    monkeypatch.setattr(services, "provider_for", lambda account: provider)
    return provider


def test_fetching_twice_stores_each_review_once_with_one_task(google, monkeypatch):
    use(monkeypatch, Scripted(google, [remote("r1"), remote("r2", rating=5)]))

    first = services.reviews_fetch(account=google)
    second = services.reviews_fetch(account=google)

    assert (first.new, second.new, second.unchanged) == (2, 0, 2)
    assert Review.objects.count() == 2
    assert ReviewTask.objects.filter(state=TaskState.OPEN).count() == 2


def test_task_goes_to_the_restaurants_review_manager(google, monkeypatch, review_manager):
    use(monkeypatch, Scripted(google, [remote()]))

    services.reviews_fetch(account=google)

    assert ReviewTask.objects.get().assignee == review_manager


def test_changed_review_reopens_a_task_after_the_answer(google, monkeypatch, review_manager):
    provider = use(monkeypatch, Scripted(google, [remote()]))
    services.reviews_fetch(account=google)
    review = Review.objects.get()
    services.review_reply(review=review, by=review_manager, text="Merci !")
    provider.reviews = [
        remote(text="Finalement décevant", rating=2, updated_at=WRITTEN + dt.timedelta(days=3))
    ]

    outcome = services.reviews_fetch(account=google)

    assert outcome.changed == 1
    tasks = list(ReviewTask.objects.order_by("pk").values_list("state", "reason"))
    assert tasks == [(TaskState.ANSWERED, "new"), (TaskState.OPEN, "changed")]
    review.refresh_from_db()
    assert (review.rating, review.sentiment) == (2, Sentiment.NEGATIVE)


def test_unchanged_text_does_not_reopen(google, monkeypatch, review_manager):
    provider = use(monkeypatch, Scripted(google, [remote()]))
    services.reviews_fetch(account=google)
    services.review_reply(review=Review.objects.get(), by=review_manager, text="Merci !")
    provider.reviews = [remote(updated_at=WRITTEN + dt.timedelta(days=1))]

    services.reviews_fetch(account=google)

    assert ReviewTask.objects.filter(state=TaskState.OPEN).count() == 0


def test_no_task_without_review_management_in_the_contract(monkeypatch, db):
    restaurant = RestaurantFactory(client=True)
    account = make_account(restaurant, "google")
    use(monkeypatch, Scripted(account, [remote()]))

    services.reviews_fetch(account=account)

    assert Review.objects.count() == 1 and ReviewTask.objects.count() == 0


def test_review_already_answered_on_the_platform_opens_no_task(google, monkeypatch):
    answered = remote(reply_text="Merci", replied_at=WRITTEN + dt.timedelta(hours=2))
    use(monkeypatch, Scripted(google, [answered]))

    services.reviews_fetch(account=google)

    assert ReviewTask.objects.count() == 0
    assert Review.objects.get().reply_text == "Merci"


def test_negative_review_lands_on_the_timeline(google, monkeypatch, bistro):
    use(monkeypatch, Scripted(google, [remote(rating=1, text="À éviter, service horrible")]))

    services.reviews_fetch(account=google)

    activity = Activity.objects.get(restaurant=bistro, origin="review")
    assert "1/5" in activity.subject
    assert Review.objects.get().sentiment == Sentiment.NEGATIVE


def test_tripadvisor_review_text_is_not_kept(bistro, monkeypatch):
    account = make_account(bistro, "tripadvisor")
    use(monkeypatch, Scripted(account, [remote(storable=False)]))

    services.reviews_fetch(account=account)

    review = Review.objects.get()
    assert (review.text, review.author, review.rating) == ("", "", 4)
    assert review.text_digest != ""


def test_due_time_skips_the_weekend():
    friday_5pm = dt.datetime(2026, 11, 13, 17, 0, tzinfo=PARIS)

    due = add_business_hours(
        friday_5pm, 24, day_start=dt.time(9), day_end=dt.time(18), weekdays={0, 1, 2, 3, 4},
        tz="Europe/Paris",
    )  # fmt: skip

    # Friday 1 h, Monday 9 h, Tuesday 9 h, Wednesday 5 h.
    assert due == dt.datetime(2026, 11, 18, 14, 0, tzinfo=PARIS)


def test_due_time_across_the_autumn_clock_change():
    friday_5pm = dt.datetime(2026, 10, 23, 17, 0, tzinfo=PARIS)  # UTC+2

    due = add_business_hours(
        friday_5pm, 24, day_start=dt.time(9), day_end=dt.time(18), weekdays={0, 1, 2, 3, 4},
        tz="Europe/Paris",
    )  # fmt: skip

    # Wednesday 28 October 14:00 in Paris is 13:00 UTC (winter time since the 25th).
    assert due == dt.datetime(2026, 10, 28, 13, 0, tzinfo=dt.UTC)


def test_due_time_arriving_at_night_starts_next_morning():
    tuesday_night = dt.datetime(2026, 11, 17, 23, 30, tzinfo=PARIS)

    due = add_business_hours(
        tuesday_night, 4, day_start=dt.time(9), day_end=dt.time(18), weekdays={0, 1, 2, 3, 4},
        tz="Europe/Paris",
    )  # fmt: skip

    assert due == dt.datetime(2026, 11, 18, 13, 0, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("rating", "text", "expected"),
    [
        (5, "Excellent, je recommande", Sentiment.POSITIVE),
        (2, "Déçu, plat froid", Sentiment.NEGATIVE),
        (None, "Awful service, avoid", Sentiment.NEGATIVE),
        (None, "Amazing food and friendly staff", Sentiment.POSITIVE),
        (3, "", Sentiment.NEUTRAL),
        (4, "Service horrible et impoli", Sentiment.NEGATIVE),
    ],
)
def test_sentiment_from_rating_and_text(rating, text, expected):
    assert sentiment_of(rating=rating, text=text) == expected


def test_reply_through_the_platform_closes_the_task(google, monkeypatch, review_manager):
    provider = use(monkeypatch, Scripted(google, [remote()]))
    services.reviews_fetch(account=google)
    review = Review.objects.get()

    services.review_reply(review=review, by=review_manager, text="Merci Camille !")

    review.refresh_from_db()
    assert provider.replies == [("r1", "Merci Camille !")]
    assert (review.reply_text, review.reply_sent, review.replied_by) == (
        "Merci Camille !", True, review_manager,
    )  # fmt: skip
    assert ReviewTask.objects.get().state == TaskState.ANSWERED


def test_google_reply_over_4096_bytes_is_refused_before_sending(
    google, monkeypatch, review_manager
):
    provider = use(monkeypatch, Scripted(google, [remote()]))
    services.reviews_fetch(account=google)

    with pytest.raises(ValidationError):
        services.review_reply(review=Review.objects.get(), by=review_manager, text="é" * 2049)

    assert provider.replies == []


def test_network_without_reply_endpoint_is_marked_answered(facebook, monkeypatch, review_manager):
    use(monkeypatch, Scripted(facebook, [remote()]))
    services.reviews_fetch(account=facebook)
    review = Review.objects.get()
    monkeypatch.undo()

    with pytest.raises(ValidationError):
        services.review_reply(review=review, by=review_manager, text="Merci")
    services.review_mark_answered(review=review, by=review_manager, text="Merci (sur Facebook)")

    review.refresh_from_db()
    assert (review.reply_sent, review.reply_text) == (False, "Merci (sur Facebook)")
    assert ReviewTask.objects.get().state == TaskState.ANSWERED


def test_response_statistics_median_p90_and_share_within_target(google, bistro):
    review = Review.objects.create(
        account=google, restaurant=bistro, network="google", external_id="x", written_at=WRITTEN,
        updated_at=WRITTEN,
    )  # fmt: skip
    opened = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    for hours in (1, 2, 3, 10, 30):
        ReviewTask.objects.create(
            review=review, state=TaskState.ANSWERED, opened_at=opened,
            due_at=opened + dt.timedelta(hours=24), answered_at=opened + dt.timedelta(hours=hours),
        )  # fmt: skip

    stats = response_stats(
        restaurant=bistro, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 30)
    )

    entry = stats[("google", dt.date(2026, 11, 1))]
    assert (entry.answered, entry.median_hours, entry.p90_hours) == (5, 3.0, 30.0)
    assert entry.share_within_target == 80.0


@pytest.mark.parametrize("scope", ["restaurant", "user"])
def test_response_statistics_agree_per_restaurant_and_per_queue(
    google, bistro, review_manager, scope
):
    """The queue's figures come from the database's own percentiles on PostgreSQL, a
    restaurant's from Python: both give the nearest-rank 90th percentile and the median."""
    review = Review.objects.create(
        account=google, restaurant=bistro, network="google", external_id="x", written_at=WRITTEN,
        updated_at=WRITTEN,
    )  # fmt: skip
    other = RestaurantFactory(name="Ailleurs", client=True)
    elsewhere = Review.objects.create(
        account=make_account(other, "google"), restaurant=other, network="google",
        external_id="y", written_at=WRITTEN, updated_at=WRITTEN,
    )  # fmt: skip
    opened = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    for target, hours in [(review, h) for h in (1, 2, 3, 10, 30, 31)] + [(elsewhere, 50)]:
        ReviewTask.objects.create(
            review=target, state=TaskState.ANSWERED, opened_at=opened,
            due_at=opened + dt.timedelta(hours=24), answered_at=opened + dt.timedelta(hours=hours),
        )  # fmt: skip
    # Answered in December: another month.
    ReviewTask.objects.create(
        review=review, state=TaskState.ANSWERED, opened_at=opened,
        due_at=opened, answered_at=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    scoped = {"restaurant": bistro} if scope == "restaurant" else {"user": review_manager}

    stats = response_stats(**scoped, since=dt.date(2026, 11, 1), until=dt.date(2026, 12, 31))

    november = stats[("google", dt.date(2026, 11, 1))]
    assert (november.answered, november.within_target) == (6, 4)
    assert (november.median_hours, november.p90_hours) == (6.5, 31.0)
    assert stats[("google", dt.date(2026, 12, 1))].answered == 1
    assert len(stats) == 2


def test_the_review_carries_its_open_tasks_due_time(google, monkeypatch, review_manager):
    provider = use(monkeypatch, Scripted(google, [remote()]))
    services.reviews_fetch(account=google)
    review = Review.objects.get()
    task = ReviewTask.objects.get()
    assert review.open_due_at == task.due_at

    services.review_reply(review=review, by=review_manager, text="Merci !")
    assert Review.objects.get().open_due_at is None

    provider.reviews = [remote(text="Finalement décevant", rating=2)]
    services.reviews_fetch(account=google)
    reopened = ReviewTask.objects.get(state=TaskState.OPEN)
    assert Review.objects.get().open_due_at == reopened.due_at


def test_fetch_reviews_command_reports_each_account(google, facebook, capsys):
    from django.core.management import call_command

    call_command("fetch_reviews", "--full")

    expected = Review.objects.count()
    assert expected > 0
    assert (
        f"2 account(s): {expected} new review(s), 0 changed, 0 failed." in capsys.readouterr().out
    )


# --- Reviews changed after their answer, replies made on the platform ---------------------------


def _answered_then_changed(google, monkeypatch, review_manager):
    """A Google review answered from the desk, then lowered by its author on the platform."""
    provider = use(monkeypatch, Scripted(google, [remote()]))
    services.reviews_fetch(account=google)
    review = Review.objects.get()
    services.review_reply(review=review, by=review_manager, text="Merci !")
    provider.reviews = [
        remote(text="Finalement décevant", rating=2, updated_at=WRITTEN + dt.timedelta(days=3))
    ]
    services.reviews_fetch(account=google)
    review.refresh_from_db()
    return provider, review


def test_review_changed_after_its_answer_waits_for_another(google, monkeypatch, review_manager):
    _provider, review = _answered_then_changed(google, monkeypatch, review_manager)

    assert review.replied_at is not None and review.open_due_at is not None
    assert not review.is_answered
    assert list(Review.objects.unanswered()) == [review]
    assert list(Review.objects.answered()) == []


def test_review_changed_after_its_answer_is_answered_again_from_its_page(
    client, google, monkeypatch, review_manager
):
    provider, review = _answered_then_changed(google, monkeypatch, review_manager)
    client.force_login(review_manager)
    url = reverse("social:review_detail", args=[review.pk])

    page = client.get(url).content.decode()
    unanswered = client.get(reverse("social:review_queue"), {"answered": "no"})
    answered = client.get(reverse("social:review_queue"), {"answered": "yes"})

    assert 'data-testid="send-reply"' in page and 'data-testid="mark-answered"' in page
    assert 'data-testid="changed-since-answer"' in page
    assert [item.pk for item in unanswered.context["page"]] == [review.pk]
    assert list(answered.context["page"]) == []
    assert 'data-testid="to-answer"' in unanswered.content.decode()

    response = client.post(url, {"text": "Désolés, revenez nous voir", "action": "send"})

    assert response.status_code == 302
    assert provider.replies[-1] == ("r1", "Désolés, revenez nous voir")
    review.refresh_from_db()
    assert review.is_answered and review.reply_text == "Désolés, revenez nous voir"
    assert ReviewTask.objects.filter(state=TaskState.OPEN).count() == 0
    after = client.get(reverse("social:review_queue"), {"answered": "yes"})
    assert [item.pk for item in after.context["page"]] == [review.pk]
    assert 'data-testid="send-reply"' not in client.get(url).content.decode()
    today = timezone.localdate()
    stats = response_stats(restaurant=review.restaurant, since=today, until=today)
    assert stats[("google", today.replace(day=1))].answered == 2


def test_reply_made_on_google_closes_the_open_task_at_its_time(
    client, google, monkeypatch, review_manager
):
    now = timezone.now()
    written = now - dt.timedelta(days=1)
    provider = use(monkeypatch, Scripted(google, [remote(written_at=written, updated_at=written)]))
    services.reviews_fetch(account=google)
    opened = now - dt.timedelta(hours=5)
    ReviewTask.objects.update(opened_at=opened, due_at=opened + dt.timedelta(hours=24))
    # The owner answers on Google itself; the review's own time stays as it was.
    replied = now - dt.timedelta(hours=2)
    provider.reviews = [
        remote(written_at=written, updated_at=written, reply_text="Merci !", replied_at=replied)
    ]

    outcome = services.reviews_fetch(account=google)

    assert outcome.answered == 1
    task = ReviewTask.objects.get()
    assert (task.state, task.answered_at, task.answered_by) == (TaskState.ANSWERED, replied, None)
    review = Review.objects.get()
    assert (review.reply_text, review.replied_at, review.reply_sent) == ("Merci !", replied, False)
    assert review.open_due_at is None and review.is_answered
    local = timezone.localtime(replied).date()
    stats = response_stats(restaurant=review.restaurant, since=local, until=local)
    entry = stats[("google", local.replace(day=1))]
    assert (entry.answered, entry.within_target, entry.median_hours) == (1, 1, 3.0)
    client.force_login(review_manager)
    page = client.get(reverse("social:review_detail", args=[review.pk])).content.decode()
    assert 'data-testid="send-reply"' not in page
    assert "Merci !" in page
    # Seen again as it is: nothing more happens.
    assert services.reviews_fetch(account=google).answered == 0


def test_platform_reply_older_than_the_change_leaves_the_task_open(
    google, monkeypatch, review_manager
):
    now = timezone.now()
    written = now - dt.timedelta(days=3)
    replied = written + dt.timedelta(hours=2)
    changed = now - dt.timedelta(days=1)
    provider = use(
        monkeypatch,
        Scripted(google, [remote(written_at=written, updated_at=written, reply_text="Merci !",
                                 replied_at=replied)]),
    )  # fmt: skip
    services.reviews_fetch(account=google)
    assert ReviewTask.objects.count() == 0
    provider.reviews = [
        remote(written_at=written, updated_at=changed, rating=1, text="Plus jamais",
               reply_text="Merci !", replied_at=replied),
    ]  # fmt: skip

    first = services.reviews_fetch(account=google)
    again = services.reviews_fetch(account=google)

    assert (first.changed, first.answered, again.answered) == (1, 0, 0)
    assert ReviewTask.objects.get().state == TaskState.OPEN
    assert not Review.objects.get().is_answered
    # The owner then changes the answer on Google: the change is answered.
    later = now - dt.timedelta(minutes=5)
    provider.reviews = [
        remote(written_at=written, updated_at=changed, rating=1, text="Plus jamais",
               reply_text="Nous sommes désolés", replied_at=later),
    ]  # fmt: skip

    assert services.reviews_fetch(account=google).answered == 1
    review = Review.objects.get()
    assert (review.reply_text, review.replied_at, review.is_answered) == (
        "Nous sommes désolés", later, True,
    )  # fmt: skip


def test_own_reply_coming_back_from_the_platform_changes_nothing(
    google, monkeypatch, review_manager
):
    provider = use(monkeypatch, Scripted(google, [remote()]))
    services.reviews_fetch(account=google)
    review = services.review_reply(review=Review.objects.get(), by=review_manager, text="Merci !")
    provider.reviews = [
        remote(reply_text="Merci !", replied_at=review.replied_at + dt.timedelta(seconds=1))
    ]

    services.reviews_fetch(account=google)

    review.refresh_from_db()
    assert (review.replied_by, review.reply_sent) == (review_manager, True)


class Recording(Scripted):
    def __init__(self, account, reviews, *, replies_in_reviews=True):
        super().__init__(account, reviews)
        self.replies_in_reviews = replies_in_reviews
        self.since = []

    def fetch_reviews(self, since):
        self.since.append(since)
        return self.reviews


@pytest.mark.parametrize(
    ("changed_days_ago", "replies_in_reviews", "expected_days_back"),
    [(None, True, None), (10, True, 10), (60, True, 30), (10, False, None)],
)
def test_fetch_reads_back_to_the_oldest_review_waiting_for_an_answer(
    google, monkeypatch, changed_days_ago, replies_in_reviews, expected_days_back
):
    now = timezone.now()
    last = now - dt.timedelta(days=1)
    google.last_reviews_at = last
    google.save(update_fields=["last_reviews_at"])
    if changed_days_ago is not None:
        changed = now - dt.timedelta(days=changed_days_ago)
        Review.objects.create(
            account=google, restaurant=google.restaurant, network="google", external_id="old",
            written_at=changed, updated_at=changed, open_due_at=now,
        )  # fmt: skip
    provider = use(monkeypatch, Recording(google, [], replies_in_reviews=replies_in_reviews))

    services.reviews_fetch(account=google)

    (since,) = provider.since
    if expected_days_back is None:
        assert since == last - services.REVIEWS_OVERLAP
    elif expected_days_back == changed_days_ago:
        assert since == changed
    else:
        assert abs(since - (now - dt.timedelta(days=expected_days_back))) < dt.timedelta(minutes=1)
