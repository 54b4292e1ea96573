import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from social.enums import PostStatus, PublicationState, TaskState
from social.models import Post, Review, ReviewTask
from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.social.conftest import make_account, make_bistro

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bistro(community_manager, review_manager, client_manager):
    return make_bistro(
        community_manager=community_manager,
        review_manager=review_manager,
        client_manager=client_manager,
    )


def test_community_manager_schedules_a_post_to_two_accounts(
    page, live_server, community_manager, bistro
):
    facebook = make_account(bistro, "facebook")
    google = make_account(bistro, "google")
    make_account(bistro, "tripadvisor")
    login(page, community_manager.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    day = timezone.localdate() + dt.timedelta(days=2)

    page.goto(f"/restaurants/{bistro.pk}/social/posts/new/")
    form = page.locator("[data-testid=post-form]")
    # TripAdvisor takes no posts: only the two others are offered.
    assert form.locator("input[name=accounts]").count() == 2
    form.get_by_label(f"Facebook - {facebook.name}").check()
    form.get_by_label(f"Fiche d'établissement Google - {google.name}").check()
    form.locator("textarea[name=text]").fill("Soirée jazz vendredi, réservez !")
    page.locator("#post-preview [data-preview=google]").wait_for()
    assert page.locator("#post-preview article").count() == 2
    form.locator("input[name=day]").fill(day.isoformat())
    form.locator("input[name=time]").fill("19:30")
    with page.expect_navigation():
        form.locator("[data-testid=schedule]").click()

    page.locator("[data-testid=publications]").wait_for()
    assert page.locator("[data-publication-state=scheduled]").count() == 2
    post = Post.objects.get()
    assert post.status == PostStatus.SCHEDULED
    local = timezone.localtime(post.scheduled_at, ZoneInfo("Europe/Paris"))
    assert (local.date(), local.hour, local.minute) == (day, 19, 30)
    assert set(post.publications.values_list("state", flat=True)) == {PublicationState.SCHEDULED}


def test_review_manager_answers_a_review_from_the_queue(page, live_server, review_manager, bistro):
    google = make_account(bistro, "google")
    now = timezone.now()
    review = Review.objects.create(
        account=google, restaurant=bistro, network="google", external_id="g-1", author="Camille",
        rating=5, text="Excellent accueil !", language="fr", written_at=now, updated_at=now,
    )  # fmt: skip
    ReviewTask.objects.create(
        review=review, assignee=review_manager, due_at=now + dt.timedelta(hours=5)
    )
    login(page, review_manager.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/reviews/")
    with page.expect_navigation():
        page.locator(f"[data-review='{review.pk}'] a[href='/reviews/{review.pk}/']").click()
    page.locator("[data-testid=reply-templates] button").first.click()
    text = page.locator("textarea[name=text]").input_value()
    assert "Camille" in text and "Le Bistro" in text
    with page.expect_navigation():
        page.locator("[data-testid=send-reply]").click()

    page.locator("[data-testid=reply]").wait_for()
    review.refresh_from_db()
    assert (review.reply_text, review.reply_sent) == (text, True)
    assert ReviewTask.objects.get().state == TaskState.ANSWERED
