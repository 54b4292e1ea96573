"""Every number of each role's dashboard links to the list of exactly the rows it counts: on a
fixed dataset, the test collects every link of the page whose text is a figure (and every tile),
follows each, and compares the count the list shows with the figure."""

import datetime as dt
import html
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from crm.models import ChangeRequest, ConversionRequest
from reports import dashboard_cache, selectors
from reports.models import MonthlyReport
from sales import services as sales_services
from sales.models import Contract, Visit, add_months
from tests.factories import RestaurantFactory, UserFactory
from tests.reports.test_dashboard import World, build_world


@pytest.fixture(autouse=True)
def _empty_cache():
    dashboard_cache.bump_all()


@pytest.fixture
def world(lyon, sales_agent, client_manager, community_manager, review_manager) -> World:
    """The dashboard tests' world, plus rows each list's filters must leave out: visits of
    another kind, status, month or agent; a draft and a colleague's contract signed this month;
    requests of the other kind, decided last month, rejected, or asked by someone else; reports
    due, late, sent and another community manager's."""
    world = build_world(
        lyon=lyon, sales_agent=sales_agent, client_manager=client_manager,
        community_manager=community_manager, review_manager=review_manager,
    )  # fmt: skip
    now = timezone.now()
    midnight = selectors.local_midnight(world.today)
    last_month = selectors.local_midnight(add_months(world.month, -1) + dt.timedelta(days=9))
    other = UserFactory(username="agent_b", roles=["sales_agent"])
    lyon.agents.add(other)
    for agent, start, kind, status, pack in (
        (sales_agent, midnight + dt.timedelta(minutes=2), "phone", "done", world.premium),
        (sales_agent, midnight + dt.timedelta(minutes=3), "visit", "cancelled", None),
        (sales_agent, last_month, "visit", "done", world.essentiel),
        (other, midnight + dt.timedelta(minutes=4), "visit", "done", None),
        (other, midnight - dt.timedelta(hours=20), "visit", "planned", None),
    ):
        Visit.objects.create(
            restaurant=world.fresh, agent=agent, start=start, end=start + dt.timedelta(minutes=30),
            kind=kind, status=status, pack_offered=pack,
        )  # fmt: skip
    # A prospect's contract stays a draft (not signed in the KPIs' sense); a colleague's.
    sales_services.contract_sign(
        restaurant=world.prospect, by=sales_agent, pack=world.essentiel, start_date=world.today
    )
    colleague = sales_services.contract_sign(
        restaurant=RestaurantFactory(name="Chez Paul", client=True, zone=lyon),
        by=client_manager, pack=world.essentiel, start_date=world.today,
    )  # fmt: skip
    assert Contract.objects.filter(status="draft").count() == 1
    assert colleague.signed_by == client_manager
    for requested_by, status, decided_at in (
        (sales_agent, "applied", last_month),
        (sales_agent, "rejected", now),
        (other, "applied", now),
    ):
        ConversionRequest.objects.create(
            restaurant=RestaurantFactory(zone=lyon, sales_agent=requested_by),
            requested_by=requested_by, payment_mode="transfer", payment_days=30,
            status=status, decided_at=decided_at,
        )  # fmt: skip
    ChangeRequest.objects.create(
        restaurant=world.fresh, requested_by=sales_agent, status="applied", decided_at=now,
        changes=[{"field": "city", "label": "City", "old": "", "new": "Lyon"}],
    )  # fmt: skip
    # Reports of last month: the community manager's, one late and one not; one sent; and one
    # of a restaurant someone else manages.
    late, soon = world.today - dt.timedelta(days=1), world.today + dt.timedelta(days=5)
    sent = RestaurantFactory(
        name="Envoyé", client=True, zone=lyon, community_manager=community_manager
    )
    others = RestaurantFactory(name="Autre", client=True, zone=lyon)
    for restaurant, deadline, sent_at in (
        (world.ending, late, None),
        (world.former, soon, None),
        (sent, late, now),
        (others, soon, None),
    ):
        MonthlyReport.objects.create(
            restaurant=restaurant, month=add_months(world.month, -1), deadline=deadline,
            status="sent" if sent_at else "draft", sent_at=sent_at, first_sent_at=sent_at,
        )  # fmt: skip
    return world


