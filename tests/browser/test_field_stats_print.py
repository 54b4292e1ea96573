import io
import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from sales.models import Pack
from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.factories import RestaurantFactory, SegmentFactory
from tests.reports.test_field_stats import at, visit

pytestmark = pytest.mark.django_db(transaction=True)

PERIOD = "from=2025-01&to=2026-12"
A4 = (595.28, 841.89)  # points: 210 x 297 mm


@pytest.fixture
def agent_with_two_years(sales_agent):
    """Two years of visits on six segments and to prospects, with four packs offered: a full page."""
    sales_agent.language = "en"
    sales_agent.save(update_fields=["language"])
    packs = [
        Pack.objects.create(
            code=f"p{n}",
            name=f"Pack {n}",
            monthly_price=Decimal(100 + n),
            posts_per_month=4,
            networks=["facebook"],
        )
        for n in range(4)
    ]
    segments = [SegmentFactory(code=f"s{n}", name=f"Segment {n}", order=n) for n in range(6)]
    for n in range(30):
        restaurant = RestaurantFactory(
            client=n % 3 != 0, segment=segments[n % 6], sales_agent=sales_agent
        )
        visit(restaurant, sales_agent, at(date(2025 + n % 2, 1 + n % 12, 2 + n % 25)),
              pack_offered=packs[n % 4] if n % 2 else None)  # fmt: skip
    return sales_agent


def _pages(pdf: bytes):
    return PdfReader(io.BytesIO(pdf)).pages


def _text(pdf_page) -> str:
    """The page's words, ligatures (Chromium writes "ﬁ") spelt out."""
    return " ".join(unicodedata.normalize("NFKC", pdf_page.extract_text()).split())


def _settled(page, script: str):
    """The script's value once the media change has been handled (polled from here: the CSP
    forbids the eval behind wait_for_function)."""
    previous = page.evaluate(script)
    for _ in range(20):
        page.wait_for_timeout(50)
        current = page.evaluate(script)
        if current == previous:
            return current
        previous = current
    return previous


def test_the_field_statistics_page_printed_by_chromium_to_pdf_is_one_a4_page(
    page, live_server, agent_with_two_years
):
    login(page, agent_with_two_years.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"/stats/field/?{PERIOD}")
    page.locator("#fs-visits").wait_for()
    page.locator("#fs-proposals").wait_for()

    pages = _pages(page.pdf(format="A4", print_background=True, prefer_css_page_size=True))

    assert len(pages) == 1
    box = pages[0].mediabox
    # Chromium rounds the page to whole points.
    assert float(box.width) == pytest.approx(A4[0], abs=1)
    assert float(box.height) == pytest.approx(A4[1], abs=1)
    text = _text(pages[0])
    assert "Field statistics" in text
    assert "How these figures are counted" in text
    # Navigation, filters and buttons stay on screen.
    for absent in ("Log out", "Download PDF", "Dashboard"):
        assert absent not in text


def test_charts_are_redrawn_at_their_print_size_and_back(page, live_server, agent_with_two_years):
    login(page, agent_with_two_years.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"/stats/field/?{PERIOD}")
    page.locator("#fs-visits").wait_for()
    size = "() => { const c = document.querySelector('#fs-visits'); return [c.style.width, c.style.height]; }"  # fmt: skip
    screen = page.evaluate(size)

    page.emulate_media(media="print")
    printed = _settled(page, size)
    page.emulate_media(media="screen")

    # 116 mm x 58 mm at 96 px to the inch (static/css/field_stats.css), within a pixel.
    assert [float(value.removesuffix("px")) for value in printed] == [
        pytest.approx(116 * 96 / 25.4, abs=1),
        pytest.approx(58 * 96 / 25.4, abs=1),
    ]
    assert _settled(page, size) == screen


def test_the_downloaded_pdf_is_one_a4_page(page, live_server, agent_with_two_years):
    login(page, agent_with_two_years.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"/stats/field/?{PERIOD}")

    with page.expect_download() as download:
        page.locator("[data-testid=field-stats-pdf]").click()

    assert download.value.suggested_filename == "field-stats-p_sales_agent-202501-202612.pdf"
    with open(download.value.path(), "rb") as handle:
        pages = _pages(handle.read())
    assert len(pages) == 1
    text = _text(pages[0])
    assert "Segment 1" in text and "Pack 1" in text
