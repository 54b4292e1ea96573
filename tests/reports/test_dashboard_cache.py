"""The dashboards' cache: figures are served from it until a write to what they read, then
computed again; the TTL bounds writes no receiver sees; keys follow scope and language."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from crm import services as crm_services
from crm.models import ConversionRequest
from reports import dashboard_cache
from reports.dashboard_cache import FigureCache
from sales import services as sales_services
from sales.models import ContractTerm, Invoice, Opportunity, add_months
from social import services as social_services
from social.models import ReviewTask
from tests.factories import RestaurantFactory, UserFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    dashboard_cache.bump_all()


def overview(client, user) -> dict:
    client.force_login(user)
    return client.get("/").context["direction"]


def test_figures_are_served_from_the_cache_until_their_data_changes(
    client, direction, client_manager, world
):
    assert overview(client, direction)["active_contracts"] == 2
    # A write no receiver sees (raw UPDATE): the cached figure stays.
    ContractTerm.objects.update(pack=world.premium)
    assert [row["code"] for row in overview(client, direction)["packs"]] == [
        "essentiel",
        "premium",
    ]

    sales_services.contract_sign(
        restaurant=RestaurantFactory(client=True), by=client_manager, pack=world.premium,
        start_date=world.today,
    )  # fmt: skip

    packs = overview(client, direction)["packs"]
    assert [(row["code"], row["count"]) for row in packs] == [("premium", 3)]


def test_the_ttl_bounds_writes_no_receiver_sees(client, direction, world, monkeypatch):
    monkeypatch.setattr(dashboard_cache, "TTL", 0)
    overview(client, direction)

    ContractTerm.objects.update(pack=world.premium)

    assert [row["code"] for row in overview(client, direction)["packs"]] == ["premium"]


def test_bulk_billing_shows_at_once(client, direction, world):
    before = overview(client, direction)["billed"]
    Invoice.objects.all().delete()

    assert [row["count"] for row in before[-2:]] == [2, 3]
    assert [row["count"] for row in overview(client, direction)["billed"][-2:]] == [0, 0]
    sales_services.invoices_bill_month(month=world.month)  # bulk_create: no signal

    assert overview(client, direction)["billed"][-1]["count"] == 3


def test_moving_an_opportunity_refreshes_the_pipeline(client, direction, sales_agent, world):
    assert overview(client, direction)["pipeline_count"] == 2
    opportunity = Opportunity.objects.get(stage="new")

    sales_services.opportunity_move(opportunity=opportunity, by=sales_agent, stage="negotiation")

    pipeline = {row["stage"]: row["count"] for row in overview(client, direction)["pipeline"]}
    assert (pipeline["new"], pipeline["negotiation"]) == (0, 1)


def test_recording_a_visit_refreshes_the_activity_per_agent(client, direction, sales_agent, world):
    agents = {row["agent_id"]: row for row in overview(client, direction)["agents"]}
    assert agents[sales_agent.pk]["meetings"] == 1

    sales_services.visit_record_today(restaurant=world.fresh, by=sales_agent, day=world.today)

    agents = {row["agent_id"]: row for row in overview(client, direction)["agents"]}
    assert agents[sales_agent.pk]["meetings"] == 2


def test_ending_a_contract_counts_a_lost_client(client, direction, client_manager, world):
    assert overview(client, direction)["this_month_flow"]["lost"] == 1
    contract = world.fresh.contracts.get()

    sales_services.contract_end(
        contract=contract, by=client_manager, ended_at=world.today, reason="Vendu"
    )

    flow = overview(client, direction)["this_month_flow"]
    assert flow["lost"] == 2
    assert overview(client, direction)["active_contracts"] == 1


def test_validating_a_conversion_counts_the_client_and_its_contract(
    client, direction, sales_agent, accountant, world, django_capture_on_commit_callbacks
):
    assert overview(client, direction)["this_month_flow"]["won"] == 1
    sales_services.contract_sign(
        restaurant=world.prospect, by=sales_agent, pack=world.essentiel, start_date=world.today
    )
    assert overview(client, direction)["active_contracts"] == 2  # a draft until the conversion
    conversion = ConversionRequest.objects.get(restaurant=world.prospect)

    with django_capture_on_commit_callbacks(execute=True):
        crm_services.conversion_validate(conversion=conversion, by=accountant, client_code="C9")

    d = overview(client, direction)
    assert d["this_month_flow"]["won"] == 2
    # The draft became active through an UPDATE: the conversion signal invalidated contracts.
    assert d["active_contracts"] == 3


def test_a_figure_computed_during_a_write_does_not_outlive_its_commit(
    client, direction, review_manager, world, django_capture_on_commit_callbacks
):
    assert overview(client, direction)["reviews_this_month"]["answered"] == 2
    review = world.review_pending
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        # As review_mark_answered does: the review saved first, its task closed after.
        review.replied_at = now
        review.save(update_fields=["replied_at"])
        # A page computed between the two writes caches the task still open.
        assert overview(client, direction)["reviews_this_month"]["answered"] == 2
        ReviewTask.objects.filter(review=review, state="open").update(
            state="answered", answered_at=now
        )

    assert overview(client, direction)["reviews_this_month"]["answered"] == 3


def test_answering_a_review_refreshes_the_review_managers_times(
    client, review_manager, world, django_capture_on_commit_callbacks
):
    client.force_login(review_manager)
    assert client.get("/").context["response_this_month"]["answered"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        social_services.review_mark_answered(review=world.review_pending, by=review_manager)

    response = client.get("/")
    assert response.context["response_this_month"]["answered"] == 3
    assert response.context["reviews_unanswered"] == 1


def test_review_managers_do_not_share_their_statistics(client, review_manager, world):
    other = UserFactory(username="rm2", roles=["review_manager"])
    client.force_login(review_manager)
    assert client.get("/").context["response_this_month"]["answered"] == 2

    client.force_login(other)
    assert client.get("/").context["response_this_month"]["answered"] == 0


def test_pack_names_are_cached_per_language_and_follow_a_rename(client, direction, world):
    world.essentiel.name_en = "Essential"
    world.essentiel.save()
    assert overview(client, direction)["packs"][0]["name"] == "Essentiel"
    direction.language = "en"
    direction.save(update_fields=["language"])
    assert overview(client, direction)["packs"][0]["name"] == "Essential"

    world.essentiel.name_en = "Essentials"
    world.essentiel.save()

    assert overview(client, direction)["packs"][0]["name"] == "Essentials"


def test_topics_and_keys():
    computed = []
    store = FigureCache(scope="all")

    def compute():
        computed.append(1)
        return {"value": Decimal("1.00")}

    assert store.get("f", compute, topics=("pipeline",)) == {"value": Decimal("1.00")}
    assert FigureCache(scope="all").get("f", compute, topics=("pipeline",))["value"] == 1
    assert len(computed) == 1
    assert FigureCache(scope="user:7").get("f", compute, topics=("pipeline",))
    assert len(computed) == 2
    with translation.override("en"):
        FigureCache(scope="all").get("f", compute, topics=("pipeline",), per_language=True)
    assert len(computed) == 3
    dashboard_cache.bump("visits")  # another topic: nothing to recompute
    FigureCache(scope="all").get("f", compute, topics=("pipeline",))
    assert len(computed) == 3
    dashboard_cache.bump("pipeline")
    FigureCache(scope="all").get("f", compute, topics=("pipeline",))
    assert len(computed) == 4
    with pytest.raises(ValueError):
        store.get("f", compute, topics=("nothing",))


def test_an_evicted_version_never_brings_back_an_old_figure():
    store = FigureCache(scope="all")
    store.get("evicted", lambda: "old", topics=("pipeline",))
    cache.delete("dashboard:version:pipeline")  # evicted (memory pressure)

    assert FigureCache(scope="all").get("evicted", lambda: "new", topics=("pipeline",)) == "new"


def test_every_topic_has_a_receiver():
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    for labels in dashboard_cache.TOPICS.values():
        for label in labels:
            model = apps.get_model(label)
            assert post_save.has_listeners(model) and post_delete.has_listeners(model)


def test_month_starts_cover_the_year_backwards():
    from reports.selectors import month_starts

    months = month_starts(dt.date(2026, 2, 14), 12)

    assert months[0] == dt.date(2025, 3, 1)
    assert months[-1] == dt.date(2026, 2, 1)
    assert months[-2] == add_months(months[-1], -1)


# --- Stale while revalidating (a worker runs the tasks) ----------------------------------------


def _forget_stored_figures():
    """Figures (and refreshes asked) left by earlier tests would be served out of date here."""
    from reports.dashboard_figures import FIGURES

    for scope in ("all", *(f"user:{pk}" for pk in range(1, 50))):
        for name, figure in FIGURES.items():
            for language in ("fr", "en"):
                with translation.override(language):
                    key = FigureCache(scope=scope).key(name, per_language=figure.per_language)
                cache.delete_many([key, f"{key}:refreshing"])


@pytest.fixture
def queued(monkeypatch):
    """Background refreshes on; the tasks asked for are kept, to run when the test says."""
    from reports import tasks

    _forget_stored_figures()
    monkeypatch.setattr(dashboard_cache, "BACKGROUND", True)
    asked = []
    monkeypatch.setattr(tasks.refresh_dashboard_figure, "delay", lambda *args: asked.append(args))
    return asked


def test_after_a_write_the_page_serves_the_figure_while_a_worker_computes_it(
    client, direction, client_manager, world, queued
):
    from reports import tasks

    assert overview(client, direction)["active_contracts"] == 2  # nothing stored: computed
    assert queued == []
    sales_services.contract_sign(
        restaurant=RestaurantFactory(client=True), by=client_manager, pack=world.premium,
        start_date=world.today,
    )  # fmt: skip

    served = overview(client, direction)
    again = overview(client, direction)  # the worker has not run yet: asked once

    assert served["active_contracts"] == 2 and again["active_contracts"] == 2
    names = sorted(args[0] for args in queued)
    assert names == ["agents", "client_flow", "month_kpis", "packs"]  # the contracts topic's
    for args in queued:
        assert args[1:3] == ("all", direction.pk)
        assert tasks.refresh_dashboard_figure(*args) is True
    refreshed = overview(client, direction)
    assert refreshed["active_contracts"] == 3 and refreshed["kpis"]["contracts"] == 2
    assert len(queued) == 4


def test_a_figure_older_than_the_ttl_is_refreshed_in_the_background(
    client, direction, world, queued, monkeypatch
):
    overview(client, direction)
    ContractTerm.objects.update(pack=world.premium)  # no receiver sees it
    later = dashboard_cache._clock() + dashboard_cache.TTL + 1
    monkeypatch.setattr(dashboard_cache, "_clock", lambda: later)

    assert [row["code"] for row in overview(client, direction)["packs"]] == ["essentiel", "premium"]
    assert "packs" in [args[0] for args in queued]


def test_a_broker_that_cannot_take_the_task_leaves_the_page_computing(
    client, direction, client_manager, world, monkeypatch
):
    from reports import tasks

    _forget_stored_figures()
    monkeypatch.setattr(dashboard_cache, "BACKGROUND", True)
    overview(client, direction)

    def down(*_args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.refresh_dashboard_figure, "delay", down)
    sales_services.contract_sign(
        restaurant=RestaurantFactory(client=True), by=client_manager, pack=world.premium,
        start_date=world.today,
    )  # fmt: skip

    assert overview(client, direction)["active_contracts"] == 3


def test_a_refresh_for_a_gone_user_or_figure_does_nothing(direction):
    from reports import tasks

    assert tasks.refresh_dashboard_figure("packs", "all", 0, "fr") is False
    assert tasks.refresh_dashboard_figure("nothing", "all", direction.pk, "fr") is False


def test_the_next_day_the_stored_figure_is_out_of_date(
    client, direction, world, queued, monkeypatch
):
    overview(client, direction)
    tomorrow = world.today + dt.timedelta(days=1)
    monkeypatch.setattr(dashboard_cache.timezone, "localdate", lambda: tomorrow)
    asked = []

    served = FigureCache(scope="all").get(
        "packs", lambda: "computed", topics=("contracts",), per_language=True,
        refresh=lambda: asked.append(1),
    )  # fmt: skip

    assert served["total"] == 2 and asked == [1]  # yesterday's, while computed again
    # Without a worker to ask (no refresh), the page computes it.
    computed = FigureCache(scope="all").get(
        "packs", lambda: "computed", topics=("contracts",), per_language=True
    )
    assert computed == "computed"
