"""The post page offers Retry on a failed publication only, and only to who manages posts."""

import pytest
from django.urls import reverse
from django.utils import timezone

from social import services
from social.enums import PublicationState
from social.models import Publication


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
