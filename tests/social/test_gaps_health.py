"""/health/'s publications check counts the late publications in a sentence that agrees with
the number; the connector health page (/social/health/) filters, pages, lists the late
publications and keeps to its reader's restaurants."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.enums import RoleName
from social import services
from social.models import Post, Publication
from tests.factories import UserFactory
from tests.social.conftest import make_account


def _late_posts(by, restaurant, account, count: int) -> None:
    at = timezone.now() - dt.timedelta(minutes=30)
    for number in range(count):
        post = services.post_save(
            by=by, restaurant=restaurant, accounts=[account], text=f"p{number}"
        )
        services.post_schedule(post=post, by=by, at=at, now=at)


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        (0, {"ok": True, "detail": "0 late publications"}),
        (1, {"ok": False, "detail": "1 late publication"}),
        (2, {"ok": False, "detail": "2 late publications"}),
    ],
)
def test_health_counts_late_publications_in_singular_and_plural(
    client, community_manager, bistro, facebook, late, expected
):
    _late_posts(community_manager, bistro, facebook, late)

    response = client.get("/health/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["checks"]["publications"] == expected


# --- /social/health/: the connector health page ------------------------------------------------


@pytest.fixture
def accounts(bistro):
    """One account per state, on several networks, of the community manager's restaurant."""
    soon = timezone.now() + dt.timedelta(hours=1)
    return {
        "ok_facebook": make_account(bistro, "facebook"),
        "ok_google": make_account(bistro, "google"),
        "reconnect_facebook": make_account(bistro, "facebook", state="needs_reconnect"),
        "error_google": make_account(bistro, "google", state="error"),
        "error_instagram": make_account(bistro, "instagram", state="error"),
        "limited_google": make_account(
            bistro, "google", state="rate_limited", rate_limited_until=soon
        ),
    }


def _health(client, **params):
    response = client.get(reverse("social:health"), params)
    assert response.status_code == 200
    return response


def _listed(response) -> list[int]:
    return [account.pk for account in response.context["page"]]


def _rows(response) -> list[int]:
    html = response.content.decode()
    table = html.split('data-testid="health-list"', 1)[1].split("</table>", 1)[0]
    return [int(pk) for pk in re.findall(r'<tr data-account="(\d+)">', table)]


def test_health_lists_every_account_by_state_then_network(client, community_manager, accounts):
    client.force_login(community_manager)

    response = _health(client)

    a = accounts
    expected = [
        a["error_google"].pk, a["error_instagram"].pk, a["reconnect_facebook"].pk,
        a["ok_facebook"].pk, a["ok_google"].pk, a["limited_google"].pk,
    ]  # fmt: skip
    assert _listed(response) == _rows(response) == expected
    assert response.context["counts"] == {
        "ok": 2, "needs_reconnect": 1, "rate_limited": 1, "error": 2,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"state": "error"}, ["error_google", "error_instagram"]),
        ({"state": "needs_reconnect"}, ["reconnect_facebook"]),
        ({"network": "google"}, ["error_google", "ok_google", "limited_google"]),
        ({"network": "facebook", "state": "ok"}, ["ok_facebook"]),
        ({"network": "tripadvisor"}, []),
        # Values that are no state or network filter nothing.
        ({"state": "broken", "network": "myspace"}, None),
    ],
)
def test_health_filters_by_state_and_network(client, community_manager, accounts, params, names):
    client.force_login(community_manager)

    response = _health(client, **params)

    everything = _listed(_health(client))
    expected = everything if names is None else [accounts[name].pk for name in names]
    assert _listed(response) == _rows(response) == expected
    # The counts stay those of every account, whatever the filter.
    assert response.context["counts"]["error"] == 2
    assert (response.context["state"], response.context["network"]) == (
        params.get("state", "") if names is not None else "",
        params.get("network", "") if names is not None else "",
    )


def test_health_shows_fifty_accounts_a_page_and_keeps_the_filters(
    client, community_manager, bistro
):
    made = [make_account(bistro, "google", state="error") for _number in range(51)]
    make_account(bistro, "facebook", state="error")
    client.force_login(community_manager)

    first = _health(client, state="error", network="google")
    second = _health(client, state="error", network="google", page=2)

    assert _listed(first) == [account.pk for account in made[:50]]
    assert _listed(second) == [made[50].pk]
    html = first.content.decode()
    assert 'href="?state=error&amp;network=google&amp;page=2" data-testid="next-page"' in html


def test_health_lists_the_late_publications_of_its_readers_restaurants(
    client, community_manager, bistro, facebook, other_restaurant
):
    late = timezone.now() - dt.timedelta(minutes=30)
    _late_posts(community_manager, bistro, facebook, 1)
    in_time = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="tomorrow"
    )
    services.post_schedule(
        post=in_time, by=community_manager, at=timezone.now() + dt.timedelta(days=1)
    )
    others = make_account(other_restaurant, "facebook")
    Publication.objects.create(
        post=Post.objects.create(
            restaurant=other_restaurant, text="elsewhere", status="scheduled", scheduled_at=late,
            created_by=community_manager,
        ),
        account=others, state="scheduled", due_at=late,
    )  # fmt: skip
    client.force_login(community_manager)

    response = _health(client)

    mine = Publication.objects.get(post__restaurant=bistro, post__text="p0")
    assert [publication.pk for publication in response.context["late"]] == [mine.pk]
    html = response.content.decode()
    listed = html.split('data-testid="late-publications">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'data-publication="(\d+)"', listed) == [str(mine.pk)]
    assert f'href="{reverse("social:post_edit", args=[mine.post_id])}"' in listed


def test_health_says_when_no_publication_is_late(client, community_manager, bistro, facebook):
    community_manager.language = "en"
    community_manager.save(update_fields=["language"])
    client.force_login(community_manager)

    html = _health(client).content.decode()

    listed = html.split('data-testid="late-publications">', 1)[1].split("</ul>", 1)[0]
    assert listed == '<li class="text-muted">None: the publishing job is keeping up.</li>'


def test_a_community_manager_sees_only_the_accounts_of_their_restaurants(
    client, community_manager, direction, bistro, facebook, other_restaurant
):
    colleague = UserFactory(username="colleague", roles=[RoleName.COMMUNITY_MANAGER])
    other_restaurant.community_manager = colleague
    other_restaurant.save(update_fields=["community_manager"])
    others = make_account(other_restaurant, "facebook", state="error")

    client.force_login(community_manager)
    mine = _health(client)
    filtered = _health(client, state="error")
    client.force_login(colleague)
    theirs = _health(client)
    client.force_login(direction)
    everyone = _health(client)

    assert _listed(mine) == _rows(mine) == [facebook.pk]
    assert mine.context["counts"] == {"ok": 1, "needs_reconnect": 0, "rate_limited": 0, "error": 0}
    assert _listed(filtered) == []
    assert _listed(theirs) == [others.pk]
    assert sorted(_listed(everyone)) == sorted([facebook.pk, others.pk])
