"""The field kit's screens in a real Chromium: freshness against the server's clock, wildcard
search, the home lists, the visit form, prospects and their conversion, the statistics (the
server's figures, on one A4 page) and the history calendar."""

import io
import unicodedata
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from crm.models import (
    AssetType,
    ChangeRequest,
    ConversionRequest,
    CrmSettings,
    Restaurant,
    RestaurantAsset,
)
from field.models import FieldSettings
from reports.field_stats import field_stats, period_from_params
from sales.models import Pack, SalesSettings, Visit
from tests.browser.test_field_offline import kit, open_card, open_kit, record_visit, world
from tests.factories import SegmentFactory
from tests.reports.test_field_stats import at, invoice, signed, visit

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["kit", "world"]  # fixtures shared with test_field_offline.py

IBAN = "FR7630006000011234567890189"
BIC = "BNPAFRPP"


def texts(locator) -> list[str]:
    return [text.strip() for text in locator.all_inner_texts()]


def column(page, table: str, index: int) -> list[str]:
    rows = page.locator(f"[data-testid={table}] tbody tr[data-key]")
    return [rows.nth(n).locator("td").nth(index).inner_text() for n in range(rows.count())]


# --- Freshness -------------------------------------------------------------------------------


def test_the_freshness_indicator_turns_red_just_past_the_admin_limit(kit, world):
    FieldSettings.objects.update(freshness_hours=2)
    page = open_kit(kit, world["agent"], clock=timezone.now())
    freshness = page.locator("[data-testid=freshness]")
    assert freshness.get_attribute("data-state") == "fresh"
    kit.set_offline(True)  # no synchronisation may refresh the data meanwhile

    page.clock.fast_forward("01:58:00")
    page.clock.fast_forward("00:01:00")

    assert freshness.get_attribute("data-state") == "fresh"
    assert page.locator("[data-testid=freshness-refresh]").is_hidden()

    page.clock.fast_forward("00:01:30")

    page.locator("[data-testid=freshness][data-state=stale]").wait_for()
    text = freshness.inner_text()
    assert "Your data is not up to date, please connect to refresh it." in text
    generated = timezone.localtime(timezone.now()).strftime("%d/%m/%Y")
    assert f"Data of {generated}" in text
    assert page.locator("[data-testid=freshness-refresh]").is_visible()

    # Back online, the server still out of reach: the data stays red until it answers.
    kit.context.route("**/field/api/**", lambda route: route.abort("connectionrefused"))
    kit.expected_errors.append("ERR_CONNECTION_REFUSED")
    runs = kit.runs()
    kit.set_offline(False)
    kit.synced(runs)
    assert freshness.get_attribute("data-state") == "stale"
    kit.context.unroute("**/field/api/**")
    runs = kit.runs()
    page.locator("[data-testid=freshness-refresh]").click()
    kit.synced(runs)

    # The server's clock says the data is minutes old: the device's two hours ahead do not count.
    assert freshness.get_attribute("data-state") == "fresh"


def test_a_device_clock_days_ahead_does_not_make_fresh_data_look_old(kit, world):
    FieldSettings.objects.update(freshness_hours=24)

    page = open_kit(kit, world["agent"], clock=timezone.now() + timedelta(days=3))

    assert page.locator("[data-testid=freshness]").get_attribute("data-state") == "fresh"


def test_a_device_clock_set_back_after_a_sync_does_not_make_old_data_look_fresh(kit, world):
    FieldSettings.objects.update(freshness_hours=2)
    start = timezone.now()
    page = open_kit(kit, world["agent"], clock=start)
    kit.set_offline(True)
    page.clock.fast_forward("02:01:00")
    stale = page.locator("[data-testid=freshness][data-state=stale]")
    stale.wait_for()

    # Three hours back: the data would be an hour younger than its generation time.
    page.clock.set_system_time(start - timedelta(hours=1))
    page.clock.fast_forward("00:00:31")  # the indicator's next redraw

    assert page.locator("[data-testid=freshness]").get_attribute("data-state") == "stale"

    # Closed and opened again offline, the clock still set back: the highest time seen holds.
    kit.close()
    page = kit.open(offline=True, clock=start - timedelta(hours=1))
    page.goto("/field/")
    kit.ready()

    assert page.locator("[data-testid=freshness]").get_attribute("data-state") == "stale"


# --- Home and search -------------------------------------------------------------------------


