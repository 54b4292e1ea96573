"""The request inbox (/requests/): its lists by status, kind, month of decision and who asked;
refused filter values; scope; pagination with the filters; a constant number of queries."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import ChangeRequest, ConversionRequest
from tests.factories import RestaurantFactory, UserFactory

pytestmark = pytest.mark.django_db


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


def _conversion(requested_by, status="pending", decided_at=None, **restaurant) -> ConversionRequest:
    return ConversionRequest.objects.create(
        restaurant=RestaurantFactory(**restaurant), requested_by=requested_by,
        payment_mode="transfer", payment_days=30, status=status, decided_at=decided_at,
    )  # fmt: skip


def _change(requested_by, status="pending", decided_at=None) -> ChangeRequest:
    return ChangeRequest.objects.create(
        restaurant=RestaurantFactory(client=True), requested_by=requested_by, status=status,
        decided_at=decided_at, changes=[{"field": "city", "label": "City", "old": "", "new": "X"}],
    )  # fmt: skip


def _shown(response, name: str) -> list:
    page = response.context[name]
    return None if page is None else list(page.paginator.object_list)


@pytest.fixture
def decided(sales_agent):
    """Requests decided around March 2026 (local time), by two agents; pending ones."""
    other = UserFactory(username="agent_b", roles=["sales_agent"])
    return {
        "first": _conversion(sales_agent, "applied", local(2026, 3, 1, 0, 10), name="Premier"),
        "last": _conversion(sales_agent, "applied", local(2026, 3, 31, 23, 50), name="Dernier"),
        "theirs": _conversion(other, "applied", local(2026, 3, 12, 9), name="Collègue"),
        "before": _conversion(sales_agent, "applied", local(2026, 2, 28, 23, 50), name="Février"),
        "after": _conversion(sales_agent, "applied", local(2026, 4, 1, 0, 10), name="Avril"),
        "rejected": _conversion(sales_agent, "rejected", local(2026, 3, 5, 9), name="Refusé"),
        "pending": _conversion(sales_agent, name="En attente"),
        "change": _change(sales_agent, "applied", local(2026, 3, 6, 9)),
        "pending_change": _change(sales_agent),
        "other": other,
    }


def test_inbox_lists_the_conversions_applied_in_a_month(client, accountant, decided):
    client.force_login(accountant)

    response = client.get(
        "/requests/", {"status": "applied", "kind": "conversion", "decided": "2026-03"}
    )

    assert {c.pk for c in _shown(response, "conversions")} == {
        decided[name].pk for name in ("first", "last", "theirs")
    }
    assert _shown(response, "changes") is None
    body = response.content.decode()
    assert 'data-testid="change-row"' not in body
    assert 'value="2026-03"' in body


def test_inbox_filters_by_who_asked(client, accountant, sales_agent, decided):
    client.force_login(accountant)

    response = client.get(
        "/requests/",
        {"status": "applied", "kind": "conversion", "decided": "2026-03", "requested_by": sales_agent.pk},
    )  # fmt: skip

    assert {c.pk for c in _shown(response, "conversions")} == {
        decided["first"].pk,
        decided["last"].pk,
    }
    assert 'data-testid="requested-by-filter"' in response.content.decode()


def test_inbox_kind_shows_one_list(client, accountant, decided):
    client.force_login(accountant)

    changes = client.get("/requests/", {"status": "pending", "kind": "change"})
    both = client.get("/requests/", {"status": "pending"})

    assert _shown(changes, "changes") == [decided["pending_change"]]
    assert _shown(changes, "conversions") is None
    assert _shown(both, "changes") == [decided["pending_change"]]
    assert _shown(both, "conversions") == [decided["pending"]]


def test_inbox_decided_month_applies_to_changes_too(client, accountant, decided):
    client.force_login(accountant)

    response = client.get("/requests/", {"status": "applied", "decided": "2026-03"})

    assert _shown(response, "changes") == [decided["change"]]
    assert len(_shown(response, "conversions")) == 3


def test_an_agent_sees_only_their_own_requests_whatever_the_filter(client, sales_agent, decided):
    client.force_login(decided["other"])

    own = client.get("/requests/", {"status": "applied", "decided": "2026-03"})
    colleagues = client.get(
        "/requests/", {"status": "applied", "decided": "2026-03", "requested_by": sales_agent.pk}
    )

    assert _shown(own, "conversions") == [decided["theirs"]]
    assert _shown(own, "changes") == []
    assert colleagues.status_code == 200
    assert _shown(colleagues, "conversions") == []


def test_inbox_review_manager_is_refused(client, review_manager, decided):
    client.force_login(review_manager)

    assert client.get("/requests/", {"decided": "2026-03"}).status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"decided": "2026-13"}, "Decided in: “2026-13” is not a month (YYYY-MM)."),
        ({"decided": "March"}, "Decided in: “March” is not a month (YYYY-MM)."),
        ({"kind": "other"}, "Kind: “other” is not one of the choices."),
        ({"requested_by": "me"}, "Asked by: “me” is not a user."),
    ],
)
def test_inbox_refuses_bad_filters(client, accountant, decided, params, message):
    accountant.language = "en"
    accountant.save(update_fields=["language"])
    client.force_login(accountant)

    response = client.get("/requests/", {"status": "applied", **params})

    assert response.status_code == 200
    assert response.context["filter_errors"] == [message]
    assert response.context["conversions"].paginator.count == 0
    assert response.context["changes"].paginator.count == 0
    assert 'data-testid="filter-errors"' in response.content.decode()


def test_inbox_filter_errors_name_the_filter_in_the_readers_language(client, accountant, decided):
    client.force_login(accountant)  # French, the default

    response = client.get("/requests/", {"requested_by": "moi"})

    (error,) = response.context["filter_errors"]
    assert error.startswith("Demandé par") and "« moi »" in error


def test_inbox_pages_keep_the_filters(client, accountant, sales_agent):
    for number in range(51):
        _conversion(sales_agent, "applied", local(2026, 3, 2, 8, number))
    client.force_login(accountant)
    params = {"status": "applied", "kind": "conversion", "decided": "2026-03"}

    first = client.get("/requests/", params)
    second = client.get("/requests/", {**params, "cpage": 2})

    assert len(first.context["conversions"].object_list) == 50
    assert "kind=conversion&amp;decided=2026-03&amp;cpage=2" in first.content.decode()
    assert len(second.context["conversions"].object_list) == 1
    # The status tabs keep the other filters.
    assert 'href="?status=pending&amp;kind=conversion&amp;decided=2026-03"' in (
        first.content.decode()
    )


@pytest.mark.parametrize("count", [1, 30])
def test_inbox_runs_a_constant_number_of_queries(
    client, accountant, sales_agent, django_assert_max_num_queries, count
):
    for number in range(count):
        _conversion(sales_agent, "applied", local(2026, 3, 2, 8, number))
        _change(sales_agent, "applied", local(2026, 3, 3, 8, number))
    client.force_login(accountant)

    with django_assert_max_num_queries(13):
        response = client.get(
            "/requests/",
            {"status": "applied", "decided": "2026-03", "requested_by": sales_agent.pk},
        )

    assert response.context["conversions"].paginator.count == count
    assert response.context["changes"].paginator.count == count
