"""A post the platform refuses (a duplicate, an image it cannot use, an invalid argument) fails
that publication only: the account, which works, stays healthy. A refused token, a missing
permission or a rate limit still flags the account. Played on the platforms' recorded answers."""

import datetime as dt

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from social import services
from social.enums import AccountState, ErrorCode, PublicationState
from social.models import Publication
from social.providers import ContentRefused, Permanent, PostContent
from social.providers.facebook import FacebookProvider
from social.providers.google import GoogleProvider
from social.providers.instagram import InstagramProvider
from tests.social import recorded
from tests.social.conftest import make_account
from tests.social.recorded import RecordingHttp, google_answer
from tests.social.test_provider_google import CREDENTIALS, LOCATION

GRAPH = "https://graph.facebook.com/v26.0"
# Graph calls go to its own address (replayed, never sent), without an app secret.
pytestmark = pytest.mark.usefixtures("graph_settings")

PAGE = "108456789012345"
IG = "17841405822304914"
CONTAINER = "17889615691921648"


def _answer(rsps, method: str, path: str, network: str, name: str) -> None:
    recorded.add(rsps, method, f"{GRAPH}/{path}", recorded.recording(network, name))


@pytest.fixture
def page(bistro):
    return make_account(
        bistro, "facebook", demo=False, credentials='{"access_token": "t"}', external_id=PAGE
    )


@pytest.fixture
def instagram_account(bistro):
    return make_account(
        bistro, "instagram", demo=False, credentials='{"access_token": "t"}', external_id=IG
    )


@pytest.fixture
def location(bistro):
    return make_account(bistro, "google", demo=False, credentials=CREDENTIALS, external_id=LOCATION)


def _due(community_manager, account, *, text="Soirée jazz ce soir !") -> Publication:
    post = services.post_save(
        by=community_manager, restaurant=account.restaurant, accounts=[account], text=text
    )
    at = timezone.now() - dt.timedelta(seconds=5)
    services.post_schedule(post=post, by=community_manager, at=at, now=at)
    return post.publications.get()


def _due_as_it_stands(community_manager, account) -> Publication:
    """Due now without the composer's checks (an image removed after scheduling, a container
    made from an image since deleted): what the platform says is the point."""
    post = services.post_save(
        by=community_manager, restaurant=account.restaurant, accounts=[account], text="Brunch"
    )
    at = timezone.now() - dt.timedelta(seconds=5)
    post.status, post.scheduled_at = "scheduled", at
    post.save(update_fields=["status", "scheduled_at"])
    post.publications.update(state=PublicationState.SCHEDULED, due_at=at)
    return post.publications.get()


def _published_with(publication: Publication, provider) -> Publication:
    services.publication_publish(publication_id=publication.pk, provider=provider)
    publication.refresh_from_db()
    return publication


def _healthy(account) -> bool:
    account.refresh_from_db()
    return (account.state, account.last_error_code, account.last_error, account.last_error_at) == (
        AccountState.OK, "", "", None,
    )  # fmt: skip


# --- The post's own problems ---------------------------------------------------------------------


def test_a_duplicate_post_fails_the_publication_and_leaves_the_account_alone(
    community_manager, page, graph
):
    _answer(graph, "POST", f"{PAGE}/feed", "facebook", "error_506_duplicate")
    publication = _due(community_manager, page)

    publication = _published_with(publication, FacebookProvider(page))

    assert (publication.state, publication.last_error_code, publication.last_error) == (
        PublicationState.FAILED, ErrorCode.PERMANENT,
        "Meta refused the request (#506): (#506) Duplicate status message",
    )  # fmt: skip
    assert _healthy(page)


def test_an_image_instagram_cannot_use_fails_the_publication_only(
    community_manager, instagram_account, graph
):
    _answer(graph, "GET", f"{CONTAINER}/", "instagram", "status_error")
    publication = _due_as_it_stands(community_manager, instagram_account)
    Publication.objects.filter(pk=publication.pk).update(provider_state={"container_id": CONTAINER})

    publication = _published_with(publication, InstagramProvider(instagram_account))

    assert (publication.state, publication.last_error) == (
        PublicationState.FAILED,
        "Instagram could not process the media: "
        "Error: We don't support the aspect ratio of the image. (2207009)",
    )
    assert _healthy(instagram_account)


def test_a_post_without_an_image_fails_on_instagram_without_a_call(
    community_manager, instagram_account, graph
):
    publication = _due_as_it_stands(community_manager, instagram_account)

    publication = _published_with(publication, InstagramProvider(instagram_account))

    assert (publication.state, publication.last_error) == (
        PublicationState.FAILED, "Instagram needs at least one image",
    )  # fmt: skip
    assert len(graph.calls) == 0 and _healthy(instagram_account)


