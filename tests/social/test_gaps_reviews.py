"""The review queue's rating, restaurant and negative filters and its negative badge; the reply
templates in the review's language, those suggested for its rating first."""

import pytest
from django.urls import reverse
from django.utils import timezone

from social.enums import Sentiment
from social.models import ReplyTemplate, Review
from tests.factories import RestaurantFactory
from tests.social.conftest import make_account


def _review(account, name, *, rating=4, sentiment=Sentiment.NEUTRAL, language="", author=""):
    return Review.objects.create(
        account=account, restaurant=account.restaurant, network=account.network,
        external_id=name, rating=rating, sentiment=sentiment, language=language,
        author=author, text=f"text of {name}", written_at=timezone.now(),
        updated_at=timezone.now(),
    )  # fmt: skip


@pytest.fixture
def queue(bistro, google, review_manager):
    """Reviews of two restaurants of the review manager, ratings and sentiments apart."""
    other = RestaurantFactory(name="La Fourchette", client=True, review_manager=review_manager)
    other_google = make_account(other, "google")
    return {
        "five": _review(google, "five", rating=5, sentiment=Sentiment.POSITIVE),
        "two": _review(google, "two", rating=2, sentiment=Sentiment.NEGATIVE),
        "three": _review(google, "three", rating=3),
        "elsewhere": _review(other_google, "elsewhere", rating=2, sentiment=Sentiment.NEGATIVE),
        "other": other,
    }


def _listed(client, **params) -> set[str]:
    response = client.get(reverse("social:review_queue"), params)
    assert response.status_code == 200
    return {review.external_id for review in response.context["page"]}


def test_queue_filters_by_rating(client, review_manager, queue):
    client.force_login(review_manager)

    assert _listed(client, rating="2") == {"two", "elsewhere"}
    assert _listed(client, rating="5") == {"five"}
    # Not a rating: the filter is ignored rather than failing.
    assert _listed(client, rating="9") == {"five", "two", "three", "elsewhere"}


def test_queue_filters_by_restaurant(client, review_manager, queue, bistro):
    client.force_login(review_manager)

    assert _listed(client, restaurant=str(bistro.pk)) == {"five", "two", "three"}
    assert _listed(client, restaurant=str(queue["other"].pk)) == {"elsewhere"}
    assert _listed(client, restaurant="x") == {"five", "two", "three", "elsewhere"}


def test_queue_filters_negative_reviews(client, review_manager, queue):
    client.force_login(review_manager)

    assert _listed(client, negative="1") == {"two", "elsewhere"}


def test_filters_combine(client, review_manager, queue, bistro):
    client.force_login(review_manager)

    assert _listed(client, negative="1", restaurant=str(bistro.pk), rating="2") == {"two"}
    assert _listed(client, negative="1", rating="5") == set()


def test_restaurant_filter_does_not_reach_another_managers_restaurant(
    client, review_manager, bistro
):
    foreign = RestaurantFactory(name="Ailleurs", client=True)
    _review(make_account(foreign, "google"), "foreign", rating=1, sentiment=Sentiment.NEGATIVE)
    client.force_login(review_manager)

    assert _listed(client, restaurant=str(foreign.pk)) == set()


def test_negative_reviews_carry_the_badge_and_others_do_not(client, review_manager, queue):
    client.force_login(review_manager)

    page = client.get(reverse("social:review_queue")).content.decode()

    def row(review):
        return page.split(f'<tr data-review="{review.pk}"')[1].split("</tr>")[0]

    for name in ("two", "elsewhere"):
        assert 'class="table-danger-subtle"' in row(queue[name])
        assert 'data-testid="negative"' in row(queue[name])
    for name in ("five", "three"):
        assert "table-danger-subtle" not in row(queue[name])
        assert 'data-testid="negative"' not in row(queue[name])


def test_the_filter_form_keeps_the_chosen_values(client, review_manager, queue, bistro):
    client.force_login(review_manager)

    page = client.get(
        reverse("social:review_queue"), {"rating": "2", "negative": "1", "restaurant": bistro.pk}
    ).content.decode()

    assert '<option value="2" selected>' in page
    assert 'name="negative" value="1" id="negative" checked' in page
    assert f'<input type="hidden" name="restaurant" value="{bistro.pk}">' in page


