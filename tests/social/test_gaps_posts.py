"""The post page offers Retry on a failed publication only, and only to who manages posts; a
draft is saved, and a scheduled post unscheduled, through the page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from social import services
from social.enums import PostStatus, PublicationState
from social.models import Post, Publication


@pytest.fixture
def post(bistro, facebook, instagram, community_manager):
    return services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook, instagram], text="Jazz"
    )


def _retry_forms(html: str) -> dict[int, bool]:
    """For each publication row of the page: whether it holds the Retry button."""
    rows = html.split('data-testid="publications"', 1)[1].split("</table>", 1)[0]
    found = {}
    for row in rows.split("<tr data-publication=")[1:]:
        pk = int(row.split('"')[1])
        found[pk] = 'data-testid="retry"' in row.split("</tr>", 1)[0]
    return found


def test_retry_is_offered_on_the_failed_publication_not_the_published_one(
    client, community_manager, post, facebook, instagram
):
    failed = Publication.objects.get(post=post, account=facebook)
    published = Publication.objects.get(post=post, account=instagram)
    Publication.objects.filter(pk=failed.pk).update(
        state=PublicationState.FAILED, last_error="Meta error 500"
    )
    Publication.objects.filter(pk=published.pk).update(
        state=PublicationState.PUBLISHED, published_at=timezone.now()
    )
    client.force_login(community_manager)

    html = client.get(reverse("social:post_edit", args=[post.pk])).content.decode()

    assert _retry_forms(html) == {failed.pk: True, published.pk: False}
    retry_url = reverse("social:publication_retry", args=[failed.pk])
    assert f'action="{retry_url}"' in html
    assert reverse("social:publication_retry", args=[published.pk]) not in html


def test_retry_is_not_offered_to_who_only_sees_posts(client, client_manager, post, facebook):
    Publication.objects.filter(post=post, account=facebook).update(state=PublicationState.FAILED)
    client.force_login(client_manager)

    response = client.get(reverse("social:post_edit", args=[post.pk]))

    assert response.status_code == 200
    assert set(_retry_forms(response.content.decode()).values()) == {False}


def test_a_draft_is_created_and_saved_again_through_the_page(
    client, community_manager, bistro, facebook, instagram
):
    client.force_login(community_manager)

    created = client.post(
        reverse("social:post_create", args=[bistro.pk]),
        {"accounts": [facebook.pk], "text": "Brunch", "action": "draft"},
    )
    post = Post.objects.get()
    edited = client.post(
        reverse("social:post_edit", args=[post.pk]),
        {"accounts": [facebook.pk, instagram.pk], "text": "Brunch dimanche", "action": "draft"},
    )

    assert (created.status_code, created["Location"]) == (
        302, reverse("social:post_edit", args=[post.pk]),
    )  # fmt: skip
    assert edited.status_code == 302
    post.refresh_from_db()
    assert (post.text, post.status, post.scheduled_at) == (
        "Brunch dimanche",
        PostStatus.DRAFT,
        None,
    )
    assert set(post.publications.values_list("account_id", "state", "due_at")) == {
        (facebook.pk, PublicationState.DRAFT, None), (instagram.pk, PublicationState.DRAFT, None),
    }  # fmt: skip
    assert Post.objects.count() == 1


def test_saving_a_scheduled_post_as_a_draft_unschedules_it(
    client, community_manager, bistro, facebook, google
):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook, google], text="Jazz"
    )
    at = timezone.now() + dt.timedelta(days=2)
    services.post_schedule(post=post, by=community_manager, at=at)
    Publication.objects.filter(post=post, account=google).update(
        state=PublicationState.FAILED, last_error="Google error 400"
    )
    client.force_login(community_manager)

    response = client.post(
        reverse("social:post_edit", args=[post.pk]),
        {"accounts": [facebook.pk, google.pk], "text": "Jazz", "action": "draft"},
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.status, post.scheduled_at) == (PostStatus.DRAFT, at)
    assert set(post.publications.values_list("account_id", "state", "due_at")) == {
        (facebook.pk, PublicationState.DRAFT, None), (google.pk, PublicationState.DRAFT, None),
    }  # fmt: skip
    assert services.publications_due(now=at + dt.timedelta(minutes=1)) == []
    page = client.get(reverse("social:post_edit", args=[post.pk]))
    assert page.context["form"].initial["action"] == "draft"
