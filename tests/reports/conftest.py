import pytest

from reports import dashboard_cache


@pytest.fixture(autouse=True)
def _dashboard_figures_computed_in_the_page(monkeypatch):
    """Pages compute out-of-date figures themselves here, also where a broker is configured (the
    PostgreSQL + Redis run); test_dashboard_cache.py checks the background refresh on its own."""
    monkeypatch.setattr(dashboard_cache, "BACKGROUND", False)


@pytest.fixture
def world(lyon, sales_agent, client_manager, community_manager, review_manager):
    """The dashboards' fixed dataset (`build_world` in test_dashboard.py); a module may define
    its own `world` instead."""
    from tests.reports.test_dashboard import build_world

    return build_world(
        lyon=lyon,
        sales_agent=sales_agent,
        client_manager=client_manager,
        community_manager=community_manager,
        review_manager=review_manager,
    )
