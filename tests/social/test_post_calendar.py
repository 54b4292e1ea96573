"""The posts calendar's events, and the one reading of a calendar's range that it shares with the
sales agenda."""

import datetime as dt

import pytest
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils import timezone

from comadvisor.calendar_range import calendar_range
from social import selectors, services
from social.models import Publication
from tests.factories import RestaurantFactory, UserFactory
from tests.social.conftest import make_account

PARIS = dt.timezone(dt.timedelta(hours=1))
START, END = "2026-11-30T00:00:00+01:00", "2027-01-11T00:00:00+01:00"


def _post(by, restaurant, accounts, at, text="Soirée jazz"):
    post = services.post_save(by=by, restaurant=restaurant, accounts=accounts, text=text)
    services.post_schedule(post=post, by=by, at=at, now=at - dt.timedelta(days=1))
    return post


@pytest.fixture
def december(bistro, facebook, google, community_manager):
    first = _post(
        community_manager, bistro, [facebook, google], dt.datetime(2026, 12, 3, 18, tzinfo=PARIS)
    )
    second = _post(
        community_manager, bistro, [facebook], dt.datetime(2026, 12, 10, 12, tzinfo=PARIS),
        text="Menu de Noël",
    )  # fmt: skip
    Publication.objects.filter(post=second).update(state="failed")
    return first, second


def _events(client, **params):
    return client.get(reverse("social:post_events"), {"start": START, "end": END, **params})


def test_events_give_each_post_its_time_link_and_state(client, community_manager, december):
    first, second = december
    client.force_login(community_manager)

    data = _events(client).json()

    assert data["more"] is False and data["notice"] == ""
    assert data["events"] == [
        {
            "id": first.pk,
            "title": "Le Bistro: Soirée jazz (données de démonstration)",
            "start": "2026-12-03T17:00:00+00:00",
            "url": f"/social/posts/{first.pk}/",
            "color": "#1f4e79",
        },
        {
            "id": second.pk,
            "title": "Le Bistro: Menu de Noël (données de démonstration)",
            "start": "2026-12-10T11:00:00+00:00",
            "url": f"/social/posts/{second.pk}/",
            "color": "#dc3545",
        },
    ]


def test_events_of_one_community_manager(client, direction, december, community_manager):
    other_manager = UserFactory(roles=["community_manager"])
    elsewhere = RestaurantFactory(name="Ailleurs", client=True, community_manager=other_manager)
    _post(
        other_manager, elsewhere, [make_account(elsewhere)], dt.datetime(2026, 12, 5, tzinfo=PARIS)
    )
    client.force_login(direction)

    mine = _events(client, manager=community_manager.pk).json()["events"]
    everyone = _events(client).json()["events"]

    assert [event["id"] for event in mine] == [post.pk for post in december]
    assert len(everyone) == 3


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": START},
        {"start": "tomorrow", "end": END},
        {"start": "2026-13-01T00:00:00", "end": END},
        {"start": END, "end": START},
        {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"},
    ],
)
def test_a_bad_range_is_a_404_for_posts_and_the_agenda(client, direction, params):
    client.force_login(direction)

    assert client.get(reverse("social:post_events"), params).status_code == 404
    assert client.get(reverse("sales:agenda_events"), params).status_code == 404


def test_a_time_without_offset_is_in_the_current_time_zone():
    start, end = calendar_range(QueryDict("start=2026-12-01T00:00:00&end=2026-12-08T00:00:00"))

    assert start == timezone.make_aware(dt.datetime(2026, 12, 1))
    assert end - start == dt.timedelta(days=7)
    with pytest.raises(Http404):
        calendar_range(QueryDict("start=2026-12-01T00:00:00&end=2026-12-01T00:00:00"))


@pytest.mark.parametrize("count", [1, 12])
def test_events_run_a_constant_number_of_queries(
    client, community_manager, bistro, facebook, google, count, django_assert_num_queries
):
    for day in range(count):
        _post(
            community_manager,
            bistro,
            [facebook, google],
            dt.datetime(2026, 12, 1 + day, tzinfo=PARIS),
        )
    client.force_login(community_manager)

    # Session, user, the user's permissions (two), the posts, their publications.
    with django_assert_num_queries(6):
        events = _events(client).json()["events"]

    assert len(events) == count


def test_past_the_limit_the_calendar_says_what_it_left_out(
    client, community_manager, bistro, facebook, monkeypatch
):
    monkeypatch.setattr(selectors, "CALENDAR_EVENTS_LIMIT", 2)
    for day in range(3):
        _post(community_manager, bistro, [facebook], dt.datetime(2026, 12, 1 + day, tzinfo=PARIS))
    client.force_login(community_manager)

    data = _events(client).json()

    assert len(data["events"]) == 2 and data["more"] is True
    assert "2" in data["notice"]


def test_the_calendar_of_one_restaurant_shows_its_posts_only(
    client, community_manager, december, other_restaurant
):
    first, second = december
    other_restaurant.community_manager = community_manager
    other_restaurant.save(update_fields=["community_manager"])
    _post(
        community_manager, other_restaurant, [make_account(other_restaurant)],
        dt.datetime(2026, 12, 4, 9, tzinfo=PARIS),
    )  # fmt: skip
    client.force_login(community_manager)

    mine = _events(client, restaurant=first.restaurant_id).json()["events"]
    everything = _events(client).json()["events"]
    page = client.get(reverse("social:post_calendar"), {"restaurant": first.restaurant_id})

    assert [event["id"] for event in mine] == [first.pk, second.pk]
    assert len(everything) == 3
    assert page.status_code == 200 and page.context["restaurant"] == first.restaurant


def test_the_calendar_of_another_managers_restaurant_is_a_404(
    client, community_manager, admin_user, december, other_restaurant
):
    _post(
        admin_user, other_restaurant, [make_account(other_restaurant)],
        dt.datetime(2026, 12, 4, 9, tzinfo=PARIS),
    )  # fmt: skip
    client.force_login(community_manager)

    events = _events(client, restaurant=other_restaurant.pk)
    page = client.get(reverse("social:post_calendar"), {"restaurant": other_restaurant.pk})

    assert (events.status_code, page.status_code) == (404, 404)
