import pytest

from reports import dashboard_cache


@pytest.fixture(autouse=True)
def _dashboard_figures_computed_in_the_page(monkeypatch):
    """Pages compute out-of-date figures themselves here, also where a broker is configured (the
    PostgreSQL + Redis run); test_dashboard_cache.py checks the background refresh on its own."""
    monkeypatch.setattr(dashboard_cache, "BACKGROUND", False)
