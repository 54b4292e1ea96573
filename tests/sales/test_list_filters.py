"""The contract list's "signed in a month" and "signed by" filters, and the visit list: exact
selections (month bounds in local time), refused values explained in the reader's language,
scope, pagination and a constant number of queries."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from sales import services
from sales.models import Contract, Visit
from tests.factories import RestaurantFactory, UserFactory

pytestmark = pytest.mark.django_db


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


def _sign(restaurant, by, pack, signed_at: dt.datetime) -> Contract:
    contract = services.contract_sign(
        restaurant=restaurant, by=by, pack=pack, start_date=signed_at.date()
    )
    Contract.objects.filter(pk=contract.pk).update(signed_at=signed_at)
    return contract


def _names(response) -> list[str]:
    return sorted(row.restaurant.name for row in response.context["page"].paginator.object_list)


@pytest.fixture
def signed(lyon, sales_agent, client_manager, pack):
    """Contracts signed around March 2026 (local time), by the agent and a client manager, and
    a prospect's draft signed in March."""
    for name, by, signed_at in (
        ("Premier mars", sales_agent, local(2026, 3, 1, 0, 5)),
        ("Fin mars", sales_agent, local(2026, 3, 31, 23, 30)),
        ("Mars manager", client_manager, local(2026, 3, 15, 12)),
        ("Fin février", sales_agent, local(2026, 2, 28, 23, 59)),
        ("Début avril", sales_agent, local(2026, 4, 1, 0, 1)),
    ):
        restaurant = RestaurantFactory(name=name, client=True, zone=lyon, sales_agent=sales_agent)
        _sign(restaurant, by, pack, signed_at)
    prospect = RestaurantFactory(name="Brouillon", zone=lyon, sales_agent=sales_agent)
    draft = _sign(prospect, sales_agent, pack, local(2026, 3, 10, 10))
    assert draft.status == "draft"


def test_contracts_signed_in_a_month_in_local_time_drafts_aside(client, direction, signed):
    client.force_login(direction)

    response = client.get("/contracts/", {"signed": "2026-03"})

    assert _names(response) == ["Fin mars", "Mars manager", "Premier mars"]
    body = response.content.decode()
    assert 'data-testid="signed-filter"' in body
    assert 'name="signed" value="2026-03"' in body
    assert re.search(r'data-testid="result-count">3 ', body)


def test_contracts_signed_by_a_user_in_a_month(client, direction, sales_agent, signed):
    client.force_login(direction)

    month = client.get("/contracts/", {"signed": "2026-03", "signed_by": sales_agent.pk})
    ever = client.get("/contracts/", {"signed_by": sales_agent.pk})

    assert _names(month) == ["Fin mars", "Premier mars"]
    assert _names(ever) == ["Brouillon", "Début avril", "Fin février", "Fin mars", "Premier mars"]
    assert sales_agent.get_display_name() in month.content.decode()


def test_contracts_signed_filter_keeps_the_list_scope(client, signed, lyon, client_manager, pack):
    # Another zone's agent sees none of Lyon's contracts, whatever the filter.
    other = UserFactory(username="agent_ailleurs", roles=["sales_agent"])
    elsewhere = RestaurantFactory(name="Ailleurs", client=True, sales_agent=other)
    _sign(elsewhere, client_manager, pack, local(2026, 3, 5, 9))
    client.force_login(other)

    response = client.get("/contracts/", {"signed": "2026-03"})

    assert response.status_code == 200
    assert _names(response) == ["Ailleurs"]


def _in_english(user):
    user.language = "en"
    user.save(update_fields=["language"])
    return user


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"signed": "2026-13"}, "Signed in: “2026-13” is not a month (YYYY-MM)."),
        ({"signed": "mars"}, "Signed in: “mars” is not a month (YYYY-MM)."),
        ({"signed": "2026-03-01"}, "Signed in: “2026-03-01” is not a month (YYYY-MM)."),
        ({"signed_by": "abc"}, "Signed by: “abc” is not a user."),
        ({"signed_by": "999999"}, "Signed by: “999999” is not a user."),
        ({"signed_by": "9" * 30}, f"Signed by: “{'9' * 30}” is not a user."),
        ({"lost": "2026-3"}, "Lost in: “2026-3” is not a month (YYYY-MM)."),
    ],
)
def test_contract_list_refuses_bad_filters(client, direction, signed, params, message):
    client.force_login(_in_english(direction))

    response = client.get("/contracts/", params)

    assert response.status_code == 200
    assert response.context["filter_errors"] == [message]
    assert response.context["page"].paginator.count == 0
    assert 'data-testid="filter-errors"' in response.content.decode()


def test_contract_list_filter_errors_name_the_filter_in_the_readers_language(
    client, direction, signed
):
    client.force_login(direction)  # French, the default

    response = client.get("/contracts/", {"signed_by": "x"})

    (error,) = response.context["filter_errors"]
    assert error.startswith("Signé par") and "« x »" in error


@pytest.mark.parametrize("count", [1, 25])
def test_contract_list_with_the_signed_filters_runs_a_constant_number_of_queries(
    client, direction, sales_agent, lyon, pack, django_assert_max_num_queries, count
):
    for number in range(count):
        restaurant = RestaurantFactory(client=True, zone=lyon)
        _sign(restaurant, sales_agent, pack, local(2026, 3, 1 + number % 28, 10))
    client.force_login(direction)

    with django_assert_max_num_queries(12):
        response = client.get("/contracts/", {"signed": "2026-03", "signed_by": sales_agent.pk})

    assert response.context["page"].paginator.count == count