def test_the_home_lists_sort_by_revisit_date_and_by_last_visit(kit, world):
    sales_settings = SalesSettings.load()
    sales_settings.not_seen_days = 40
    sales_settings.save()
    page = open_kit(kit, world["agent"])

    assert column(page, "to-revisit", 1) == [
        "Le Bouchon Lyonnais",
        "Café de la Gare",
        "Pizza Bella",
    ]
    assert column(page, "to-revisit", 3) == ["-2", "3", "10"]
    page.locator("[data-testid=tab-not-seen]").click()
    assert column(page, "not-seen", 1)[2:] == [
        "Le Bouchon Lyonnais",
        "Café de la Gare",
        "Pizza Bella",
    ]
    assert sorted(column(page, "not-seen", 1)[:2]) == ["Brasserie du Parc", "Chez Marcel"]
    assert column(page, "not-seen", 3) == ["never", "never", "200", "40", "5"]
    # From the admin's "not seen for long" bound (40 days here), the days stand out.
    days = page.locator("[data-testid=not-seen] tbody tr[data-key] [data-testid=days]")
    assert [
        "text-danger" in (days.nth(n).get_attribute("class") or "") for n in range(days.count())
    ] == [True, True, True, True, False]

    page.locator("[data-testid=not-seen] tbody tr", has_text="Pizza Bella").click()

    summary = page.locator("[data-testid=home-summary]")
    assert "Pizza Bella · D00013" in summary.inner_text()
    assert summary.locator("[data-testid=contact-phone]").inner_text() == "+33472000001"
    assert summary.locator("[data-figure=revenue-this-year]").inner_text() == "0.00 €"
    assert summary.locator("[data-figure=revenue-last-year]").inner_text() == "0.00 €"


def test_the_home_summary_and_the_card_show_the_revenue_of_both_years_and_the_assets(kit, world):
    pizza = world["clients"]["pizza"]
    today = world["today"]
    pack = Pack.objects.create(
        code="essentiel", name="Essentiel", monthly_price=Decimal("149.00"), posts_per_month=8,
        networks=["facebook"],
    )  # fmt: skip
    contract = signed(
        pizza, world["agent"], pack, start=date(today.year - 1, 6, 1), months=26,
        on=at(date(today.year - 1, 5, 20)),
    )  # fmt: skip
    invoice(contract, date(today.year - 2, 12, 1), "500.00")  # two years ago: in neither
    invoice(contract, date(today.year - 1, 6, 1), "99.00")
    invoice(contract, date(today.year - 1, 12, 1), "1250.50")
    invoice(contract, date(today.year, 1, 1), "149.00")
    screens = AssetType.objects.create(name="Screens", order=1)
    AssetType.objects.create(name="Tablets", order=2)  # none counted: 0
    terminals = AssetType.objects.create(name="Terminals", order=3, active=False)
    RestaurantAsset.objects.create(restaurant=pizza, asset_type=screens, count=3)
    RestaurantAsset.objects.create(restaurant=pizza, asset_type=terminals, count=5)
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)  # what follows comes from the local data

    page.locator("[data-testid=to-revisit] tbody tr", has_text="Pizza Bella").click()
    summary = page.locator("[data-testid=home-summary]")
    summary.locator("[data-figure=revenue-this-year]").wait_for()

    assert summary.locator("[data-figure=revenue-this-year]").inner_text() == "149.00 €"
    assert summary.locator("[data-figure=revenue-last-year]").inner_text() == "1,349.50 €"

    open_card(page, "D00013")
    card = page.locator("[data-route=restaurant]")
    revenue = card.locator("[data-card-revenue]")
    assert revenue.locator("[data-figure=revenue-this-year]").inner_text() == "149.00 €"
    assert revenue.locator("[data-figure=revenue-last-year]").inner_text() == "1,349.50 €"
    # Every active type, counted or not; the inactive one is left out.
    assert texts(card.locator("[data-card-assets] dt")) == ["Screens", "Tablets"]
    assert texts(card.locator("[data-card-assets] dd")) == ["3", "0"]


