"""The community manager's day: calls to follow up, and demo data labelled where it shows."""

import datetime as dt

from django.utils import timezone

from crm.enums import ActivityKind
from crm.models import Activity
from social.selectors import community_manager_day
from tests.factories import RestaurantFactory, UserFactory


def _log(restaurant, kind, author, days_ago, subject="Appel"):
    return Activity.objects.create(
        restaurant=restaurant, kind=kind, subject=subject, author=author,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
    )  # fmt: skip


def test_calls_others_logged_wait_until_the_community_manager_follows_them_up(
    bistro, community_manager, sales_agent
):
    waiting = _log(bistro, ActivityKind.CALL, sales_agent, 2, "Le patron rappelle")
    answered = _log(bistro, ActivityKind.CALL, sales_agent, 10, "Question sur la facture")
    _log(bistro, ActivityKind.EMAIL, community_manager, 8, "Réponse envoyée")
    _log(bistro, ActivityKind.CALL, community_manager, 1, "Mon propre appel")
    _log(bistro, ActivityKind.CALL, sales_agent, 40, "Trop ancien")
    _log(bistro, ActivityKind.NOTE, sales_agent, 1, "Une note")
    other = RestaurantFactory(name="Ailleurs", client=True, community_manager=UserFactory())
    _log(other, ActivityKind.CALL, sales_agent, 1, "Pas mon restaurant")

    day = community_manager_day(user=community_manager)

    # The e-mail 8 days ago follows up the call of 10 days ago, not the one of 2 days ago: the
    # own call a day ago does, so only a call logged after it would wait.
    assert [call.subject for call in day["calls"]] == []
    assert answered.pk not in [call.pk for call in day["calls"]]
    Activity.objects.filter(subject="Mon propre appel").delete()
    day = community_manager_day(user=community_manager)
    assert [call.pk for call in day["calls"]] == [waiting.pk]


def test_a_call_taken_by_nobody_in_particular_waits_too(bistro, community_manager):
    call = _log(bistro, ActivityKind.CALL, None, 1, "Appel entrant")

    assert [item.pk for item in community_manager_day(user=community_manager)["calls"]] == [call.pk]


def test_the_home_shows_the_day_then_the_reports_card_of_the_reports_app(client, community_manager):
    client.force_login(community_manager)

    page = client.get("/").content.decode()

    day = page.index('data-testid="community-manager-day"')
    reports = page.index('data-testid="reports-due-card"')
    assert day < reports and 'data-testid="cm-reports-due"' in page[reports:]
    assert 'data-testid="cm-reports-due"' not in page[day:reports]


def test_demo_data_is_labelled_on_the_home_and_the_post_list(
    client, community_manager, bistro, facebook
):
    from django.urls import reverse

    from social import services
    from tests.social.conftest import make_account

    real = make_account(
        RestaurantFactory(name="Vrai", client=True, community_manager=community_manager),
        "facebook", demo=False, credentials='{"access_token": "t"}',
    )  # fmt: skip
    soon = timezone.now() + dt.timedelta(days=1)
    for account in (facebook, real):
        post = services.post_save(
            by=community_manager, restaurant=account.restaurant, accounts=[account], text="x"
        )
        services.post_schedule(post=post, by=community_manager, at=soon)
    client.force_login(community_manager)

    home = client.get("/").content.decode()
    posts = client.get(reverse("social:post_list")).content.decode()

    day = home[home.index('data-testid="cm-restaurants"') :]
    restaurants = day[: day.index("</ul>")]
    assert restaurants.count('data-testid="demo-badge"') == 1
    assert (
        restaurants.index("Le Bistro") < restaurants.index("demo-badge") < restaurants.index("Vrai")
    )
    week = home[home.index('data-testid="cm-week-posts"') :]
    assert week[: week.index("</ul>")].count('data-testid="demo-badge"') == 1
    assert posts.count('data-testid="demo-badge"') == 1


def test_an_access_about_to_end_is_on_the_home_to_reconnect(community_manager, bistro):
    from social.enums import AccountState
    from tests.social.conftest import make_account

    broken = make_account(bistro, "google", state=AccountState.NEEDS_RECONNECT)
    ending = make_account(
        bistro, "facebook", token_expires_at=timezone.now() + dt.timedelta(days=5)
    )
    make_account(bistro, "instagram", token_expires_at=timezone.now() + dt.timedelta(days=40))

    day = community_manager_day(user=community_manager)

    assert [account.pk for account in day["reconnect"]] == [ending.pk, broken.pk]


def test_the_home_dates_the_weeks_posts_in_the_readers_format_and_names_accounts_by_network(
    client, community_manager, bistro
):
    from django.utils import dateformat, translation

    from social import services
    from social.enums import AccountState
    from tests.social.conftest import make_account

    facebook = make_account(bistro, "facebook", state=AccountState.NEEDS_RECONNECT)
    make_account(bistro, "google", name="Le Bistro Centre", state=AccountState.NEEDS_RECONNECT)
    at = (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="Menu du jour"
    )
    services.post_schedule(post=post, by=community_manager, at=at)
    community_manager.language = "en"
    community_manager.save(update_fields=["language"])
    client.force_login(community_manager)

    home = client.get("/").content.decode()

    with translation.override("en"):
        when = dateformat.format(timezone.localtime(at), "D m/d/Y P")
    assert f"{when} · Le Bistro: Menu du jour</a>" in home
    attention = home[home.index('data-testid="cm-attention"') :]
    attention = attention[: attention.index("</ul>")]
    assert "Le Bistro · Facebook</a>" in attention
    assert "Le Bistro · Google Business Profile (Le Bistro Centre)</a>" in attention