# A figure: "12", "1 234,50 €", "50 %", "6,5 h", "1 (50 %)"; or a label ending with one in
# brackets, "Today's visits (2)"; or a count and its noun, "2 change requests".
_FIGURE = re.compile(
    r"^-?\d[\d\s\u00a0\u202f.,]*(?:\s?(?:€|%|h))?(?:\s*\([\d\s\u00a0\u202f.,]+%?\))?$"
)
_LABELLED = re.compile(r"^(?:\D.*\(\d+\)|\d+ [^\d:·]+)$")


def _figure_links(body: str) -> dict[str, list[str]]:
    """href -> the figures shown as links to it, in the page's content (tiles are figures)."""
    main = body.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    links: dict[str, list[str]] = {}
    for attributes, inner in re.findall(r"<a ([^>]*)>(.*?)</a>", main, flags=re.S):
        href = re.search(r'href="([^"]*)"', attributes)
        if href is None:
            continue
        tile = "dashboard-tile" in attributes
        if tile:
            inner = re.search(r"data-figure>(.*?)</span>", inner, flags=re.S).group(1)
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).split())
        if tile or _FIGURE.match(text) or _LABELLED.match(text):
            links.setdefault(html.unescape(href.group(1)), []).append(text)
    return links


def _count(client, url: str) -> int:
    """How many rows the list behind `url` shows (its whole selection, over every page)."""
    response = client.get(url)
    assert response.status_code == 200, url
    context = response.context
    path = urlsplit(url).path
    if path.startswith("/admin/"):
        return context["cl"].result_count
    if path == "/requests/":
        shown = [context[name] for name in ("conversions", "changes") if context[name] is not None]
        assert len(shown) == 1, f"{url} lists both kinds of request"
        return shown[0].paginator.count
    return context["page"].paginator.count


