import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.enums import RoleName
from social import services
from social.models import MetricSnapshot, Post, Publication, Review, ReviewTask
from tests.factories import RestaurantFactory, UserFactory
from tests.social.conftest import make_account


@pytest.fixture
def outsider(db):
    """A community manager (and review manager) of other restaurants."""
    return UserFactory(
        username="outsider", roles=[RoleName.COMMUNITY_MANAGER, RoleName.REVIEW_MANAGER]
    )


@pytest.fixture
def world(bistro, facebook, community_manager):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="x"
    )
    Publication.objects.update(state="failed")
    review = Review.objects.create(
        account=facebook, restaurant=bistro, network="facebook", external_id="r", rating=3,
        written_at=timezone.now(), updated_at=timezone.now(),
    )  # fmt: skip
    return {"post": post, "review": review, "publication": Publication.objects.get()}


@pytest.mark.parametrize(
    ("name", "method", "key"),
    [
        ("social:restaurant_social", "get", "restaurant"),
        ("social:restaurant_section", "get", "restaurant"),
        ("social:post_create", "get", "restaurant"),
        ("social:post_edit", "get", "post"),
        ("social:post_delete", "post", "post"),
        ("social:publication_retry", "post", "publication"),
        ("social:review_detail", "get", "review"),
        ("social:restaurant_fetch", "post", "restaurant"),
        ("social:account_disconnect", "post", "account"),
    ],
)
def test_outside_its_restaurants_a_manager_gets_404(
    client, outsider, world, bistro, facebook, name, method, key
):
    objects = world | {"restaurant": bistro, "account": facebook}
    arg = "restaurant_pk" if key == "restaurant" else "pk"
    client.force_login(outsider)

    response = getattr(client, method)(reverse(name, kwargs={arg: objects[key].pk}))

    assert response.status_code == 404


def test_other_restaurants_posts_and_reviews_are_not_listed(client, outsider, world):
    client.force_login(outsider)

    posts = client.get(reverse("social:post_list"))
    reviews = client.get(reverse("social:review_queue"))
    events = client.get(
        reverse("social:post_events"),
        {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"},
    )

    assert list(posts.context["page"]) == [] and list(reviews.context["page"]) == []
    assert events.json() == {"events": [], "more": False, "notice": ""}


def _snapshots(account, days: int) -> None:
    start = timezone.localdate() - dt.timedelta(days=days)
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(account=account, metric=metric, day=start + dt.timedelta(days=offset), value=offset)
        for offset in range(days)
        for metric in ("followers", "reach", "bookings", "calls")
    )  # fmt: skip


# The social page's queries: the same over 30 days as over 24 months, with one day of history
# or two years (sessions, user, restaurant, accounts, charts, reviews, posts, evolution with its
# posts published, ROI...).
SOCIAL_PAGE_QUERIES = 25


@pytest.mark.parametrize("period", ["30d", "24m"])
@pytest.mark.parametrize("days", [1, 730])
def test_social_page_queries_do_not_grow_with_history(
    client, community_manager, bistro, facebook, google, days, period, django_assert_num_queries
):
    _snapshots(facebook, days)
    _snapshots(google, days)
    for offset in range(0, days, 7):
        written = timezone.now() - dt.timedelta(days=offset)
        Review.objects.create(
            account=google, restaurant=bistro, network="google", external_id=f"h{offset}",
            rating=4, written_at=written, updated_at=written,
        )  # fmt: skip
    client.force_login(community_manager)

    with django_assert_num_queries(SOCIAL_PAGE_QUERIES):
        response = client.get(
            reverse("social:restaurant_social", args=[bistro.pk]), {"period": period}
        )

    assert response.status_code == 200
    chart = response.context["charts"]["charts"][0]
    assert chart["key"] == "audience" and len(chart["datasets"]) == 1


