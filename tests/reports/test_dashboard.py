"""The role dashboards: what each role sees, the figures' exact values and the lists they link to."""

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import ChangeRequest, ConversionRequest, Restaurant
from reports import dashboard_cache, selectors
from reports.models import MonthlyReport
from sales import services as sales_services
from sales.kpis import KpiFilters, compute
from sales.models import (
    Contract,
    Opportunity,
    Pack,
    SalesSettings,
    SalesTarget,
    Visit,
    add_months,
    first_of_month,
)
from social.models import Review, ReviewTask, SocialAccount
from tests.factories import RestaurantFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    """Figures are cached across requests; each test starts with none (new versions orphan the
    old keys: flushing the whole cache would also hit tests running beside)."""
    dashboard_cache.bump_all()


@dataclass
class World:
    today: dt.date
    month: dt.date
    essentiel: Pack
    premium: Pack
    ending: Restaurant  # client, essentiel since 12 months: ends this month
    fresh: Restaurant  # client, premium signed today by the agent, no community manager
    former: Restaurant  # client lost this month
    prospect: Restaurant
    review_pending: Review


def make_packs() -> tuple[Pack, Pack]:
    essentiel = Pack.objects.create(
        code="essentiel", name="Essentiel", monthly_price=Decimal("149.00"), networks=["facebook"],
        posts_per_month=8,
    )  # fmt: skip
    premium = Pack.objects.create(
        code="premium", name="Premium", monthly_price=Decimal("249.00"), networks=["google"],
        posts_per_month=16, review_management=True,
    )  # fmt: skip
    return essentiel, premium


def build_world(*, lyon, sales_agent, client_manager, community_manager, review_manager) -> World:
    today = timezone.localdate()
    month = first_of_month(today)
    now = timezone.now()
    essentiel, premium = make_packs()

    ending = RestaurantFactory(
        name="Le Bouchon", client=True, zone=lyon, sales_agent=sales_agent,
        community_manager=community_manager, review_manager=review_manager,
    )  # fmt: skip
    fresh = RestaurantFactory(name="La Gare", client=True, zone=lyon, sales_agent=sales_agent)
    former = RestaurantFactory(
        name="Le Port", client=True, zone=lyon, community_manager=community_manager
    )
    prospect = RestaurantFactory(name="Le Moulin", zone=lyon, sales_agent=sales_agent)

    old = sales_services.contract_sign(
        restaurant=ending, by=client_manager, pack=essentiel, start_date=add_months(month, -12)
    )
    sales_services.contract_sign(restaurant=fresh, by=sales_agent, pack=premium, start_date=today)
    lost = sales_services.contract_sign(
        restaurant=former, by=client_manager, pack=essentiel, start_date=add_months(month, -6)
    )
    Contract.objects.filter(pk=old.pk).update(signed_at=now - dt.timedelta(days=365))
    Contract.objects.filter(pk=lost.pk).update(signed_at=now - dt.timedelta(days=190))
    sales_services.invoices_bill_month(month=add_months(month, -1))
    sales_services.invoices_bill_month(month=month)
    lost.refresh_from_db()
    sales_services.contract_end(contract=lost, by=client_manager, ended_at=today, reason="Fermé")

    ConversionRequest.objects.create(
        restaurant=fresh, requested_by=sales_agent, payment_mode="transfer", payment_days=30,
        status="applied", decided_at=now,
    )  # fmt: skip
    ConversionRequest.objects.create(
        restaurant=prospect, requested_by=sales_agent, payment_mode="transfer", payment_days=30
    )
    ChangeRequest.objects.create(
        restaurant=ending, requested_by=sales_agent,
        changes=[{"field": "phone", "label": "Phone", "old": "", "new": "+33472000000"}],
    )  # fmt: skip

    Opportunity.objects.create(
        restaurant=prospect, owner=sales_agent, stage="proposal", monthly_amount=Decimal("300")
    )
    Opportunity.objects.create(
        restaurant=prospect, owner=sales_agent, stage="new", monthly_amount=Decimal("100")
    )
    Opportunity.objects.create(
        restaurant=prospect, owner=sales_agent, stage="lost", monthly_amount=Decimal("999")
    )
    SalesTarget.objects.create(
        agent=sales_agent, month=month, new_monthly_revenue=Decimal("200"), new_clients=2
    )

    midnight = selectors.local_midnight(today)
    Visit.objects.create(
        restaurant=prospect, agent=sales_agent, start=midnight + dt.timedelta(minutes=1),
        end=midnight + dt.timedelta(minutes=61), status="done", pack_offered=premium,
    )  # fmt: skip
    Visit.objects.create(
        restaurant=fresh, agent=sales_agent, start=midnight + dt.timedelta(hours=23),
        end=midnight + dt.timedelta(hours=23, minutes=30),
    )  # fmt: skip

    account = SocialAccount.objects.create(
        restaurant=ending, network="google", external_id="g-1", name="Le Bouchon", demo=True
    )
    answered = now - dt.timedelta(minutes=1)
    reviews = [
        Review.objects.create(
            account=account,
            restaurant=ending,
            network="google",
            external_id=f"r{number}",
            rating=4,
            written_at=now,
            updated_at=now,
            replied_at=answered if number < 2 else None,
        )
        for number in range(4)
    ]
    # Answered within target after 3 h, answered late after 10 h, open and overdue, open.
    ReviewTask.objects.create(
        review=reviews[0], state="answered", opened_at=answered - dt.timedelta(hours=3),
        due_at=now, answered_at=answered,
    )  # fmt: skip
    ReviewTask.objects.create(
        review=reviews[1], state="answered", opened_at=answered - dt.timedelta(hours=10),
        due_at=now - dt.timedelta(minutes=2), answered_at=answered,
    )  # fmt: skip
    ReviewTask.objects.create(
        review=reviews[2],
        opened_at=now - dt.timedelta(hours=30),
        due_at=now - dt.timedelta(hours=1),
    )
    ReviewTask.objects.create(review=reviews[3], opened_at=now, due_at=now + dt.timedelta(hours=24))
    return World(today, month, essentiel, premium, ending, fresh, former, prospect, reviews[3])


