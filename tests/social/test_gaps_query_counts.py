"""The review page, the post composer and the restaurant page's social section run a number of
queries that does not grow with the data behind them (history, tasks, templates, targets,
images, accounts)."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from comadvisor.connectors import Permanent
from comadvisor.models import SiteSettings
from social import services
from social.models import ReplyTemplate, Review, ReviewTask
from tests.social.conftest import make_account


@pytest.fixture(autouse=True)
def _site_settings(db, settings, tmp_path):
    """The site's settings exist, as on any site once its first page was shown (the first load
    creates the row, which is no page's own cost); uploaded images go to a folder of the test's."""
    SiteSettings.load()
    settings.MEDIA_ROOT = tmp_path


def jpeg(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (1080, 1080), (200, 80, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _reviews(account, count: int, review_manager):
    now = timezone.now()
    made = []
    for number in range(count):
        review = Review.objects.create(
            account=account, restaurant=account.restaurant, network=account.network,
            external_id=f"q{number}", author=f"A{number}", rating=1 + number % 5,
            written_at=now - dt.timedelta(days=number), updated_at=now,
            reply_text="Merci", replied_at=now, replied_by=review_manager,
        )  # fmt: skip
        made.append(review)
    return made


# Session, user, permissions, the review with its restaurant and account, its tasks, the history,
# the templates...: the same with one of each or twenty.
REVIEW_QUERIES = 9
# ... the post, its publications with their accounts, its images, the accounts one may post on,
# the posts per month of the contract.
POST_EDIT_QUERIES = 14
POST_CREATE_QUERIES = 9
SECTION_QUERIES = 6


@pytest.mark.parametrize("count", [1, 20])
def test_review_page_queries_do_not_grow_with_history_tasks_and_templates(
    client, review_manager, google, count, django_assert_max_num_queries
):
    review, *_others = _reviews(google, count + 1, review_manager)
    for number in range(count):
        answered = timezone.now() - dt.timedelta(hours=number)
        ReviewTask.objects.create(
            review=review, assignee=review_manager, due_at=answered, state="answered",
            answered_at=answered, answered_by=review_manager,
        )  # fmt: skip
        ReplyTemplate.objects.create(name=f"Merci {number}", body="Merci {reviewer} !")
    ReviewTask.objects.create(review=review, assignee=review_manager, due_at=timezone.now())
    client.force_login(review_manager)

    with django_assert_max_num_queries(REVIEW_QUERIES):
        response = client.get(reverse("social:review_detail", args=[review.pk]))

    assert response.status_code == 200
    assert len(response.context["tasks"]) == count + 1
    assert len(response.context["history"]) == min(count, 5)
    assert len(response.context["templates"]) == ReplyTemplate.objects.count() >= count


@pytest.mark.parametrize("count", [1, 10])
def test_post_page_queries_do_not_grow_with_targets_and_images(
    client, community_manager, bistro, count, django_assert_max_num_queries
):
    accounts = [make_account(bistro, network) for network in ("facebook", "google") * count]
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=accounts, text="Brunch",
        new_images=[jpeg(f"photo{number}.jpg") for number in range(count)],
    )  # fmt: skip
    post.publications.filter(account__network="google").update(
        state="failed", last_error_code="permanent", last_error="Google refused"
    )
    client.force_login(community_manager)

    with django_assert_max_num_queries(POST_EDIT_QUERIES):
        edit = client.get(reverse("social:post_edit", args=[post.pk]))
    with django_assert_max_num_queries(POST_CREATE_QUERIES):
        create = client.get(reverse("social:post_create", args=[bistro.pk]))

    assert (edit.status_code, create.status_code) == (200, 200)
    assert len(edit.context["publications"]) == 2 * count
    assert len(edit.context["images"]) == count
    assert len(create.context["form"].fields["accounts"].choices) == 2 * count


@pytest.mark.parametrize("count", [1, 20])
def test_restaurant_section_queries_do_not_grow_with_accounts(
    client, community_manager, bistro, count, django_assert_max_num_queries
):
    networks = ("facebook", "instagram", "google", "tripadvisor")
    for number in range(count):
        account = make_account(bistro, networks[number % 4])
        if number % 2:
            services.account_record_failure(account=account, error=Permanent("refused"))
    client.force_login(community_manager)

    with django_assert_max_num_queries(SECTION_QUERIES):
        response = client.get(reverse("social:restaurant_section", args=[bistro.pk]))

    assert response.status_code == 200
    assert len(response.context["accounts"]) == count
    assert response.content.decode().count("<tr data-account=") == count