def test_an_argument_google_refuses_fails_the_publication_only(community_manager, location):
    publication = _due(community_manager, location)
    provider = GoogleProvider(
        location, http=RecordingHttp([google_answer("error_400_invalid_argument")])
    )

    publication = _published_with(publication, provider)

    assert (publication.state, publication.last_error_code, publication.last_error) == (
        PublicationState.FAILED, ErrorCode.PERMANENT,
        "Google refused the request (400 INVALID_ARGUMENT Request contains an invalid argument.)",
    )  # fmt: skip
    assert _healthy(location)


def test_the_account_stays_ok_on_the_pages_after_a_refused_post(
    client, community_manager, page, graph
):

    _answer(graph, "POST", f"{PAGE}/feed", "facebook", "error_506_duplicate")
    _published_with(_due(community_manager, page), FacebookProvider(page))
    client.force_login(community_manager)

    social = client.get(reverse("social:restaurant_social", args=[page.restaurant_id]))
    health = client.get(reverse("social:health"), {"state": "error"})

    row = social.content.decode().split(f'<tr data-account="{page.pk}"', 1)[1].split("</tr>")[0]
    assert 'data-state="ok"' in row and 'data-testid="last-error"' not in row
    assert list(health.context["page"]) == []


# --- The account's problems ----------------------------------------------------------------------


def test_a_missing_publish_permission_flags_the_account(community_manager, page, graph):
    _answer(graph, "POST", f"{PAGE}/feed", "facebook", "error_200_publish_permission")
    publication = _due(community_manager, page)

    publication = _published_with(publication, FacebookProvider(page))

    page.refresh_from_db()
    assert publication.state == PublicationState.FAILED
    assert (page.state, page.last_error_code) == (AccountState.ERROR, ErrorCode.PERMANENT)
    assert page.last_error == publication.last_error
    assert page.last_error.startswith("Meta refused the request (#200): (#200) If posting")


def test_a_permission_google_refuses_flags_the_account(community_manager, location):
    publication = _due(community_manager, location)
    provider = GoogleProvider(location, http=RecordingHttp([google_answer("error_403_permission")]))

    publication = _published_with(publication, provider)

    location.refresh_from_db()
    assert publication.state == PublicationState.FAILED
    assert (location.state, location.last_error) == (
        AccountState.ERROR,
        "Google refused the request (403 PERMISSION_DENIED The caller does not have permission)",
    )


def test_an_expired_token_flags_the_account_for_reconnection(community_manager, page, graph):
    _answer(graph, "POST", f"{PAGE}/feed", "facebook", "error_190_expired")
    publication = _due(community_manager, page)

    publication = _published_with(publication, FacebookProvider(page))

    page.refresh_from_db()
    assert publication.state == PublicationState.FAILED
    assert (page.state, page.last_error_code) == (
        AccountState.NEEDS_RECONNECT, ErrorCode.NEEDS_RECONNECT,
    )  # fmt: skip


def test_a_rate_limit_flags_the_account_and_the_publication_waits(community_manager, page, graph):
    _answer(graph, "POST", f"{PAGE}/feed", "facebook", "error_4_app_rate")
    publication = _due(community_manager, page)

    publication = _published_with(publication, FacebookProvider(page))

    page.refresh_from_db()
    assert publication.state == PublicationState.SCHEDULED
    assert publication.next_attempt_at > timezone.now()
    assert (page.state, page.last_error_code) == (AccountState.RATE_LIMITED, ErrorCode.RATE_LIMITED)
    assert page.rate_limited_until > timezone.now()


def test_an_object_graph_cannot_reach_is_the_accounts_problem(page, graph):
    """#100 is an invalid parameter of the post, except its subcode 33: the Page itself does not
    exist or cannot be reached with this token."""
    graph.add(
        responses.POST,
        f"{GRAPH}/{PAGE}/feed",
        status=400,
        json={
            "error": {
                "message": "Unsupported post request. Object with ID does not exist",
                "type": "GraphMethodException", "code": 100, "error_subcode": 33,
            }
        },
    )  # fmt: skip

    with pytest.raises(Permanent) as raised:
        FacebookProvider(page).publish(PostContent(text="Jazz"), state={}, checkpoint=lambda s: 0)

    assert not isinstance(raised.value, ContentRefused)
    assert str(raised.value).startswith("Meta refused the request (#100)")
