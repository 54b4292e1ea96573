"""Field statistics (/stats/field/): figures on fixed data, the pure computation, periods, scope,
access, query counts and the one-page PDF."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from pypdf import PdfReader

from crm.models import Restaurant
from reports.field_stats import (
    ContractRow,
    InvoiceRow,
    Period,
    PortfolioRow,
    VisitRow,
    compute,
    field_stats,
    period_from_params,
)
from sales import services
from sales.models import Contract, Invoice, Pack, Visit
from tests.factories import RestaurantFactory, SegmentFactory, UserFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
JAN_TO_MAR = {"from": "2026-01", "to": "2026-03"}
A4 = (595.28, 841.89)  # points


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def visit(restaurant, agent, when: datetime, **fields) -> Visit:
    fields.setdefault("status", "done")
    fields.setdefault("while_prospect", restaurant.status == "prospect")
    return Visit.objects.create(
        restaurant=restaurant, agent=agent, start=when, end=when + timedelta(minutes=30), **fields
    )


def signed(restaurant, agent, pack, *, start: date, months: int, on: datetime) -> Contract:
    contract = services.contract_sign(
        restaurant=restaurant, by=agent, pack=pack, start_date=start, duration_months=months
    )
    Contract.objects.filter(pk=contract.pk).update(signed_at=on)
    return contract


def invoice(contract: Contract, month: date, amount: str) -> Invoice:
    return Invoice.objects.create(
        number=f"F{contract.pk}-{month:%Y%m}", contract=contract, restaurant=contract.restaurant,
        month=month, amount=Decimal(amount), pack_name="x",
    )  # fmt: skip


@pytest.fixture
def packs(db):
    essentiel = Pack.objects.create(
        code="essentiel", name="Essentiel", monthly_price=Decimal("149.00"), posts_per_month=8, order=1, networks=["facebook"]
    )  # fmt: skip
    premium = Pack.objects.create(
        code="premium", name="Premium", monthly_price=Decimal("249.00"), posts_per_month=16, order=2, networks=["facebook"]
    )  # fmt: skip
    return essentiel, premium


@pytest.fixture
def colleague(db):
    return UserFactory(username="colleague", first_name="Paul", last_name="Collègue", roles=["sales_agent"])  # fmt: skip


@pytest.fixture
def world(sales_agent, colleague, packs):
    """January to March 2026 for the sales agent, with noise around it (see the expected values
    in test_figures_match_hand_computed_values)."""
    essentiel, premium = packs
    brasserie = SegmentFactory(code="brasserie", name="Brasserie", order=1)
    traditional = SegmentFactory(code="traditionnel", name="Traditionnel", order=2)
    mine = {"sales_agent": sales_agent}
    c1 = RestaurantFactory(name="C1", client=True, segment=brasserie, **mine)
    c2 = RestaurantFactory(name="C2", client=True, segment=traditional, **mine)
    c3 = RestaurantFactory(name="C3", client=True, segment=brasserie, **mine)
    c4 = RestaurantFactory(name="C4", client=True, **mine)
    p1 = RestaurantFactory(name="P1", segment=brasserie, **mine)
    RestaurantFactory(name="P2", **mine)
    RestaurantFactory(name="P3 archived", archived_at=at(date(2025, 12, 1)), **mine)
    theirs = RestaurantFactory(
        name="Theirs", client=True, segment=traditional, sales_agent=colleague
    )

    # In the period: 8 in-person visits (6 to clients, 2 to a prospect), 1 call with a proposal.
    visit(c1, sales_agent, at(date(2026, 1, 10)), pack_offered=essentiel)
    visit(c2, sales_agent, at(date(2026, 1, 20)))
    visit(c2, sales_agent, at(date(2026, 1, 1), 0, 30))  # 31 Dec 23:30 UTC: January in Paris
    visit(c1, sales_agent, at(date(2026, 2, 5)))
    visit(theirs, sales_agent, at(date(2026, 2, 9)))  # a colleague's client, visited by the agent
    visit(p1, sales_agent, at(date(2026, 2, 6)), pack_offered=premium)
    visit(c4, sales_agent, at(date(2026, 3, 3)))
    visit(p1, sales_agent, at(date(2026, 3, 4)))
    visit(c2, sales_agent, at(date(2026, 3, 5)), kind="phone", pack_offered=essentiel)
    # Not counted: planned, cancelled, outside the period, someone else's.
    visit(c3, sales_agent, at(date(2026, 3, 20)), status="planned", pack_offered=essentiel)
    visit(c3, sales_agent, at(date(2026, 2, 20)), status="cancelled")
    visit(c3, sales_agent, at(date(2025, 12, 31), 23, 30))  # 22:30 UTC, still December
    visit(c3, sales_agent, at(date(2026, 4, 1), 0, 10), pack_offered=premium)
    visit(c3, colleague, at(date(2026, 2, 11)), pack_offered=premium)
    visit(theirs, colleague, at(date(2026, 2, 12)))

    k1 = signed(c1, sales_agent, essentiel, start=date(2026, 2, 1), months=13, on=at(date(2026, 1, 15)))  # fmt: skip
    k2 = signed(c2, sales_agent, premium, start=date(2025, 7, 1), months=26, on=at(date(2025, 6, 10)))  # fmt: skip
    signed(p1, sales_agent, premium, start=date(2026, 3, 1), months=13, on=at(date(2026, 2, 20)))  # draft  # fmt: skip
    k4 = signed(theirs, colleague, essentiel, start=date(2026, 2, 1), months=13, on=at(date(2026, 2, 2)))  # fmt: skip
    for month in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)):
        invoice(k1, month, "149.00")
    for month in (date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
        invoice(k2, month, "249.00")
    invoice(k4, date(2026, 3, 1), "100.00")
    return {"c1": c1, "theirs": theirs}


JAN_TO_MAR_PERIOD = Period(start=date(2026, 1, 1), end=date(2026, 4, 1))


def test_figures_match_hand_computed_values(sales_agent, world):
    with translation.override("en"):
        stats = field_stats(agent=sales_agent, period=JAN_TO_MAR_PERIOD)

    assert stats.months == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert [(s.label, s.values) for s in stats.visits] == [
        ("Brasserie", [1, 1, 0]),
        ("Traditionnel", [2, 1, 0]),
        ("No segment", [0, 0, 1]),
        ("Prospects", [0, 1, 1]),
    ]
    assert (stats.visits_total, stats.client_visits, stats.prospect_visits) == (8, 6, 2)
    assert [(s.label, s.values) for s in stats.proposals] == [
        ("Essentiel", [1, 0, 1]),
        ("Premium", [0, 1, 0]),
    ]
    assert stats.proposals_total == 3
    assert stats.invoiced == [Decimal("249.00"), Decimal("398.00"), Decimal("398.00")]
    assert stats.invoiced_total == Decimal("1045.00")
    assert stats.contracts_signed == 1
    assert stats.new_monthly_revenue == Decimal("149.00")
    assert stats.contract_value == Decimal("1937.00")  # 149 x 13
    # Clients C1..C4, of which C1, C2, C4 visited; prospects P1, P2 (P3 is archived), P1 visited.
    assert (stats.clients.total, stats.clients.visited, stats.clients.share) == (4, 3, 75.0)
    assert (stats.prospects.total, stats.prospects.visited, stats.prospects.share) == (2, 1, 50.0)


def test_figures_count_only_the_chosen_agent(colleague, world):
    stats = field_stats(agent=colleague, period=JAN_TO_MAR_PERIOD)

    assert [(s.label, s.values) for s in stats.visits] == [
        ("Brasserie", [0, 1, 0]),
        ("Traditionnel", [0, 1, 0]),
        ("Prospects", [0, 0, 0]),
    ]
    assert [(s.label, s.values) for s in stats.proposals] == [("Premium", [0, 1, 0])]
    assert stats.invoiced_total == Decimal("100.00")
    assert (stats.contracts_signed, stats.contract_value) == (1, Decimal("1937.00"))
    assert (stats.clients.total, stats.clients.visited) == (1, 1)
    assert stats.prospects.share is None


def test_compute_works_on_plain_rows_and_ignores_rows_outside_the_period():
    period = Period(start=date(2026, 5, 1), end=date(2026, 7, 1))
    rows = [
        VisitRow(date(2026, 5, 2), "visit", 1, "Fast food", False, "Essentiel"),
        VisitRow(date(2026, 6, 30), "visit", 2, "Brasserie", False),
        VisitRow(date(2026, 6, 1), "visit", 3, "Brasserie", True, "Premium"),
        VisitRow(date(2026, 6, 2), "email", 3, "Brasserie", True, "Premium"),
        VisitRow(date(2026, 7, 1), "visit", 4, "Brasserie", False, "Premium"),
        VisitRow(date(2026, 4, 30), "visit", 5, "", False),
    ]
    portfolio = [PortfolioRow(1, "client"), PortfolioRow(5, "client"), PortfolioRow(3, "prospect")]

    with translation.override("en"):
        stats = compute(
            period=period,
            visits=rows,
            portfolio=portfolio,
            invoices=[InvoiceRow(date(2026, 6, 1), Decimal("10.50")), InvoiceRow(date(2026, 6, 1), Decimal("1"))],
            contracts=[ContractRow(date(2026, 5, 31), Decimal("99.00"), 26), ContractRow(date(2026, 7, 1), Decimal("5"), 13)],
            segments=["Brasserie"],
            packs=["Premium"],
        )  # fmt: skip

    assert [(s.label, s.values) for s in stats.visits] == [
        ("Brasserie", [0, 1]),
        ("Fast food", [1, 0]),
        ("Prospects", [0, 1]),
    ]
    assert [(s.label, s.values) for s in stats.proposals] == [
        ("Premium", [0, 2]),
        ("Essentiel", [1, 0]),
    ]
    assert stats.invoiced == [Decimal("0.00"), Decimal("11.50")]
    assert (stats.contracts_signed, stats.new_monthly_revenue, stats.contract_value) == (
        1, Decimal("99.00"), Decimal("2574.00"),
    )  # fmt: skip
    assert (stats.clients.visited, stats.clients.total, stats.clients.share) == (1, 2, 50.0)
    assert (stats.prospects.visited, stats.prospects.total, stats.prospects.share) == (1, 1, 100.0)


def test_compute_without_any_row_gives_zeros_and_no_shares():
    with translation.override("en"):
        stats = compute(period=JAN_TO_MAR_PERIOD, visits=[], portfolio=[])

    assert [(s.label, s.values) for s in stats.visits] == [("Prospects", [0, 0, 0])]
    assert stats.proposals == []
    assert (stats.visits_total, stats.invoiced_total, stats.contracts_signed) == (0, 0, 0)
    assert (stats.clients.share, stats.prospects.share) == (None, None)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (None, None, (date(2025, 12, 1), date(2026, 12, 1), False)),
        ("2026-01", "2026-03", (date(2026, 1, 1), date(2026, 4, 1), False)),
        ("2026-03", "2026-01", (date(2026, 1, 1), date(2026, 4, 1), False)),
        ("2026-13", "nonsense", (date(2025, 12, 1), date(2026, 12, 1), False)),
        ("2024-01", "2025-12", (date(2024, 1, 1), date(2026, 1, 1), False)),
        ("2020-01", "2025-12", (date(2024, 1, 1), date(2026, 1, 1), True)),
    ],
)
def test_period_from_params(first, last, expected):
    period = period_from_params(first, last, today=date(2026, 11, 23))

    assert (period.start, period.end, period.shortened) == expected


# Pages and access.


def test_agent_sees_their_own_figures(client, sales_agent, world):
    sales_agent.language = "en"
    sales_agent.save(update_fields=["language"])
    client.force_login(sales_agent)

    response = client.get("/stats/field/", JAN_TO_MAR)

    assert response.status_code == 200
    assert response.context["choice"].agent == sales_agent
    assert response.context["choice"].agents == []
    assert response.context["stats"].visits_total == 8
    chart = response.context["chart"]
    assert chart["labels"] == ["01/26", "02/26", "03/26"]
    assert chart["visits"][-1] == {"label": "Prospects", "data": [0, 1, 1]}
    assert chart["coverage"]["data"] == [75.0, 50.0]
    body = response.content.decode()
    assert 'id="field-stats-data"' in body
    assert "How these figures are counted" in body
    assert 'name="agent"' not in body


def test_agent_naming_themselves_sees_their_figures(client, sales_agent, world):
    client.force_login(sales_agent)

    response = client.get("/stats/field/", {"agent": sales_agent.pk, **JAN_TO_MAR})

    assert response.context["stats"].visits_total == 8


@pytest.mark.parametrize("url", ["/stats/field/", "/stats/field/pdf/"])
def test_agent_asking_for_a_colleague_gets_404(client, sales_agent, colleague, url):
    client.force_login(sales_agent)

    assert client.get(url, {"agent": colleague.pk}).status_code == 404


@pytest.mark.parametrize("persona_name", ["admin_user", "direction"])
def test_managers_choose_an_agent_from_the_list(client, request, persona_name, sales_agent, colleague, world):  # fmt: skip
    client.force_login(request.getfixturevalue(persona_name))

    prompt = client.get("/stats/field/", JAN_TO_MAR)
    chosen = client.get("/stats/field/", {"agent": colleague.pk, **JAN_TO_MAR})

    assert prompt.status_code == 200
    assert prompt.context["stats"] is None
    assert set(prompt.context["choice"].agents) == {sales_agent, colleague}
    assert b'data-testid="field-stats-prompt"' in prompt.content
    assert chosen.context["choice"].agent == colleague
    assert chosen.context["stats"].invoiced_total == Decimal("100.00")


@pytest.mark.parametrize("agent", ["client_manager", "unknown", "abc"])
def test_managers_naming_someone_who_is_not_an_agent_get_404(client, direction, client_manager, agent):  # fmt: skip
    client.force_login(direction)
    value = {"client_manager": client_manager.pk, "unknown": 999999, "abc": "abc"}[agent]

    assert client.get("/stats/field/", {"agent": value}).status_code == 404


@pytest.mark.parametrize(
    "role", ["client_manager", "community_manager", "review_manager", "accountant", None]
)
@pytest.mark.parametrize("url", ["/stats/field/", "/stats/field/pdf/"])
def test_other_roles_are_refused(client, persona, role, url):
    client.force_login(persona(role))

    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/stats/field/", "/stats/field/pdf/"])
def test_anonymous_goes_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_navigation_shows_the_page_to_who_may_see_it(
    client, sales_agent, direction, client_manager
):
    for user, shown in ((sales_agent, True), (direction, True), (client_manager, False)):
        client.force_login(user)
        assert (b'href="/stats/field/"' in client.get("/").content) is shown, user


def test_manager_pdf_without_an_agent_goes_back_to_the_prompt(client, direction):
    client.force_login(direction)

    response = client.get("/stats/field/pdf/", JAN_TO_MAR)

    assert response.status_code == 302
    assert response["Location"] == "/stats/field/?from=2026-01&to=2026-03"


# Query counts: constant whatever the data size.


def _grow(agent, packs, size: int) -> None:
    essentiel, _premium = packs
    for index in range(size):
        segment = SegmentFactory(code=f"grow-{index}", name=f"Grow {index}", order=10 + index)
        restaurant = RestaurantFactory(client=True, sales_agent=agent, segment=segment)
        prospect = RestaurantFactory(sales_agent=agent)
        visit(
            restaurant, agent, at(date(2026, 1 + index % 3, 1 + index % 27)), pack_offered=essentiel
        )
        visit(prospect, agent, at(date(2026, 2, 1 + index % 27)))
        contract = signed(restaurant, agent, essentiel, start=date(2026, 2, 1), months=13, on=at(date(2026, 1, 2)))  # fmt: skip
        invoice(contract, date(2026, 2, 1), "149.00")


@pytest.mark.parametrize("size", [1, 15])
def test_page_runs_a_constant_number_of_queries(
    client, sales_agent, direction, packs, size, django_assert_max_num_queries
):
    _grow(sales_agent, packs, size)
    client.force_login(sales_agent)
    client.get("/stats/field/", JAN_TO_MAR)  # creates the site settings row once
    with django_assert_max_num_queries(10):
        assert client.get("/stats/field/", JAN_TO_MAR).status_code == 200

    client.force_login(direction)
    with django_assert_max_num_queries(11):
        response = client.get("/stats/field/", {"agent": sales_agent.pk, **JAN_TO_MAR})
    assert response.context["stats"].visits_total == 2 * size


@pytest.mark.parametrize("size", [1, 15])
def test_selector_reads_in_five_queries(sales_agent, packs, size, django_assert_num_queries):
    _grow(sales_agent, packs, size)

    with django_assert_num_queries(5):
        field_stats(agent=sales_agent, period=JAN_TO_MAR_PERIOD)


# The PDF.


def test_pdf_is_one_a4_page_with_the_figures(client, sales_agent, world):
    sales_agent.first_name, sales_agent.last_name, sales_agent.language = "Léa", "Martin", "en"
    sales_agent.save(update_fields=["first_name", "last_name", "language"])
    client.force_login(sales_agent)

    response = client.get("/stats/field/pdf/", JAN_TO_MAR)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="field-stats-p_sales_agent-202601-202603.pdf"'
    )
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == (595.3, 841.9)
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in (
        "Field statistics",
        "Léa Martin, from 01/2026 to 03/2026",
        "Proposals handed over 3",
        "Revenue invoiced 1045.00 €",
        "Contracts signed 1 149.00 € a month, 1937.00 € in all",
        "Clients visited 75.0 % 3 of 4",
        "Prospects visited 50.0 % 1 of 2",
        "Visits per month, by segment",
        "Brasserie",
        "Traditionnel",
        "Essentiel",
        "How these figures are counted",
    ):
        assert expected in text, expected


def test_pdf_with_many_series_and_two_years_stays_on_one_page(client, direction, sales_agent, packs):  # fmt: skip
    _grow(sales_agent, packs, 12)
    for index in range(8):
        Pack.objects.create(code=f"pack-{index}", name=f"Pack {index}", monthly_price=10, posts_per_month=1)  # fmt: skip
    for index, pack in enumerate(Pack.objects.all()):
        restaurant = Restaurant.objects.filter(sales_agent=sales_agent).first()
        visit(restaurant, sales_agent, at(date(2025, 1 + index % 12, 3)), kind="phone", pack_offered=pack)  # fmt: skip
    client.force_login(direction)

    response = client.get("/stats/field/pdf/", {"agent": sales_agent.pk, "from": "2025-01", "to": "2026-12"})  # fmt: skip

    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1


def test_pdf_that_cannot_be_made_goes_back_to_the_page_with_the_reason(
    client, sales_agent, world, monkeypatch
):
    from reports import field_views
    from reports.pdf import PdfUnavailable

    def unavailable(*_args, **_kwargs):
        raise PdfUnavailable("Pango manque")

    monkeypatch.setattr(field_views, "render_pdf", unavailable)
    client.force_login(sales_agent)

    response = client.get("/stats/field/pdf/", {"from": "2026-01", "to": "2026-03"})

    assert response.status_code == 302
    assert response["Location"] == f"/stats/field/?agent={sales_agent.pk}&from=2026-01&to=2026-03"
    page = client.get(response["Location"])
    assert "Pango manque" in page.content.decode()
