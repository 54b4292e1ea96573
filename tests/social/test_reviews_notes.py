"""What Facebook and TripAdvisor allow for reviews is said where a reviewer would look for it: the
queue, the review's reply path, the restaurant's accounts. Google, which takes replies, shows none."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from social.models import Review, ReviewTask
from social.providers import reviews_note
from tests.social.conftest import make_account

FACEBOOK_NOTE = (
    "Facebook no longer gives Page recommendations to applications (Graph API v22.0 and later) "
    "and none can be answered through its API: read and answer them on the Page, then mark them "
    "answered here."
)
TRIPADVISOR_NOTE = (
    "TripAdvisor's Content API gives only the latest five reviews in each language and has no "
    "reply endpoint: answer on TripAdvisor, then mark the review answered here. Its terms do not "
    "allow keeping the text of the reviews."
)
NOTES = (escape(FACEBOOK_NOTE), escape(TRIPADVISOR_NOTE))


@pytest.fixture
def tripadvisor(bistro):
    return make_account(bistro, "tripadvisor", url="https://www.tripadvisor.com/Restaurant-1")


def _review(account, external_id="r1", **fields) -> Review:
    now = timezone.now()
    review = Review.objects.create(
        account=account, restaurant=account.restaurant, network=account.network,
        external_id=external_id, rating=3, written_at=now, updated_at=now,
        open_due_at=now + dt.timedelta(hours=4), **fields,
    )  # fmt: skip
    ReviewTask.objects.create(review=review, due_at=review.open_due_at)
    return review


def _in_english(client, user) -> None:
    user.language = "en"
    user.save(update_fields=["language"])
    client.force_login(user)


def test_networks_with_less_than_fetch_and_reply_have_a_note():
    with translation.override("en"):
        notes = {network: reviews_note(network) for network in ("facebook", "tripadvisor")}
        others = {network: reviews_note(network) for network in ("google", "instagram", "x")}

    assert notes == {"facebook": FACEBOOK_NOTE, "tripadvisor": TRIPADVISOR_NOTE}
    assert others == {"google": "", "instagram": "", "x": ""}


def test_queue_shows_the_note_of_the_networks_on_the_page(
    client, review_manager, tripadvisor, google
):
    _review(tripadvisor, "ta")
    _review(google, "g")
    _in_english(client, review_manager)

    page = client.get(reverse("social:review_queue")).content.decode()

    assert 'data-testid="reviews-notes"' in page
    assert f'<li data-network="tripadvisor">{escape(TRIPADVISOR_NOTE)}</li>' in page
    assert escape(FACEBOOK_NOTE) not in page


def test_queue_of_google_reviews_shows_no_note(client, review_manager, google, tripadvisor):
    _review(google, "g")
    _review(tripadvisor, "ta")
    _in_english(client, review_manager)

    page = client.get(reverse("social:review_queue"), {"network": "google"}).content.decode()

    assert 'data-testid="reviews-notes"' not in page
    assert not any(note in page for note in NOTES)


def test_queue_filtered_on_facebook_says_why_it_may_be_empty(client, review_manager, facebook):
    _in_english(client, review_manager)

    response = client.get(reverse("social:review_queue"), {"network": "facebook"})

    assert list(response.context["page"]) == []
    assert f'<li data-network="facebook">{escape(FACEBOOK_NOTE)}</li>' in response.content.decode()


def test_review_without_reply_endpoint_gives_the_note_and_the_platform_link(
    client, review_manager, tripadvisor
):
    review = _review(tripadvisor, url="https://www.tripadvisor.com/ShowUserReviews-1")
    _in_english(client, review_manager)

    page = client.get(reverse("social:review_detail", args=[review.pk])).content.decode()

    assert f'data-testid="reviews-note">{escape(TRIPADVISOR_NOTE)}</p>' in page
    assert (
        '<a class="btn btn-outline-primary" href="https://www.tripadvisor.com/ShowUserReviews-1" '
        'rel="noopener noreferrer" target="_blank" data-testid="open-on-platform">'
        "Open on the platform</a>"
    ) in page
    assert 'data-testid="mark-answered"' in page
    assert 'data-testid="send-reply"' not in page


def test_facebook_review_gives_facebooks_note(client, review_manager, facebook):
    review = _review(facebook)
    _in_english(client, review_manager)

    page = client.get(reverse("social:review_detail", args=[review.pk])).content.decode()

    assert f'data-testid="reviews-note">{escape(FACEBOOK_NOTE)}</p>' in page


def test_google_review_is_sent_from_the_desk_without_a_note(client, review_manager, google):
    review = _review(google, url="https://maps.google.com/review-1")
    _in_english(client, review_manager)

    page = client.get(reverse("social:review_detail", args=[review.pk])).content.decode()

    assert 'data-testid="send-reply"' in page
    assert 'data-testid="reviews-note"' not in page
    assert 'data-testid="open-on-platform"' not in page
    assert not any(note in page for note in NOTES)


@pytest.mark.parametrize(
    "url_name", ["social:restaurant_social", "social:restaurant_section"], ids=["page", "section"]
)
def test_accounts_table_gives_the_note_of_each_account_whose_network_has_one(
    client, community_manager, bistro, facebook, google, tripadvisor, url_name
):
    _in_english(client, community_manager)

    page = client.get(reverse(url_name, args=[bistro.pk])).content.decode()

    rows = {
        account.network: page.split(f'<tr data-account="{account.pk}">')[1].split("</tr>")[0]
        for account in (facebook, google, tripadvisor)
    }
    note = '<div class="small text-muted" data-testid="reviews-note">{}</div>'
    assert note.format(escape(FACEBOOK_NOTE)) in rows["facebook"]
    assert note.format(escape(TRIPADVISOR_NOTE)) in rows["tripadvisor"]
    assert 'data-testid="reviews-note"' not in rows["google"]