def test_the_client_search_takes_wildcards_and_ignores_case_and_accents(kit, world):
    page = open_kit(kit, world["agent"])
    kit.goto("#/clients")
    search = page.locator("[data-testid=client-search]")

    def names(query: str) -> list[str]:
        search.fill(query)
        page.locator("[data-testid=client-results] tbody").and_(
            page.locator(f"[data-query='{query}']")
        ).wait_for(state="attached")
        return column(page, "client-results", 1)

    assert names("CAFE*") == ["Café de la Gare"]
    assert names("c0001?") == ["Café de la Gare", "Le Bouchon Lyonnais"]
    assert names("*parc") == ["Brasserie du Parc"]
    assert names("b?uchon*") == []  # anchored: the name starts with "le"
    assert names("bouchon") == ["Le Bouchon Lyonnais"]
    assert names("C00?2*") == ["Brasserie du Parc"]  # C00120, not C00012
    assert names("*00?2*") == ["Brasserie du Parc", "Le Bouchon Lyonnais"]
    assert names("le c*") == ["Le Comptoir"]  # a colleague's client of the agent's zone
    assert names("") == [
        "Brasserie du Parc",
        "Café de la Gare",
        "Le Bouchon Lyonnais",
        "Le Comptoir",
        "Pizza Bella",
    ]


# --- Visits and requests on a client ---------------------------------------------------------


def test_visit_today_records_the_question_tree_and_the_revisit_preset(kit, world):
    page = open_kit(kit, world["agent"])
    open_card(page, "C00120")
    page.locator("[data-testid=visit-today]").click()
    form = page.locator("[data-testid=visit-today-form]")
    nested = form.get_by_label("Premium pack")
    assert nested.is_hidden()

    form.get_by_label("With an appointment").check()
    form.get_by_label("Proposal handed over").check()
    nested.check()
    form.locator("[data-testid=revisit-preset]").select_option("14")
    tomorrow = world["today"] + timedelta(days=1)
    form.locator("[data-testid=visit-day]").fill(tomorrow.isoformat())
    form.locator("[data-testid=save-visit]").click()

    form.locator(
        "[data-error-for=day]", has_text="A visit cannot be recorded in the future."
    ).wait_for()
    form.locator("[data-testid=visit-day]").fill(world["today"].isoformat())
    form.locator("[data-testid=save-visit]").click()
    form.wait_for(state="hidden")
    revisit = world["today"] + timedelta(days=14)
    page.locator("[data-testid=card-revisit]", has_text=revisit.strftime("%d/%m/%Y")).wait_for()
    kit.sync()

    visit = Visit.objects.get(restaurant=world["clients"]["brasserie"])
    assert visit.report == ""  # an empty report is allowed
    assert [(a["group"], a["option"]) for a in visit.answers] == [
        ("Visit type", "With an appointment"),
        ("Outcome", "Proposal handed over"),
        ("Proposal type", "Premium pack"),
    ]
    assert visit.revisit_date == revisit
    assert Restaurant.objects.get(pk=visit.restaurant_id).revisit_date == revisit


def test_the_visit_history_hides_the_hidden_origins_until_asked(kit, world):
    gare = world["clients"]["gare"]
    now = timezone.now()
    visit(gare, world["agent"], now - timedelta(days=20), report="Visite normale")
    visit(gare, world["agent"], now - timedelta(days=10), report="Litige", origin="litigation")
    page = open_kit(kit, world["agent"])

    open_card(page, "C00011")
    history = page.locator("[data-testid=visit-history] tbody")

    assert texts(history.locator("td:nth-child(3)")) == ["Visite normale"]
    page.locator("[data-testid=show-hidden-origins]").check()
    history.locator("tr", has_text="Litige").wait_for()
    assert texts(history.locator("td:nth-child(3)")) == ["Litige", "Visite normale"]


def test_a_modification_request_sends_the_chosen_fields(kit, world):
    page = open_kit(kit, world["agent"])
    open_card(page, "C00011")
    page.locator("[data-testid=request-change]").click()
    form = page.locator("[data-testid=change-request-form]")
    form.locator("[data-testid=tick-phone]").check()
    form.locator("[data-testid=change-phone]").fill("04 72 99 99 99")
    form.locator("[data-testid=send-change-request]").click()
    form.wait_for(state="hidden")
    page.locator("#card-title [data-testid=pending-marker]").wait_for()

    kit.sync()

    request = ChangeRequest.objects.get(restaurant=world["clients"]["gare"])
    assert [(c["field"], c["new"]) for c in request.changes] == [("phone", "+33472999999")]


# --- Prospects -------------------------------------------------------------------------------