def home(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response


# --- Direction -----------------------------------------------------------------------------------


def test_direction_sees_the_company_figures(client, direction, sales_agent, world):
    response = home(client, direction)

    d = response.context["direction"]
    assert d["kpis"]["mrr"] == Decimal("398.00")
    assert d["kpis"]["new_mrr"] == Decimal("249.00")
    assert d["kpis"]["contracts"] == 1
    assert d["active_contracts"] == 2
    assert [(row["code"], row["count"], row["mrr"]) for row in d["packs"]] == [
        ("essentiel", 1, Decimal("149.00")),
        ("premium", 1, Decimal("249.00")),
    ]
    assert [(row["total"], row["count"]) for row in d["billed"][-2:]] == [
        (Decimal("298.00"), 2),
        (Decimal("547.00"), 3),
    ]
    assert all(row["count"] == 0 for row in d["billed"][:-2])
    assert len(d["billed"]) == 12
    assert (d["this_month_flow"]["won"], d["this_month_flow"]["lost"]) == (1, 1)
    assert [(row["stage"], row["count"], row["amount"]) for row in d["pipeline"]] == [
        ("new", 1, Decimal("100.00")),
        ("meeting", 0, Decimal("0.00")),
        ("proposal", 1, Decimal("300.00")),
        ("negotiation", 0, Decimal("0.00")),
    ]
    assert d["pipeline_total"] == Decimal("400.00")
    this_month = d["reviews_this_month"]
    assert (this_month["answered"], this_month["within"], this_month["share"]) == (2, 1, 50.0)
    agents = {row["agent_id"]: row for row in d["agents"]}
    agent = agents[sales_agent.pk]
    assert (agent["meetings"], agent["proposals"], agent["contracts"]) == (1, 1, 1)
    assert agent["name"] == sales_agent.get_display_name()


def test_direction_figures_link_to_their_lists(client, direction, world):
    response = home(client, direction)

    d = response.context["direction"]
    month = f"{world.month:%Y-%m}"
    assert d["mrr_url"] == "/contracts/?status=active"
    assert d["billed_this_month"]["url"] == f"/invoices/?month={month}"
    assert d["kpis_url"] == f"/sales/kpis/?from={month}&to={month}"
    assert d["signed_url"] == f"/contracts/?signed={month}"
    assert d["this_month_flow"]["won_url"] == (
        f"/requests/?status=applied&kind=conversion&decided={month}"
    )
    assert d["this_month_flow"]["lost_url"] == f"/contracts/?status=ended&lost={month}"
    assert d["pipeline"][2]["url"] == "/admin/sales/opportunity/?stage__exact=proposal"
    assert d["reviews_this_month"]["url"] == f"/reviews/?answered_month={month}"
    assert d["reviews_this_month"]["within_url"] == (
        f"/reviews/?answered_month={month}&within_target=1"
    )
    assert [row["url"] for row in d["packs"]] == [
        "/contracts/?status=active&pack=essentiel",
        "/contracts/?status=active&pack=premium",
    ]
    agent = next(row for row in d["agents"] if row["contracts"])
    agent_id = agent["agent_id"]
    assert agent["url"] == f"/sales/kpis/?agent={agent_id}&from={month}&to={month}"
    done = f"/visits/?agent={agent_id}&month={month}&status=done"
    assert agent["meetings_url"] == f"{done}&kind=visit"
    assert agent["proposals_url"] == f"{done}&proposal=1"
    assert agent["contracts_url"] == f"/contracts/?signed={month}&signed_by={agent_id}"
    body = response.content.decode()
    assert 'href="/contracts/?status=active&amp;pack=premium"' in body
    assert 'data-testid="direction-mrr"' in body
    # A tile without a hint shows none (not the previous tile's).
    lost = body.split('data-testid="direction-lost-clients"')[1].split("</a>")[0]
    assert "contrat" not in lost


def _section(body: str, testid: str) -> str:
    return body.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


def _every_number_is_a_link(section: str) -> None:
    """Each figure cell of the section's tables holds a link (or the dash of no figure)."""
    cells = re.findall(r'<td class="text-end">(.*?)</td>', section, flags=re.S)
    assert cells
    for cell in cells:
        assert cell.startswith("<a ") or cell == "—", cell


def _price_today(contract: Contract) -> Decimal:
    terms = [term for term in contract.terms.all() if term.starts_on <= timezone.localdate()]
    return max(terms, key=lambda term: term.starts_on).monthly_price if terms else Decimal(0)


def _contracts(client, url) -> tuple[int, Decimal]:
    """What the contract list behind `url` shows: its rows and their monthly revenue today."""
    page = client.get(url).context["page"]
    rows = list(page.paginator.object_list)
    assert page.paginator.count == len(rows)
    return len(rows), sum((_price_today(contract) for contract in rows), Decimal("0.00"))


def _listed(client, url) -> int:
    return client.get(url).context["page"].paginator.count


def _first_price(contract: Contract) -> Decimal:
    return next(
        term for term in contract.terms.all() if term.starts_on == contract.start_date
    ).monthly_price


def _signed(client, url) -> tuple[int, Decimal]:
    """What the contract list behind `url` shows: its rows and their monthly revenue as signed
    (the new monthly revenue of the KPIs)."""
    rows = list(client.get(url).context["page"].paginator.object_list)
    return len(rows), sum((_first_price(contract) for contract in rows), Decimal("0.00"))


def _conversions(client, url) -> int:
    """The client creation requests the inbox behind `url` lists (and nothing else)."""
    context = client.get(url).context
    assert context["changes"] is None
    return context["conversions"].paginator.count


def test_each_direction_number_is_what_its_list_shows(
    client, direction, client_manager, community_manager, world
):
    # More than the world: a contract starting next month, a review answered twice (changed
    # after its first reply), last month's reports sent on time, late and not at all.
    sales_services.contract_sign(
        restaurant=RestaurantFactory(name="Plus tard", client=True), by=client_manager,
        pack=world.premium, start_date=add_months(world.month, 1),
    )  # fmt: skip
    twice = ReviewTask.objects.filter(state="answered").order_by("answered_at", "pk").last()
    ReviewTask.objects.create(
        review=twice.review, state="answered", opened_at=twice.answered_at,
        due_at=twice.answered_at - dt.timedelta(minutes=30), answered_at=twice.answered_at,
    )  # fmt: skip
    last_month = add_months(world.month, -1)
    deadline = world.month.replace(day=10)
    in_time = timezone.make_aware(dt.datetime.combine(deadline, dt.time(9)))
    for name, first_sent in (("A", in_time), ("B", in_time + dt.timedelta(days=2)), ("C", None)):
        MonthlyReport.objects.create(
            restaurant=RestaurantFactory(name=f"Rapport {name}", client=True),
            month=last_month, deadline=deadline, first_sent_at=first_sent, sent_at=first_sent,
            status="sent" if first_sent else "draft",
        )  # fmt: skip

    response = home(client, direction)

    d = response.context["direction"]
    body = response.content.decode()
    _every_number_is_a_link(_section(body, "direction"))
    # Tiles.
    count, mrr = _contracts(client, d["mrr_url"])
    assert (count, mrr) == (d["active_contracts"], d["kpis"]["mrr"])
    invoices = client.get(d["billed_this_month"]["url"]).context
    assert invoices["page"].paginator.count == d["billed_this_month"]["count"]
    assert invoices["total"] == d["billed_this_month"]["total"]
    kpis = client.get(d["kpis_url"]).context["figures"]
    assert (kpis["mrr"], kpis["new_mrr"], kpis["contracts"]) == (
        d["kpis"]["mrr"], d["kpis"]["new_mrr"], d["kpis"]["contracts"],
    )  # fmt: skip
    assert _signed(client, d["signed_url"]) == (d["kpis"]["contracts"], d["kpis"]["new_mrr"])
    opportunities = client.get(d["pipeline_url"]).context["cl"].queryset
    assert opportunities.count() == d["pipeline_count"]
    assert sum(o.monthly_amount for o in opportunities) == d["pipeline_total"]
    on_time = d["reports_on_time"]
    assert (on_time.total, on_time.sent, on_time.on_time) == (3, 2, 1)
    assert _listed(client, d["reports_url"]) == on_time.total
    assert _listed(client, d["reports_sent_url"]) == on_time.sent
    assert _listed(client, d["reports_on_time_url"]) == on_time.on_time
    # Tables (and their charts, which open the same links).
    for row in d["billed"]:
        invoices = client.get(row["url"]).context
        assert (invoices["page"].paginator.count, invoices["total"]) == (row["count"], row["total"])
    assert [row["code"] for row in d["packs"]] == ["essentiel", "premium", ""]
    for row in d["packs"]:
        assert _contracts(client, row["url"]) == (row["count"], row["mrr"]), row
    for row in d["flow"]:
        won = _conversions(client, row["won_url"])
        assert (won, _listed(client, row["lost_url"])) == (row["won"], row["lost"]), row
    assert d["this_month_flow"]["won"] == 1 and d["this_month_flow"]["lost"] == 1
    for row in d["pipeline"]:
        listed = client.get(row["url"]).context["cl"].queryset
        assert listed.count() == row["count"]
        assert sum((o.monthly_amount for o in listed), Decimal("0.00")) == row["amount"]
    for row in d["reviews"]:
        answered, within = _listed(client, row["url"]), _listed(client, row["within_url"])
        assert (answered, within) == (row["answered"], row["within"]), row
    assert (d["reviews_this_month"]["answered"], d["reviews_this_month"]["within"]) == (2, 1)
    for row in d["agents"]:
        kpis = client.get(row["url"]).context["figures"]
        assert (kpis["meetings"], kpis["proposals"], kpis["contracts"]) == (
            row["meetings"], row["proposals"], row["contracts"],
        )  # fmt: skip
        listed = (
            _listed(client, row["meetings_url"]),
            _listed(client, row["proposals_url"]),
            _listed(client, row["contracts_url"]),
        )
        assert listed == (row["meetings"], row["proposals"], row["contracts"]), row
    charts = response.context["charts"]
    assert charts["reviews"]["datasets"][0]["urls"] == [row["within_url"] for row in d["reviews"]]
    assert [dataset["urls"] for dataset in charts["agents"]["datasets"]] == [
        [row[f"{key}_url"] for row in d["agents"]] for key in ("meetings", "proposals", "contracts")
    ]
    assert charts["packs"]["datasets"][0]["urls"] == [row["url"] for row in d["packs"]]


def test_contracts_starting_later_count_without_a_pack(client, direction, client_manager, world):
    sales_services.contract_sign(
        restaurant=RestaurantFactory(client=True), by=client_manager, pack=world.premium,
        start_date=add_months(world.month, 1),
    )  # fmt: skip

    d = home(client, direction).context["direction"]

    assert d["active_contracts"] == 3
    assert [(row["code"], row["count"]) for row in d["packs"]][-1] == ("", 1)
    assert d["packs"][-1]["url"] == "/contracts/?status=active&pack=none"


def test_direction_charts_come_as_json_with_the_links(client, direction, world):
    response = home(client, direction)

    body = response.content.decode()
    assert '<script id="dashboard-charts" type="application/json">' in body
    assert "js/dashboard.js" in body and "chart.umd.min.js" in body
    charts = response.context["charts"]
    assert set(charts) == {"mrr", "packs", "flow", "pipeline", "reviews", "agents"}
    assert charts["packs"]["datasets"][0]["data"] == [1, 1]
    assert charts["packs"]["datasets"][0]["urls"][1] == "/contracts/?status=active&pack=premium"
    assert charts["mrr"]["datasets"][0]["data"][-1] == 547.0
    assert charts["flow"]["datasets"][1]["data"][-1] == 1
    json.dumps(charts)  # nothing the page cannot serialise


def test_admin_gets_the_direction_overview(client, admin_user, world):
    response = home(client, admin_user)

    assert response.context["direction"]["active_contracts"] == 2
    assert response.context["health"] is not None


# --- Client manager ------------------------------------------------------------------------------


def test_client_manager_sees_ending_contracts_unmanaged_clients_and_requests(
    client, client_manager, world
):
    response = home(client, client_manager)

    assert [c.restaurant for c in response.context["ending_contracts"]] == [world.ending]
    assert response.context["ending_count"] == 1
    assert response.context["without_community_manager"] == 1
    requests = response.context["requests"]
    assert (requests["change_count"], requests["conversion_count"]) == (1, 1)
    assert [c.restaurant for c in requests["conversions"]] == [world.prospect]
    body = response.content.decode()
    assert 'href="/restaurants/?status=client&amp;community_manager=none"' in body
    assert 'href="/contracts/?ending=1"' in body
    assert "direction" not in response.context


def test_restaurants_without_community_manager_filter_lists_what_the_dashboard_counts(
    client, client_manager, world
):
    count = home(client, client_manager).context["without_community_manager"]

    page = client.get("/restaurants/", {"status": "client", "community_manager": "none"})

    assert [r.name for r in page.context["page"].object_list] == ["La Gare"]
    assert page.context["page"].paginator.count == count
    assert 'value="none" selected' in page.content.decode()


def test_contract_list_filters_by_the_pack_in_force(client, client_manager, world):
    # The contract started twelve months ago on essentiel moves to premium from tomorrow at the
    # latest (today when possible): the list follows the terms in force today.
    contract = world.ending.contracts.get()
    sales_services.contract_upgrade(
        contract=contract, by=client_manager, starts_on=world.today, pack=world.premium,
        monthly_price=Decimal("249.00"), posts_per_month=16, networks=["google"],
    )  # fmt: skip
    client.force_login(client_manager)

    premium = client.get("/contracts/", {"status": "active", "pack": "premium"})
    essentiel = client.get("/contracts/", {"status": "active", "pack": "essentiel"})

    assert {c.restaurant.name for c in premium.context["page"].object_list} == {
        "Le Bouchon",
        "La Gare",
    }
    assert essentiel.context["page"].paginator.count == 0
    assert 'data-testid="pack-filter"' in premium.content.decode()


# --- Sales agent ---------------------------------------------------------------------------------


def test_sales_agent_sees_today_target_and_pipeline(client, sales_agent, world):
    response = home(client, sales_agent)

    assert [v.restaurant.name for v in response.context["today_visits"]] == [
        "Le Moulin",
        "La Gare",
    ]
    target = response.context["target"]
    assert target["actual_revenue"] == Decimal("249.00")
    assert target["revenue_target"] == Decimal("200.00")
    assert (target["actual_clients"], target["clients_target"]) == (1, 2)
    assert target["bonus"] == Decimal("4.90")
    assert target["progress"] == 100
    assert [(row["stage"], row["count"]) for row in response.context["my_pipeline"]] == [
        ("new", 1),
        ("meeting", 0),
        ("proposal", 1),
        ("negotiation", 0),
    ]
    assert response.context["my_pipeline_total"] == Decimal("400.00")
    assert response.context["target_url"] == (
        f"/sales/kpis/?from={world.month:%Y-%m}&to={world.month:%Y-%m}"
    )
    assert [c.restaurant for c in response.context["ending_contracts"]] == [world.ending]
    assert "direction" not in response.context
    assert set(response.context["charts"]) == {"my_pipeline"}


def test_agent_target_is_the_kpi_pages_target_for_the_month(client, sales_agent, world):
    target = home(client, sales_agent).context["target"]

    kpis = compute(
        KpiFilters(agent=sales_agent, zone=None, start=world.month, end=add_months(world.month, 1))
    )["target"]
    assert (target["actual_revenue"], target["revenue_target"], target["bonus"]) == (
        kpis["actual_revenue"],
        kpis["revenue"],
        kpis["bonus"],
    )
    assert (target["actual_clients"], target["clients_target"]) == (
        kpis["actual_clients"],
        kpis["clients"],
    )


def test_agent_without_target_sees_actual_figures_only(client, sales_agent, world):
    SalesTarget.objects.all().delete()

    response = home(client, sales_agent)

    assert response.context["target"]["revenue_target"] is None
    assert response.context["target"]["bonus"] is None
    assert "<progress" not in response.content.decode()


# --- Community manager, review manager, accountant ------------------------------------------------


def test_community_manager_keeps_the_day_of_the_social_desk(client, community_manager, world):
    response = home(client, community_manager)

    assert response.context["social_day"]["restaurant_count"] == 2
    assert b'data-testid="community-manager-day"' in response.content
    assert "direction" not in response.context and "target" not in response.context


def test_review_manager_sees_overdue_and_response_times(client, review_manager, world):
    response = home(client, review_manager)

    assert response.context["reviews_overdue"] == 1
    assert response.context["reviews_unanswered"] == 2
    this_month = response.context["response_this_month"]
    assert this_month["answered"] == 2
    assert this_month["share"] == 50.0
    assert this_month["median_hours"] == 6.5
    assert this_month["p90_hours"] == 10.0
    assert len(response.context["response_trend"]) == 12
    body = response.content.decode()
    assert 'href="/reviews/?overdue=1"' in body
    assert 'href="/reviews/?answered=no"' in body
    queue = client.get("/reviews/", {"overdue": "1"})
    assert queue.context["page"].paginator.count == response.context["reviews_overdue"]
    unanswered = client.get("/reviews/", {"answered": "no"})
    assert unanswered.context["page"].paginator.count == response.context["reviews_unanswered"]


def test_accountant_sees_pending_requests_and_invoices_of_the_month(client, accountant, world):
    response = home(client, accountant)

    requests = response.context["requests"]
    assert (requests["change_count"], requests["conversion_count"]) == (1, 1)
    last, this = response.context["invoices"]
    assert (this["month"], this["count"], this["total"]) == (world.month, 3, Decimal("547.00"))
    assert (last["count"], last["total"]) == (2, Decimal("298.00"))
    assert this["url"] == f"/invoices/?month={world.month:%Y-%m}"
    listed = client.get(this["url"])
    assert listed.context["page"].paginator.count == 3
    body = response.content.decode()
    assert 'data-testid="invoices-this-month"' in body
    assert f'href="/requests/conversions/{requests["conversions"][0].pk}/"' in body


def test_a_user_without_role_sees_only_their_account(client, persona, world):
    response = home(client, persona(None))

    for key in ("direction", "target", "social_day", "reviews_overdue", "requests", "invoices"):
        assert key not in response.context
    assert response.context["charts"] == {}
    assert b"dashboard.js" not in response.content


def test_dashboard_renders_in_english(client, direction, world):
    direction.language = "en"
    direction.save(update_fields=["language"])

    response = home(client, direction)

    assert response.context["LANGUAGE_CODE"] == "en"
    assert "Company overview" in response.content.decode()


def test_review_manager_numbers_are_what_their_lists_show(client, review_manager, world):
    response = home(client, review_manager)

    _every_number_is_a_link(_section(response.content.decode(), "review-manager-day"))
    assert _listed(client, "/reviews/?overdue=1") == response.context["reviews_overdue"]
    assert _listed(client, "/reviews/?answered=no") == response.context["reviews_unanswered"]
    for row in response.context["response_trend"]:
        answered, within = _listed(client, row["url"]), _listed(client, row["within_url"])
        assert (answered, within) == (row["answered"], row["within"]), row
    this_month = response.context["response_this_month"]
    assert (this_month["answered"], this_month["within"]) == (2, 1)


def test_sales_agent_numbers_are_what_their_lists_show(client, sales_agent, world):
    response = home(client, sales_agent)

    section = _section(response.content.decode(), "sales-agent")
    pipeline = section.split('data-testid="agent-pipeline"', 1)[1].split("</table>", 1)[0]
    _every_number_is_a_link(pipeline)
    columns = {column["stage"]: column for column in client.get("/pipeline/").context["columns"]}
    for row in response.context["my_pipeline"]:
        column = columns[row["stage"]]
        assert (len(column["cards"]), column["total"]) == (row["count"], row["amount"]), row
    target = response.context["target"]
    kpis = client.get(response.context["target_url"]).context["figures"]
    assert kpis["new_clients"] == target["actual_clients"]
    assert kpis["target"]["bonus"] == target["bonus"]
    revenue = _signed(client, response.context["target_revenue_url"])
    assert revenue == (target["contracts"], target["actual_revenue"]) == (1, Decimal("249.00"))
    assert _conversions(client, response.context["target_clients_url"]) == target["actual_clients"]
    visits = client.get(response.context["today_visits_url"]).context["page"]
    assert list(visits.object_list) == sorted(
        response.context["today_visits"], key=lambda visit: visit.start, reverse=True
    )


def test_not_seen_for_long_marks_the_rows_past_the_sales_settings_bound(client, sales_agent):
    settings = SalesSettings.load()
    settings.not_seen_days = 30
    settings.save()
    now = timezone.now()
    for name, days in [("Jamais", None), ("Loin", 45), ("Juste", 30), ("Récent", 5)]:
        RestaurantFactory(
            name=name, sales_agent=sales_agent,
            last_visit_at=None if days is None else now - dt.timedelta(days=days, hours=1),
        )  # fmt: skip

    response = home(client, sales_agent)

    rows = [(r.name, days, overdue) for r, days, overdue in response.context["not_seen"]]
    assert rows == [
        ("Jamais", None, True),
        ("Loin", 45, True),
        ("Juste", 30, True),
        ("Récent", 5, False),
    ]
    assert response.content.decode().count("data-overdue") == 3
