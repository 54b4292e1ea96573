"""Each role's dashboard runs a fixed number of queries whatever the data size (1 or 30 rows of
everything it reads), with its figures computed (cold cache) and served from the cache."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Activity, ChangeRequest, ConversionRequest
from reports import dashboard_cache, selectors
from reports.models import MonthlyReport
from sales import services as sales_services
from sales.models import Contract, Opportunity, Pack, Visit, add_months, first_of_month
from social.models import Post, Review, ReviewTask, SocialAccount
from tests.factories import RestaurantFactory, UserFactory
from tests.reports.test_dashboard import make_packs

# The most queries each role's home may run with its figures computed (cold cache): session,
# user, roles and permissions, the site settings, then the sections. Staff homes (admin,
# direction) also show the platform's health, which reads the worker's heartbeat when tasks go
# to a broker.
_HEALTH = 0 if settings.CELERY_TASK_ALWAYS_EAGER else 1
COLD = {
    "admin": 29 + _HEALTH,
    "direction": 31 + _HEALTH,
    "client_manager": 13,
    "sales_agent": 14,
    "community_manager": 16,
    "review_manager": 9,
    "accountant": 9,
}
# Served from the cache, the overview reads the latest invoice id only (the topic versions and
# the figures come from the cache); the review manager's response times likewise.
WARM = {"admin": 11 + _HEALTH, "direction": 13 + _HEALTH, "review_manager": 8}

ROLES = list(COLD)


@pytest.fixture(autouse=True)
def _empty_cache():
    dashboard_cache.bump_all()


def _packs() -> tuple[Pack, Pack]:
    return Pack.objects.get(code="essentiel"), Pack.objects.get(code="premium")


def populate(count: int, *, users: dict, lyon, offset: int = 0) -> None:
    """`count` rows of everything a dashboard reads, for every persona."""
    today = timezone.localdate()
    month = first_of_month(today)
    now = timezone.now()
    midnight = selectors.local_midnight(today)
    essentiel, premium = _packs() if offset else make_packs()
    agent, manager = users["sales_agent"], users["client_manager"]
    for number in range(offset, offset + count):
        restaurant = RestaurantFactory(
            client=True, zone=lyon, sales_agent=agent, revisit_date=today,
            community_manager=users["community_manager"] if number % 2 else None,
            review_manager=users["review_manager"],
        )  # fmt: skip
        prospect = RestaurantFactory(zone=lyon, sales_agent=agent)
        contract = sales_services.contract_sign(
            restaurant=restaurant, by=agent, pack=(essentiel, premium)[number % 2],
            start_date=add_months(month, -12) if number % 3 != 1 else today,
        )  # fmt: skip
        if number % 5 == 4:
            contract.status = "ended"
            contract.ended_at = today
            contract.save(update_fields=["status", "ended_at"])
        ConversionRequest.objects.create(
            restaurant=prospect, requested_by=agent, payment_mode="transfer", payment_days=30,
            status="applied" if number % 2 else "pending", decided_at=now if number % 2 else None,
        )  # fmt: skip
        ChangeRequest.objects.create(restaurant=restaurant, requested_by=agent, changes=[])
        Opportunity.objects.create(
            restaurant=prospect, owner=agent, stage=("new", "proposal", "won")[number % 3],
            monthly_amount=Decimal("100"),
        )  # fmt: skip
        Visit.objects.create(
            restaurant=restaurant, agent=agent, start=midnight + dt.timedelta(minutes=number),
            end=midnight + dt.timedelta(minutes=number + 30),
            status="done" if number % 2 else "planned", pack_offered=premium,
        )  # fmt: skip
        Activity.objects.create(
            restaurant=restaurant, kind="call", subject=f"Call {number}", author=manager
        )
        Post.objects.create(
            restaurant=restaurant, text=f"Post {number}", status="scheduled",
            scheduled_at=now + dt.timedelta(days=1), created_by=users["community_manager"],
        )  # fmt: skip
        account = SocialAccount.objects.create(
            restaurant=restaurant, network="google", external_id=f"g{number}", name="x", demo=True
        )
        review = Review.objects.create(
            account=account, restaurant=restaurant, network="google", external_id=f"r{number}",
            written_at=now, updated_at=now, replied_at=now if number % 2 else None,
        )  # fmt: skip
        ReviewTask.objects.create(
            review=review, state="answered" if number % 2 else "open",
            opened_at=now - dt.timedelta(hours=number + 1), due_at=now - dt.timedelta(hours=1),
            answered_at=now if number % 2 else None,
        )  # fmt: skip
        MonthlyReport.objects.create(
            restaurant=restaurant, month=add_months(month, -1), deadline=today,
            status="sent" if number % 3 == 0 else "draft", sent_at=now if number % 3 == 0 else None,
            first_sent_at=now if number % 3 == 0 else None,
        )  # fmt: skip
    # Agents with and without activity show in the overview.
    for number in range(offset, offset + count):
        UserFactory(roles=["sales_agent"], username=f"agent{number}")
    sales_services.invoices_bill_month(month=add_months(month, -1))
    sales_services.invoices_bill_month(month=month)
    Contract.objects.update(signed_at=now)


@pytest.fixture
def everyone(persona):
    return {role: persona(role) for role in ROLES}


def _home_queries(client, user) -> tuple[int, int]:
    """Queries of a cold request (figures computed; settings rows exist) and of a warm one."""
    client.force_login(user)
    assert client.get("/").status_code == 200
    dashboard_cache.bump_all()
    with CaptureQueriesContext(connection) as cold:
        assert client.get("/").status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get("/").status_code == 200
    return len(cold.captured_queries), len(warm.captured_queries)


@pytest.mark.parametrize("count", [1, 30])
@pytest.mark.parametrize("role", ROLES)
def test_dashboard_query_count_is_bounded(
    client, everyone, lyon, role, count, django_assert_max_num_queries
):
    populate(count, users=everyone, lyon=lyon)
    user = everyone[role]
    client.force_login(user)
    client.get("/")
    dashboard_cache.bump_all()

    with django_assert_max_num_queries(COLD[role]):
        response = client.get("/")
    with django_assert_max_num_queries(WARM.get(role, COLD[role])):
        client.get("/")

    assert response.status_code == 200
    if role == "direction":
        assert response.context["direction"]["active_contracts"] == count - count // 5
    if role == "sales_agent":
        assert len(response.context["to_revisit"]) == count
    if role == "accountant":
        assert response.context["invoices"][1]["count"] == count


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_query_count_does_not_grow_with_the_data(client, everyone, lyon, role):
    populate(1, users=everyone, lyon=lyon)
    small = _home_queries(client, everyone[role])

    populate(29, users=everyone, lyon=lyon, offset=1)
    large = _home_queries(client, everyone[role])

    assert large == small
    assert small[0] <= COLD[role]
