from decimal import Decimal

import pytest

from sales.models import Pack
from tests.factories import RestaurantFactory


@pytest.fixture
def pack(db):
    return Pack.objects.create(
        code="essentiel", name="Essentiel", monthly_price=Decimal("149.00"), networks=["facebook", "instagram"],
        posts_per_month=8, monthly_report=True,
    )  # fmt: skip


@pytest.fixture
def premium(db):
    return Pack.objects.create(
        code="premium", name="Premium", monthly_price=Decimal("249.00"), networks=["facebook", "instagram", "google"],
        posts_per_month=16, monthly_report=True, review_management=True,
    )  # fmt: skip


@pytest.fixture
def client_restaurant(db, lyon, sales_agent):
    return RestaurantFactory(name="Le Bouchon", client=True, zone=lyon, sales_agent=sales_agent)