# --- Reply templates -----------------------------------------------------------------------------


@pytest.fixture
def templates(db):
    """Three templates of the admin's own (the seeded ones set aside), in the admin's order."""
    ReplyTemplate.objects.all().delete()

    def make(order, name_en, name_fr, ratings):
        return ReplyTemplate.objects.create(
            order=order, for_ratings=ratings, name_en=name_en, name_fr=name_fr,
            body_en=f"{name_en}, {{reviewer}}, from {{restaurant}}",
            body_fr=f"{name_fr}, {{reviewer}}, de la part de {{restaurant}}",
        )  # fmt: skip

    return {
        "thanks": make(0, "Thanks", "Merci", "4,5"),
        "any": make(1, "Any rating", "Toute note", ""),
        "sorry": make(2, "Sorry", "Désolés", "1,2"),
    }


def _suggestions(client, review) -> list[dict]:
    response = client.get(reverse("social:review_detail", args=[review.pk]))
    assert response.status_code == 200
    return response.context["templates"]


@pytest.mark.parametrize(
    ("language", "reader", "expected"),
    [
        ("en", "fr", ("Thanks", "Thanks, Sam, from Le Bistro")),
        ("fr", "en", ("Merci", "Merci, Sam, de la part de Le Bistro")),
    ],
)
def test_reply_templates_in_the_reviews_language_whatever_the_readers(
    client, review_manager, google, templates, language, reader, expected
):
    review = _review(google, "r", rating=5, language=language, author="Sam")
    review_manager.language = reader
    review_manager.save(update_fields=["language"])
    client.force_login(review_manager)

    first = _suggestions(client, review)[0]

    assert (first["name"], first["text"]) == expected


def test_reply_templates_in_the_users_language_when_the_review_is_in_another(
    client, review_manager, google, templates
):
    review = _review(google, "r", rating=5, language="de", author="Sam")
    review_manager.language = "en"
    review_manager.save(update_fields=["language"])
    client.force_login(review_manager)

    first = _suggestions(client, review)[0]

    assert first["text"] == "Thanks, Sam, from Le Bistro"


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        # Suggested first (for this rating, or for any), each part in the admin's order.
        (5, [("thanks", True), ("any", True), ("sorry", False)]),
        (1, [("any", True), ("sorry", True), ("thanks", False)]),
        (3, [("any", True), ("thanks", False), ("sorry", False)]),
    ],
)
def test_templates_suggested_for_the_rating_come_first(
    client, review_manager, google, templates, rating, expected
):
    review = _review(google, "r", rating=rating, language="en")
    client.force_login(review_manager)

    listed = [(item["pk"], item["suggested"]) for item in _suggestions(client, review)]

    assert listed == [(templates[key].pk, suggested) for key, suggested in expected]


def test_inactive_templates_are_not_offered(client, review_manager, google, templates):
    ReplyTemplate.objects.filter(pk=templates["any"].pk).update(active=False)
    review = _review(google, "r", rating=5, language="en")
    client.force_login(review_manager)

    listed = [item["pk"] for item in _suggestions(client, review)]

    assert listed == [templates["thanks"].pk, templates["sorry"].pk]


def test_queue_filters_by_network(client, review_manager, queue, bistro, facebook):
    _review(facebook, "on facebook", rating=5)
    _review(make_account(bistro, "tripadvisor"), "on tripadvisor", rating=4)
    client.force_login(review_manager)

    assert _listed(client, network="google") == {"five", "two", "three", "elsewhere"}
    assert _listed(client, network="facebook") == {"on facebook"}
    assert _listed(client, network="tripadvisor") == {"on tripadvisor"}
    assert _listed(client, network="instagram") == set()
    # Not a network: the filter is ignored.
    assert len(_listed(client, network="myspace")) == 6
    assert _listed(client, network="google", rating="2") == {"two", "elsewhere"}