def test_a_prospect_created_offline_checks_the_phone_and_shows_a_marker_until_integrated(
    kit, world
):
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)
    kit.goto("#/prospects")
    page.locator("[data-testid=new-prospect]").click()
    form = page.locator("[data-testid=prospect-form]")
    form.locator("[data-testid=save-prospect]").click()
    form.locator("[data-error-for=name]", has_text="The name is required.").wait_for()

    form.locator("[data-testid=field-name]").fill("Le Petit Zinc")
    form.locator("[data-testid=field-city]").fill("Lyon")
    form.locator("[data-testid=field-phone]").fill("04 78 00 00 00")  # Chez Marcel's number
    form.locator("[data-testid=save-prospect]").click()
    form.locator("[data-testid=duplicates]", has_text="Chez Marcel").wait_for()
    form.locator("[data-testid=confirm-homonym]").check()
    form.locator("[data-testid=save-prospect]").click()

    page.locator("#card-title", has_text="Le Petit Zinc").wait_for()
    page.locator("#card-title [data-testid=pending-marker]").wait_for()
    kit.goto("#/prospects")
    row = page.locator("[data-testid=prospect-list] tbody tr", has_text="Le Petit Zinc")
    assert row.get_attribute("data-pending") == "yes"
    assert page.locator("[data-testid=prospect-pick] option", has_text="Le Petit Zinc").count() == 1

    # A visit before the server knows the prospect: the envelope names it by its client id.
    kit.goto(row.locator("a").get_attribute("href"))
    record_visit(page, report="Première visite")
    page.locator("[data-testid=visit-history] tbody tr", has_text="Première visite").wait_for()

    kit.set_offline(False)
    kit.sync()
    kit.sync()  # the integrated prospect comes back with the next snapshot

    created = Restaurant.objects.get(name="Le Petit Zinc")
    assert Visit.objects.get(restaurant=created).report == "Première visite"
    assert created.status == "prospect"
    assert created.created_by == world["agent"]
    kit.goto("#/prospects")
    row = page.locator("[data-testid=prospect-list] tbody tr", has_text="Le Petit Zinc")
    row.wait_for()
    assert row.get_attribute("data-pending") == "no"
    assert row.get_attribute("data-key") == f"r{created.pk}"


def test_the_prospects_screen_lists_only_the_agents_own_prospects(kit, world):
    page = open_kit(kit, world["agent"])
    kit.goto("#/prospects")

    assert column(page, "prospect-list", 0) == ["Chez Marcel"]
    options = page.locator("[data-testid=prospect-pick] option")
    assert [text for text in texts(options) if text != "Choose a prospect…"] == [
        "Chez Marcel (Lyon)"
    ]
    # The colleague's prospect of the same zone is not on the device at all.
    ids = page.evaluate("async () => (await FieldKit.db.restaurants.toArray()).map((r) => r.id)")
    assert world["prospect"].pk in ids
    assert world["colleague_prospect"].pk not in ids


def test_a_prospect_is_edited_then_deleted(kit, world):
    page = open_kit(kit, world["agent"])
    kit.goto("#/prospects")
    page.locator("[data-testid=prospect-pick]").select_option(label="Chez Marcel (Lyon)")
    page.locator("[data-testid=edit-prospect]").click()
    form = page.locator("[data-testid=prospect-form]")
    form.locator("[data-testid=field-city]").fill("Villeurbanne")
    form.locator("[data-testid=save-prospect]").click()
    page.locator("#card-title [data-testid=pending-marker]").wait_for()
    kit.sync()
    assert Restaurant.objects.get(pk=world["prospect"].pk).city == "Villeurbanne"

    kit.sync()  # the new version of the prospect
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("[data-testid=delete-prospect]").click()
    page.wait_for_url("**/field/#/prospects")
    page.locator("[data-testid=prospect-list] tbody tr", has_text="Chez Marcel").wait_for(
        state="detached"
    )
    kit.sync()

    assert not Restaurant.objects.filter(pk=world["prospect"].pk, archived_at=None).exists()


