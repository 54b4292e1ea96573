import html
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from sales.models import CalendarConnection, CalendarFeed, Visit
from tests.factories import RestaurantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(sales_agent, lyon):
    tz = timezone.get_current_timezone()
    restaurant = RestaurantFactory(
        name="Le Bouchon", client=True, zone=lyon, sales_agent=sales_agent
    )
    start = datetime(2026, 11, 23, 10, tzinfo=tz)
    return [
        Visit.objects.create(
            restaurant=restaurant,
            agent=sales_agent,
            start=start + timedelta(days=d),
            end=start + timedelta(days=d, hours=1),
        )
        for d in range(3)
    ]


def test_events_feed_the_calendar(client, sales_agent, week):
    client.force_login(sales_agent)

    events = client.get(
        "/agenda/events/",
        {"start": "2026-11-23T00:00:00+01:00", "end": "2026-11-30T00:00:00+01:00"},
    ).json()

    assert [e["id"] for e in events] == [v.pk for v in week]
    assert events[0]["title"] == "Le Bouchon (Visite)"
    assert events[0]["url"] == f"/agenda/visits/{week[0].pk}/"


def test_events_refuse_a_huge_range(client, sales_agent):
    client.force_login(sales_agent)

    assert (
        client.get(
            "/agenda/events/", {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}
        ).status_code
        == 404
    )


def test_agents_only_see_their_own_agenda(client, sales_agent, week):
    other = UserFactory(roles=["sales_agent"])
    client.force_login(other)

    events = client.get(
        "/agenda/events/",
        {
            "start": "2026-11-23T00:00:00+01:00",
            "end": "2026-11-30T00:00:00+01:00",
            "agent": sales_agent.pk,
        },
    ).json()

    assert events == []
    assert client.get(f"/agenda/visits/{week[0].pk}/").status_code == 404
    moved = client.post(
        f"/agenda/visits/{week[0].pk}/move/",
        json.dumps({"start": "2026-11-24T10:00:00+01:00", "end": "2026-11-24T11:00:00+01:00"}),
        content_type="application/json",
    )
    assert moved.status_code == 404


def test_managers_pick_any_agent(client, client_manager, sales_agent, week):
    client.force_login(client_manager)

    events = client.get(
        "/agenda/events/",
        {
            "start": "2026-11-23T00:00:00+01:00",
            "end": "2026-11-30T00:00:00+01:00",
            "agent": sales_agent.pk,
        },
    ).json()

    assert len(events) == 3


def test_drag_and_drop_moves_the_visit(client, sales_agent, week):
    client.force_login(sales_agent)

    response = client.post(
        f"/agenda/visits/{week[0].pk}/move/",
        json.dumps({"start": "2026-11-23T14:00:00+01:00", "end": "2026-11-23T15:30:00+01:00"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    week[0].refresh_from_db()
    assert (week[0].start.hour, (week[0].end - week[0].start).seconds) == (
        13,
        5400,
    )  # 14:00 Paris is 13:00 UTC


@pytest.mark.parametrize("count", [1, 40])
def test_agenda_events_run_a_constant_number_of_queries(
    client, sales_agent, lyon, django_assert_max_num_queries, count
):
    tz = timezone.get_current_timezone()
    for index in range(count):
        restaurant = RestaurantFactory(client=True, zone=lyon, sales_agent=sales_agent)
        start = datetime(2026, 11, 2, 8, tzinfo=tz) + timedelta(hours=index * 5)
        Visit.objects.create(
            restaurant=restaurant, agent=sales_agent, start=start, end=start + timedelta(hours=1)
        )
    client.force_login(sales_agent)

    with django_assert_max_num_queries(8):
        response = client.get(
            "/agenda/events/",
            {"start": "2026-11-01T00:00:00+01:00", "end": "2026-12-01T00:00:00+01:00"},
        )

    assert len(response.json()) == count


@pytest.mark.parametrize("count", [1, 30])
def test_agent_home_lists_run_a_constant_number_of_queries(
    client, sales_agent, lyon, django_assert_max_num_queries, count
):
    today = timezone.localdate()
    for index in range(count):
        RestaurantFactory(
            client=True,
            zone=lyon,
            sales_agent=sales_agent,
            revisit_date=today + timedelta(days=index),
        )
    client.force_login(sales_agent)

    with django_assert_max_num_queries(17):
        response = client.get("/")

    assert len(response.context["to_revisit"]) == count
    assert [days for _restaurant, days in response.context["to_revisit"]][:2] == list(
        range(min(count, 2))
    )


def test_ical_feed_lists_the_visits_and_regenerating_cuts_the_old_address(
    client, sales_agent, week
):
    client.force_login(sales_agent)
    client.post("/agenda/feed/")
    token = CalendarFeed.objects.get(user=sales_agent).token
    client.logout()

    feed = client.get(f"/agenda/feed/{token}.ics")

    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    body = feed.content.decode()
    assert body.count("BEGIN:VEVENT") == 3
    assert f"UID:visit-{week[0].pk}@comadvisor" in body
    client.force_login(sales_agent)
    client.post("/agenda/feed/")
    client.logout()
    assert client.get(f"/agenda/feed/{token}.ics").status_code == 404


def test_connect_explains_when_google_is_not_configured(client, sales_agent, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    client.force_login(sales_agent)

    response = client.get("/agenda/google/connect/", follow=True)

    assert "n'est pas configurée" in html.unescape(response.content.decode())


def test_connect_sends_the_agent_to_google_consent(client, sales_agent, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = "client-id.apps.googleusercontent.com"
    settings.GOOGLE_OAUTH_CLIENT_SECRET = "secret"
    settings.SITE_URL = "https://crm.comadvisor.example"
    settings.ALLOWED_HOSTS = ["*"]
    client.force_login(sales_agent)

    # Through an internal address: Google is given the site's registered one.
    response = client.get("/agenda/google/connect/", HTTP_HOST="10.0.0.5:8000")

    url = urlparse(response["Location"])
    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("accounts.google.com", "/o/oauth2/auth")
    assert query["client_id"] == ["client-id.apps.googleusercontent.com"]
    assert query["access_type"] == ["offline"]
    assert query["redirect_uri"] == ["https://crm.comadvisor.example/agenda/google/callback/"]
    assert query["scope"] == ["https://www.googleapis.com/auth/calendar.events"]
    assert client.session["google_calendar_oauth"]["state"] == query["state"][0]


def test_callback_with_a_wrong_state_connects_nothing(client, sales_agent, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = "client-id"
    client.force_login(sales_agent)
    client.get("/agenda/google/connect/")

    client.get("/agenda/google/callback/", {"state": "forged", "code": "x"})

    assert not CalendarConnection.objects.exists()
