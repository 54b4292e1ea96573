import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Restaurant
from sales import services as sales_services
from sales.models import Pack
from social import quotas
from social.models import SocialAccount
from tests.factories import RestaurantFactory
from tests.social.recorded import strict_requests


@pytest.fixture(autouse=True)
def _own_call_budgets(monkeypatch):
    """Each test draws on call budgets and pauses of its own (a cache version), wide enough never
    to make it wait; the budgets' own tests set theirs."""
    monkeypatch.setattr(quotas, "CACHE_VERSION", uuid.uuid4().int % 2**31)
    wide = quotas.Budget(limit=100_000, period=1, windows=1)
    monkeypatch.setattr(quotas, "BUDGETS", dict.fromkeys(quotas.BUDGETS, wide))


def make_bistro(*, community_manager, review_manager, client_manager) -> Restaurant:
    """A client restaurant of the community and review managers, under a contract with review
    management and three posts a month."""
    pack = Pack.objects.create(
        code="social", name="Social", monthly_price=Decimal("200.00"), networks=["facebook", "instagram", "google"],
        posts_per_month=3, monthly_report=True, review_management=True,
    )  # fmt: skip
    restaurant = RestaurantFactory(
        name="Le Bistro", client=True, community_manager=community_manager,
        review_manager=review_manager, time_zone="Europe/Paris",
    )  # fmt: skip
    sales_services.contract_sign(
        restaurant=restaurant,
        by=client_manager,
        pack=pack,
        start_date=timezone.localdate().replace(day=1) - dt.timedelta(days=40),
    )
    return restaurant


@pytest.fixture
def bistro(db, community_manager, review_manager, client_manager):
    return make_bistro(
        community_manager=community_manager,
        review_manager=review_manager,
        client_manager=client_manager,
    )


@pytest.fixture
def other_restaurant(db):
    return RestaurantFactory(name="Ailleurs", client=True)


def make_account(restaurant, network="facebook", **fields) -> SocialAccount:
    defaults = {
        "external_id": f"{network}-{restaurant.pk}-{SocialAccount.objects.count()}",
        "name": restaurant.name,
        "demo": True,
    }
    return SocialAccount.objects.create(
        restaurant=restaurant, network=network, **(defaults | fields)
    )


@pytest.fixture
def facebook(bistro):
    return make_account(bistro, "facebook")


@pytest.fixture
def instagram(bistro):
    return make_account(bistro, "instagram")


@pytest.fixture
def google(bistro):
    return make_account(bistro, "google")


@pytest.fixture
def graph_settings(settings):
    """Graph calls go to Graph's own address (replayed by the tests, never sent), without an
    app id or secret."""
    settings.GRAPH_API_URL = "https://graph.facebook.com"
    settings.META_APP_ID = ""
    settings.META_APP_SECRET = ""


@pytest.fixture
def graph():
    """The recorded answers a test adds; a request without one fails the test."""
    with strict_requests() as rsps:
        yield rsps