class Expected:
    """The count each list must show, by URL; a URL several figures link to gets one count."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.figures: set[str] = set()  # links to a page that works a figure out (not a list)

    def list(self, url: str, count: int) -> None:
        assert self.counts.setdefault(url, count) == count, (url, self.counts[url], count)

    def figure(self, url: str) -> None:
        self.figures.add(url)

    def check(self, client, response) -> None:
        _team(self, response.context)  # shown to whoever administers users, whatever the role
        links = _figure_links(response.content.decode())
        assert links
        unchecked = set(links) - set(self.counts) - self.figures
        assert not unchecked, f"figures linked but not checked: {unchecked}"
        for url, count in self.counts.items():
            assert _count(client, url) == count, (url, links.get(url))


def _home(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response


def _direction(expected: Expected, d: dict) -> None:
    expected.list(d["mrr_url"], d["active_contracts"])
    expected.list(d["signed_url"], d["kpis"]["contracts"])
    expected.list(d["pipeline_url"], d["pipeline_count"])
    expected.list(d["reports_on_time_url"], d["reports_on_time"].on_time)
    expected.list(d["reports_url"], d["reports_on_time"].total)
    for row in d["billed"]:
        expected.list(row["url"], row["count"])
    for row in d["packs"]:
        expected.list(row["url"], row["count"])
    for row in d["flow"]:
        expected.list(row["won_url"], row["won"])
        expected.list(row["lost_url"], row["lost"])
    for row in d["pipeline"]:
        expected.list(row["url"], row["count"])
    for row in d["reviews"]:
        expected.list(row["url"], row["answered"])
        expected.list(row["within_url"], row["within"])
    for row in d["agents"]:
        expected.list(row["meetings_url"], row["meetings"])
        expected.list(row["proposals_url"], row["proposals"])
        expected.list(row["contracts_url"], row["contracts"])


def _team(expected: Expected, context) -> None:
    """The team card (for user administrators): active users per role, the administration's
    user list filtered so."""
    if not context["user"].is_staff:  # the administration is for staff: plain figures then
        return
    for row in context["team"]:
        url = f"/admin/accounts/user/?groups__id__exact={row['id']}&is_active__exact=1"
        expected.list(url, row["count"])


def _requests(expected: Expected, requests: dict) -> None:
    expected.list("/requests/?status=pending&kind=change", requests["change_count"])
    expected.list("/requests/?status=pending&kind=conversion", requests["conversion_count"])


def test_direction_every_figure_is_its_list(client, direction, sales_agent, world):
    response = _home(client, direction)

    d = response.context["direction"]
    agent = next(row for row in d["agents"] if row["agent_id"] == sales_agent.pk)
    # One visit held, one phone call with a pack offered: meetings and proposals differ.
    assert (agent["meetings"], agent["proposals"], agent["contracts"]) == (1, 2, 1)
    assert (d["kpis"]["contracts"], d["this_month_flow"]["won"]) == (2, 2)
    expected = Expected()
    _direction(expected, d)
    expected.check(client, response)


def test_admin_every_figure_is_its_list(client, admin_user, world):
    response = _home(client, admin_user)

    expected = Expected()
    _direction(expected, response.context["direction"])
    expected.check(client, response)


def test_client_manager_every_figure_is_its_list(client, client_manager, world):
    response = _home(client, client_manager)

    context = response.context
    assert (context["requests"]["change_count"], context["requests"]["conversion_count"]) == (1, 1)
    expected = Expected()
    expected.list("/contracts/?ending=1", context["ending_count"])
    expected.list(
        "/restaurants/?status=client&community_manager=none", context["without_community_manager"]
    )
    _requests(expected, context["requests"])
    expected.check(client, response)


def test_sales_agent_every_figure_is_its_list(client, sales_agent, world):
    response = _home(client, sales_agent)

    context = response.context
    target = context["target"]
    assert (len(context["today_visits"]), target["contracts"], target["actual_clients"]) == (
        4,
        1,
        1,
    )
    expected = Expected()
    expected.list(context["today_visits_url"], len(context["today_visits"]))
    expected.list(context["target_revenue_url"], target["contracts"])
    expected.list(context["target_clients_url"], target["actual_clients"])
    expected.list("/contracts/?ending=1", context["ending_count"])
    # The bonus is worked out on the KPI page; the pipeline board shows each stage's cards.
    expected.figure(context["target_url"])
    expected.figure("/pipeline/")
    expected.check(client, response)
    kpis = client.get(context["target_url"]).context["figures"]["target"]
    assert (kpis["bonus"], kpis["actual_revenue"]) == (target["bonus"], target["actual_revenue"])
    columns = {column["stage"]: column for column in client.get("/pipeline/").context["columns"]}
    for row in context["my_pipeline"]:
        column = columns[row["stage"]]
        assert (len(column["cards"]), column["total"]) == (row["count"], row["amount"]), row
    assert sum(row["count"] for row in context["my_pipeline"]) == context["my_pipeline_count"]


def test_community_manager_every_figure_is_its_list(client, community_manager, world):
    response = _home(client, community_manager)

    due = response.context["reports_due"]
    assert (due.count, due.late) == (2, 1)
    day = response.context["social_day"]
    expected = Expected()
    expected.list(
        f"/restaurants/?community_manager={community_manager.pk}", day["restaurant_count"]
    )
    expected.list("/reports/monthly/?due=1", due.count)
    expected.check(client, response)


def test_review_manager_every_figure_is_its_list(client, review_manager, world):
    response = _home(client, review_manager)

    context = response.context
    expected = Expected()
    expected.list("/reviews/?overdue=1", context["reviews_overdue"])
    expected.list("/reviews/?answered=no", context["reviews_unanswered"])
    for row in context["response_trend"]:
        expected.list(row["url"], row["answered"])
        expected.list(row["within_url"], row["within"])
    expected.check(client, response)


def test_accountant_every_figure_is_its_list(client, accountant, world):
    response = _home(client, accountant)

    context = response.context
    expected = Expected()
    for row in context["invoices"]:
        expected.list(row["url"], row["count"])
    _requests(expected, context["requests"])
    expected.check(client, response)