def test_contract_list_pages_keep_the_filters(client, direction, sales_agent, lyon, pack):
    for number in range(51):
        restaurant = RestaurantFactory(client=True, zone=lyon)
        _sign(restaurant, sales_agent, pack, local(2026, 3, 2, 8, number))
    client.force_login(direction)

    first = client.get("/contracts/", {"signed": "2026-03", "signed_by": sales_agent.pk})
    second = client.get(
        "/contracts/", {"signed": "2026-03", "signed_by": sales_agent.pk, "page": 2}
    )

    assert len(first.context["page"].object_list) == 50
    assert f"signed=2026-03&amp;signed_by={sales_agent.pk}&amp;page=2" in first.content.decode()
    assert len(second.context["page"].object_list) == 1


# --- Visits ---------------------------------------------------------------------------------------


def _visit(agent, restaurant, start, **fields) -> Visit:
    return Visit.objects.create(
        restaurant=restaurant, agent=agent, start=start, end=start + dt.timedelta(minutes=30),
        **fields,
    )  # fmt: skip


@pytest.fixture
def visits(lyon, sales_agent, pack):
    """March 2026 visits of two agents: held, cancelled, a phone call with a pack offered, one
    just before and one just after the month (local time), one spanning midnight."""
    other = UserFactory(username="agent_b", roles=["sales_agent"])
    lyon.agents.add(other)
    restaurant = RestaurantFactory(name="Le Bouchon", client=True, zone=lyon)
    made = {
        "held": _visit(sales_agent, restaurant, local(2026, 3, 2, 10), status="done"),
        "offered": _visit(
            sales_agent,
            restaurant,
            local(2026, 3, 3, 10),
            status="done",
            kind="phone",
            pack_offered=pack,
        ),
        "cancelled": _visit(sales_agent, restaurant, local(2026, 3, 4, 10), status="cancelled"),
        "late": _visit(sales_agent, restaurant, local(2026, 3, 31, 23, 45), status="done"),
        "before": _visit(sales_agent, restaurant, local(2026, 2, 28, 23, 45), status="done"),
        "after": _visit(sales_agent, restaurant, local(2026, 4, 1, 0, 15), status="done"),
        "other": _visit(other, restaurant, local(2026, 3, 2, 11), status="done"),
    }
    made["other_agent"] = other
    return made


def _ids(response) -> set[int]:
    return {visit.pk for visit in response.context["page"].paginator.object_list}


def test_visit_list_filters_by_agent_month_status_kind_and_proposal(
    client, direction, sales_agent, visits
):
    client.force_login(direction)
    base = {"agent": sales_agent.pk, "month": "2026-03", "status": "done"}

    done = client.get("/visits/", base)
    meetings = client.get("/visits/", {**base, "kind": "visit"})
    proposals = client.get("/visits/", {**base, "proposal": "1"})
    everyone = client.get("/visits/", {"month": "2026-03"})

    assert _ids(done) == {visits[name].pk for name in ("held", "offered", "late")}
    assert _ids(meetings) == {visits["held"].pk, visits["late"].pk}
    assert _ids(proposals) == {visits["offered"].pk}
    assert len(_ids(everyone)) == 5
    assert 'value="visit" selected' in meetings.content.decode()


def test_visit_list_of_a_day_shows_what_the_agenda_shows(client, sales_agent, visits, lyon):
    spanning = _visit(sales_agent, visits["held"].restaurant, local(2026, 3, 1, 23, 50))
    spanning.end = local(2026, 3, 2, 0, 30)
    spanning.save(update_fields=["end"])
    client.force_login(sales_agent)

    response = client.get("/visits/", {"agent": sales_agent.pk, "day": "2026-03-02"})

    assert _ids(response) == {visits["held"].pk, spanning.pk}
    assert response.context["agents"] == []


def test_an_agent_sees_only_their_own_visits(client, sales_agent, visits):
    client.force_login(sales_agent)

    mine = client.get("/visits/", {"month": "2026-03"})
    theirs = client.get("/visits/", {"agent": visits["other_agent"].pk, "month": "2026-03"})

    assert visits["other"].pk not in _ids(mine)
    assert len(_ids(mine)) == 4
    assert theirs.status_code == 200
    assert _ids(theirs) == set()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "03-2026"}, "Month: “03-2026” is not a month (YYYY-MM)."),
        ({"day": "2026-02-30"}, "Day: “2026-02-30” is not a date (YYYY-MM-DD)."),
        ({"day": "20260302"}, "Day: “20260302” is not a date (YYYY-MM-DD)."),
        ({"status": "lost"}, "Status: “lost” is not one of the choices."),
        ({"kind": "fax"}, "Kind: “fax” is not one of the choices."),
        ({"agent": "-1"}, "Sales agent: “-1” is not a user."),
    ],
)
def test_visit_list_refuses_bad_filters(client, direction, visits, params, message):
    client.force_login(_in_english(direction))

    response = client.get("/visits/", params)

    assert response.status_code == 200
    assert response.context["filter_errors"] == [message]
    assert _ids(response) == set()


@pytest.mark.parametrize("count", [1, 30])
def test_visit_list_runs_a_constant_number_of_queries(
    client, direction, sales_agent, lyon, pack, django_assert_max_num_queries, count
):
    for number in range(count):
        restaurant = RestaurantFactory(client=True, zone=lyon)
        _visit(
            sales_agent, restaurant, local(2026, 3, 2, 8) + dt.timedelta(minutes=number),
            status="done", pack_offered=pack,
        )  # fmt: skip
    client.force_login(direction)

    with django_assert_max_num_queries(12):
        response = client.get(
            "/visits/", {"agent": sales_agent.pk, "month": "2026-03", "status": "done"}
        )

    assert response.context["page"].paginator.count == count
    assert response.content.decode().count('data-testid="visit-row"') == count