def test_evolution_and_roi_from_the_snapshots(client, community_manager, bistro, google):
    month = timezone.localdate().replace(day=1)
    last = (month - dt.timedelta(days=1)).replace(day=1)
    MetricSnapshot.objects.bulk_create(
        [
            MetricSnapshot(account=google, metric="bookings", day=last, value=10),
            MetricSnapshot(account=google, metric="bookings", day=last + dt.timedelta(days=1), value=10),
            MetricSnapshot(account=google, metric="calls", day=last, value=10),
            MetricSnapshot(account=google, metric="bookings", day=(last - dt.timedelta(days=1)).replace(day=1), value=16),
        ]
    )  # fmt: skip
    services.social_profile_update(restaurant=bistro, by=community_manager, average_ticket=30)
    client.force_login(community_manager)

    response = client.get(
        reverse("social:restaurant_social", args=[bistro.pk]), {"month": last.strftime("%Y-%m")}
    )

    bookings = next(row for row in response.context["evolution"] if row.metric == "bookings")
    assert (bookings.value, bookings.previous, bookings.month_over_month) == (20, 16, 25.0)
    roi = response.context["roi"]
    # 20 bookings x 2.5 guests + 10 calls x 0.3 x 2 guests = 56 guests, at 30 EUR each.
    assert (str(roi.guests), str(roi.value), str(roi.ratio)) == ("56.0", "1680.00", "8.40")


def _many_posts(restaurant, account, user, count):
    for number in range(count):
        services.post_save(
            by=user, restaurant=restaurant, accounts=[account], text=f"post {number}"
        )


@pytest.mark.parametrize("count", [1, 25])
def test_post_list_queries_are_constant(
    client, community_manager, bistro, facebook, google, count, django_assert_max_num_queries
):
    _many_posts(bistro, facebook, community_manager, count)
    client.force_login(community_manager)

    with django_assert_max_num_queries(14):
        response = client.get(reverse("social:post_list"))

    assert len(response.context["page"]) == count


@pytest.mark.parametrize("count", [1, 25])
def test_review_queue_queries_are_constant(
    client, review_manager, bistro, google, count, django_assert_max_num_queries
):
    for number in range(count):
        review = Review.objects.create(
            account=google, restaurant=bistro, network="google", external_id=f"r{number}", rating=2,
            written_at=timezone.now(), updated_at=timezone.now(),
            open_due_at=timezone.now() - dt.timedelta(hours=1),
        )  # fmt: skip
        ReviewTask.objects.create(review=review, due_at=review.open_due_at)
    client.force_login(review_manager)

    with django_assert_max_num_queries(14):
        response = client.get(reverse("social:review_queue"), {"overdue": "1"})

    assert len(response.context["page"]) == count
    assert response.context["overdue_count"] == count


@pytest.mark.parametrize("count", [1, 20])
def test_health_and_dashboard_queries_are_constant(
    client, community_manager, count, django_assert_max_num_queries
):
    for number in range(count):
        restaurant = RestaurantFactory(client=True, community_manager=community_manager)
        account = make_account(restaurant, "facebook", state="needs_reconnect")
        post = services.post_save(
            by=community_manager, restaurant=restaurant, accounts=[account], text=f"p{number}"
        )
        services.post_schedule(
            post=post, by=community_manager, at=timezone.now() + dt.timedelta(days=1)
        )
    client.force_login(community_manager)

    with django_assert_max_num_queries(16):
        health = client.get(reverse("social:health"))
    with django_assert_max_num_queries(24):
        dashboard = client.get(reverse("dashboard"))

    assert health.context["counts"]["needs_reconnect"] == count
    assert len(dashboard.context["social_day"]["week_posts"]) == count
    assert len(dashboard.context["social_day"]["reconnect"]) == min(count, 20)


def test_reply_with_a_template_from_the_queue(client, review_manager, bistro, google):
    review = Review.objects.create(
        account=google, restaurant=bistro, network="google", external_id="r", rating=5,
        author="Camille", language="fr", written_at=timezone.now(), updated_at=timezone.now(),
    )  # fmt: skip
    ReviewTask.objects.create(review=review, due_at=timezone.now() + dt.timedelta(hours=3))
    client.force_login(review_manager)

    page = client.get(reverse("social:review_detail", args=[review.pk]))
    first = page.context["templates"][0]
    response = client.post(
        reverse("social:review_detail", args=[review.pk]), {"text": first["text"], "action": "send"}
    )

    assert "Camille" in first["text"] and "Le Bistro" in first["text"]
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.reply_sent and review.reply_text == first["text"]