def test_a_prospect_is_converted_with_the_iban_check_and_the_signature(kit, world):
    prospect = world["prospect"]
    Restaurant.objects.filter(pk=prospect.pk).update(address="1 rue de la Paix")
    page = open_kit(kit, world["agent"])
    kit.goto(f"#/convert/r{prospect.pk}")
    form = page.locator("[data-testid=convert-form]")
    form.locator("[data-testid=field-siret]").fill("73282932000074")
    form.locator("[data-testid=field-segment]").select_option("brasserie")
    form.locator("[data-testid=payment-mode]").select_option("direct_debit")
    form.locator("[data-testid=payment-days]").fill("30")
    form.locator("[data-testid=iban]").fill("FR76 3000 6000 0112 3456 7890 188")
    form.locator("[data-testid=bic]").fill(BIC)
    form.locator("[data-testid=send-conversion]").click()

    form.locator("[data-error-for=iban]", has_text="is not a valid IBAN.").wait_for()
    assert form.locator("[data-error-for=signature]").inner_text() == (
        "A direct debit needs the client's signature."
    )

    form.locator("[data-testid=iban]").fill(IBAN)
    form.get_by_label("Comment for the accountant").fill("Signé au comptoir")
    box = form.locator("[data-testid=signature]").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 90, steps=8)
    page.mouse.up()
    form.locator("[data-testid=send-conversion]").click()
    page.locator("#card-title", has_text="Chez Marcel").wait_for()
    assert page.locator("#card-title", has_text="Conversion requested").is_visible()
    kit.sync()

    request = ConversionRequest.objects.get(restaurant=prospect)
    assert (request.payment_mode, request.payment_days, request.iban, request.bic) == (
        "direct_debit",
        30,
        IBAN,
        BIC,
    )
    assert request.signature.read().startswith(b"\x89PNG")
    assert request.comment == "Signé au comptoir"
    assert Restaurant.objects.get(pk=prospect.pk).siret == "73282932000074"


def test_offline_the_conversion_refuses_a_cheque_outside_its_segments_and_a_malformed_bic(
    kit, world
):
    crm_settings = CrmSettings.load()
    crm_settings.cheque_payment_days = 20
    crm_settings.save()
    crm_settings.cheque_segments.set([SegmentFactory(code="traditionnel", name="Traditional")])
    prospect = world["prospect"]
    Restaurant.objects.filter(pk=prospect.pk).update(address="1 rue de la Paix")
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)
    kit.goto(f"#/convert/r{prospect.pk}")
    form = page.locator("[data-testid=convert-form]")
    form.locator("[data-testid=field-siret]").fill("73282932000074")
    form.locator("[data-testid=field-segment]").select_option("brasserie")
    form.locator("[data-testid=payment-mode]").select_option("cheque")
    assert form.locator("[data-cheque-days]").inner_text() == (
        "A cheque payment is due 20 days after the invoice."
    )

    form.locator("[data-testid=send-conversion]").click()

    error = form.locator("[data-error-for=payment_mode]")
    error.wait_for()
    assert error.inner_text() == "Cheque is not accepted for the segment Brasserie."
    assert kit.outbox_count() == 0

    form.locator("[data-testid=payment-mode]").select_option("direct_debit")
    form.locator("[data-testid=payment-days]").fill("30")
    form.locator("[data-testid=iban]").fill(IBAN)
    form.locator("[data-testid=bic]").fill("bnp-afr1")
    form.locator("[data-testid=send-conversion]").click()

    form.locator("[data-error-for=bic]", has_text="BIC").wait_for()
    assert form.locator("[data-error-for=bic]").inner_text() == "“BNPAFR1” is not a valid BIC."
    assert form.locator("[data-error-for=iban]").inner_text() == ""
    assert form.locator("[data-error-for=payment_mode]").inner_text() == ""
    assert kit.outbox_count() == 0

    # A segment that may pay by cheque: the request is recorded, and integrated once online.
    form.locator("[data-testid=field-segment]").select_option("traditionnel")
    form.locator("[data-testid=payment-mode]").select_option("cheque")
    form.locator("[data-testid=send-conversion]").click()
    page.locator("#card-title", has_text="Conversion requested").wait_for()
    assert kit.outbox_count() == 1
    runs = kit.runs()
    kit.set_offline(False)
    kit.synced(runs)

    request = ConversionRequest.objects.get(restaurant=prospect)
    assert (request.payment_mode, request.payment_days, request.iban, request.bic) == (
        "cheque", 20, "", ""
    )  # fmt: skip
    assert Restaurant.objects.get(pk=prospect.pk).segment.code == "traditionnel"


# --- Statistics and history ------------------------------------------------------------------


