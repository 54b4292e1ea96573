"""The dashboards' warm-up: every cached figure computed ahead (manage.py dashboards_warm and
its scheduled task), so that the first home after a cache flush or a deploy reads them stored."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from reports import dashboard_cache, tasks
from reports.dashboard_cache import FigureCache
from reports.dashboard_figures import FIGURES
from tests.reports.test_dashboard_queries import COLD, WARM


@pytest.fixture(autouse=True)
def _figures_out_of_date():
    # As after a flush: no stored figure is up to date (their topic tokens are all new).
    dashboard_cache.bump_all()


def _home(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return response, len(queries.captured_queries)


def test_after_the_warm_up_the_first_homes_read_their_figures_stored(
    client, direction, review_manager, world, capsys
):
    # The rows pages create on their first visit (site settings) exist already.
    _home(client, direction)
    _home(client, review_manager)
    dashboard_cache.bump_all()

    call_command("dashboards_warm")

    overview, overview_queries = _home(client, direction)
    times, times_queries = _home(client, review_manager)
    assert overview_queries <= WARM["direction"] < COLD["direction"]
    assert times_queries <= WARM["review_manager"]
    # The figures served are those a page computes itself.
    dashboard_cache.bump_all()
    computed, computed_queries = _home(client, direction)
    assert computed_queries > WARM["direction"]
    for key in ("active_contracts", "packs", "billed", "flow", "pipeline", "agents"):
        assert overview.context["direction"][key] == computed.context["direction"][key], key
    assert (
        overview.context["direction"]["reports_on_time"]
        == (computed.context["direction"]["reports_on_time"])
    )
    assert times.context["response_trend"][-1]["month"] == computed.context["month"]
    out = capsys.readouterr().out
    # 8 company figures, the pack names in both languages, the review manager's times.
    assert "10 figure(s) cached: 9 of the company overview, the others for 1 user(s)" in out


def test_the_warm_up_stores_every_figure_in_each_scope_and_language(direction, review_manager):
    stored = tasks.warm_dashboards()

    assert stored == 10
    scopes = {"all": FigureCache(scope="all"), "rm": FigureCache(scope=f"user:{review_manager.pk}")}
    for name, figure in FIGURES.items():
        store = scopes["rm" if figure.scope == "review_manager" else "all"]
        for language in ("fr", "en") if figure.per_language else ("fr",):
            with translation.override(language):
                slot = cache.get(store.key(name, per_language=figure.per_language))
            assert slot is not None and slot["signature"] == store.signature(figure.topics), name


def test_without_anyone_who_sees_every_restaurant_only_the_own_figures_are_warmed(
    review_manager, capsys
):
    call_command("dashboards_warm")

    out = capsys.readouterr().out
    assert "1 figure(s) cached: 0 of the company overview, the others for 1 user(s)" in out
    assert "Nobody sees every restaurant" in out


def test_the_warm_up_runs_more_often_than_the_figures_expire(db):
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.get(task="reports.tasks.warm_dashboards")

    assert job.enabled and job.crontab is None
    assert (job.interval.every, job.interval.period) == (4, "minutes")
    assert job.interval.every * 60 < dashboard_cache.TTL
    assert job.expire_seconds == 240