def test_fetch_reviews_button_for_a_review_manager(
    client, review_manager, bistro, google, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(review_manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("social:restaurant_fetch", args=[bistro.pk]), {"what": "reviews"}
        )

    assert response.status_code == 302
    google.refresh_from_db()
    assert google.last_reviews_at is not None


def test_posts_of_a_draft_restaurant_filter_by_manager(client, direction, world, community_manager):
    client.force_login(direction)

    mine = client.get(reverse("social:post_list"), {"manager": community_manager.pk})
    nobody = client.get(reverse("social:post_list"), {"manager": 999999})

    assert [post.pk for post in mine.context["page"]] == [world["post"].pk]
    assert list(nobody.context["page"]) == []
    assert Post.objects.count() == 1


def test_queue_lists_open_reviews_by_due_time_before_answered_ones(
    client, review_manager, bistro, google
):
    now = timezone.now()

    def review(name, *, due_in=None, replied=False, written_days_ago=1):
        due = now + dt.timedelta(hours=due_in) if due_in is not None else None
        made = Review.objects.create(
            account=google, restaurant=bistro, network="google", external_id=name, rating=4,
            author=name, written_at=now - dt.timedelta(days=written_days_ago), updated_at=now,
            replied_at=now - dt.timedelta(hours=replied) if replied else None, open_due_at=due,
        )  # fmt: skip
        if due is not None:
            ReviewTask.objects.create(review=made, due_at=due)
        return made

    review("answered long ago", replied=30, written_days_ago=0)
    review("answered", replied=1, written_days_ago=5)
    review("later", due_in=30)
    review("sooner", due_in=2)
    review("no task", written_days_ago=3)
    review("no task, newer", written_days_ago=2)
    client.force_login(review_manager)

    page = client.get(reverse("social:review_queue"))

    names = [item.external_id for item in page.context["page"]]
    assert names == [
        "sooner", "later", "no task, newer", "no task", "answered", "answered long ago",
    ]  # fmt: skip
    overdue = client.get(reverse("social:review_queue"), {"overdue": "1"})
    assert list(overdue.context["page"]) == []


@pytest.mark.parametrize(
    ("back", "expected"),
    [
        ("/restaurants/", "/restaurants/"),
        ("https://evil.example/phish", None),
        ("//evil.example/phish", None),
    ],
)
def test_fetch_now_goes_back_only_to_a_page_of_the_site(
    client, community_manager, bistro, facebook, back, expected, eager_tasks
):
    client.force_login(community_manager)

    response = client.post(
        reverse("social:restaurant_fetch", args=[bistro.pk]), {"what": "metrics", "next": back}
    )

    assert response.status_code == 302
    assert response["Location"] == (
        expected or reverse("social:restaurant_social", args=[bistro.pk])
    )


def test_retrying_a_failed_publication_publishes_it_after_commit(
    client, community_manager, world, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(community_manager)
    publication = world["publication"]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("social:publication_retry", args=[publication.pk]))
    publication.refresh_from_db()
    assert (response.status_code, publication.state, len(callbacks)) == (302, "scheduled", 1)

    callbacks[0]()

    publication.refresh_from_db()
    assert publication.state == "published"


def test_accounts_table_gives_the_last_metrics_and_reviews_fetch(client, community_manager, bistro):
    from django.utils import dateformat, translation

    at = timezone.now().replace(second=0, microsecond=0)
    account = make_account(bistro, "google", last_fetch_at=at - dt.timedelta(days=1))
    tripadvisor = make_account(bistro, "tripadvisor", last_reviews_at=at)
    community_manager.language = "en"
    community_manager.save(update_fields=["language"])
    client.force_login(community_manager)

    page = client.get(reverse("social:restaurant_social", args=[bistro.pk])).content.decode()

    with translation.override("en"):
        metrics = dateformat.format(timezone.localtime(at - dt.timedelta(days=1)), "m/d/Y P")
        reviews = dateformat.format(timezone.localtime(at), "m/d/Y P")
    table = page[page.index('data-testid="social-accounts"') :]
    table = table[: table.index("</table>")]
    assert '<th scope="col">Last metrics fetch</th><th scope="col">Last reviews fetch</th>' in table
    google_row = table.split(f'<tr data-account="{account.pk}">')[1].split("</tr>")[0]
    tripadvisor_row = table.split(f'<tr data-account="{tripadvisor.pk}">')[1].split("</tr>")[0]
    assert f"<td>{metrics}</td>\n      <td>—</td>" in google_row
    assert f"<td>—</td>\n      <td>{reviews}</td>" in tripadvisor_row