@pytest.fixture
def season(world):
    """A year of the agent's visits, proposals, contracts and invoices."""
    agent = world["agent"]
    clients = world["clients"]
    today = world["today"]
    pack = Pack.objects.create(
        code="essentiel", name="Essentiel", monthly_price=Decimal("99.00"), posts_per_month=4,
        networks=["facebook"],
    )  # fmt: skip
    for n in range(9):
        day = today - timedelta(days=20 * n + 1)
        visit(
            clients["gare" if n % 3 else "pizza"],
            agent,
            at(day),
            pack_offered=pack if n % 2 else None,
        )
    visit(world["prospect"], agent, at(today - timedelta(days=3)))
    visit(clients["bouchon"], agent, at(today - timedelta(days=4)), kind="phone", pack_offered=pack)
    contract = signed(
        clients["gare"], agent, pack, start=today.replace(day=1) - timedelta(days=60), months=13,
        on=at(today - timedelta(days=70)),
    )  # fmt: skip
    first = date(today.year, today.month, 1)
    invoice(contract, first, "99.00")
    invoice(contract, (first - timedelta(days=1)).replace(day=1), "99.00")
    return pack


def test_the_statistics_computed_offline_are_the_servers(kit, world, season):
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)
    kit.goto("#/stats")

    stats = field_stats(
        agent=world["agent"], period=period_from_params(None, None, today=world["today"])
    )
    figures = {
        name: page.locator(f"[data-figure={name}]").inner_text()
        for name in ("visits", "proposals", "invoiced", "contracts", "clients-share")
    }
    assert figures == {
        "visits": str(stats.visits_total),
        "proposals": str(stats.proposals_total),
        "invoiced": f"{stats.invoiced_total} €",
        "contracts": str(stats.contracts_signed),
        "clients-share": f"{stats.clients.share} %",
    }
    assert stats.visits_total == 10 and stats.proposals_total == 5
    assert page.locator("[data-figure=visits-split]").inner_text() == (
        f"{stats.client_visits} to clients, {stats.prospect_visits} to prospects"
    )
    assert page.locator("[data-figure=contracts-value]").inner_text() == (
        f"{stats.new_monthly_revenue} € a month, {stats.contract_value} € in all"
    )
    assert page.locator("[data-figure=prospects-share]").inner_text() == (
        f"{stats.prospects.share} %"
    )


def test_the_statistics_page_prints_on_exactly_one_a4_page(kit, world, season):
    page = open_kit(kit, world["agent"])
    kit.goto("#/stats")
    page.locator("[data-testid=field-stats-subject]", has_text="Romain Dupont").wait_for()

    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)

    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 1
    box = pages[0].mediabox
    assert float(box.width) == pytest.approx(595.28, abs=1)
    assert float(box.height) == pytest.approx(841.89, abs=1)
    text = " ".join(unicodedata.normalize("NFKC", pages[0].extract_text()).split())
    assert "Field statistics" in text
    assert "How these figures are counted" in text
    # The kit's navigation, alerts, period form and buttons stay on screen.
    for absent in ("Synchronise", "Changes", "Print", "Show", "Data up to date"):
        assert absent not in text


def test_the_history_calendar_shows_the_agents_visits(kit, world, season):
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)
    open_card(page, "C00012")
    record_visit(page, report="Aujourd'hui")

    kit.goto("#/history")
    calendar = page.locator("[data-testid=history-calendar]")
    calendar.locator(".fc-daygrid").wait_for()
    today = calendar.locator(f"td[data-date='{world['today'].isoformat()}']")

    assert today.locator(".fc-event", has_text="Le Bouchon Lyonnais").count() == 1
    assert today.locator(".field-event-pending").count() == 1


IBANS = [
    IBAN,
    "FR76 3000 6000 0112 3456 7890 189",
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "BE68539007547034",
    "FR7630006000011234567890188",  # checksum
    "FR763000600001123456789018",  # length
    "XX7630006000011234567890189",  # country
    "",
]


def test_the_kits_iban_check_agrees_with_the_servers(kit, world):
    from django.core.exceptions import ValidationError

    from crm.validators import normalize_iban

    def valid(iban: str) -> bool:
        try:
            normalize_iban(iban)
        except ValidationError:
            return False
        return True

    page = open_kit(kit, world["agent"])

    kit_says = page.evaluate("(ibans) => ibans.map((iban) => FieldKit.ibanValid(iban))", IBANS)

    assert kit_says == [valid(iban) for iban in IBANS] == [True] * 5 + [False] * 4
