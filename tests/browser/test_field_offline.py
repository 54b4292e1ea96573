"""The field kit offline, in a real Chromium with a persistent profile: cold start without network,
envelopes kept across reloads and sent when the network returns, lost acknowledgements, server
errors, rejections, and the service worker's own fetches cut by the offline emulation."""

import json
from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from crm.models import Restaurant
from field.envelopes import payload_hash
from field.models import Device, Envelope, FieldSettings
from sales.models import Visit, VisitFormNode
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, MISSING, login
from tests.conftest import PASSWORD
from tests.factories import RestaurantFactory, SegmentFactory, UserFactory, ZoneFactory

pytestmark = pytest.mark.django_db(transaction=True)


# --- Shared by the field kit's browser tests -------------------------------------------------


class Kit:
    """A persistent Chromium profile on the live server: it can be closed and opened again,
    offline or not, like an agent's laptop."""

    def __init__(self, browser, live_server, user_data_dir):
        self.browser_type = browser.browser_type
        self.base_url = live_server.url
        self.user_data_dir = str(user_data_dir)
        self.context = None
        self.page = None
        self.errors: list[str] = []
        self.expected_errors: list[str] = []
        # What the cold start's route refused (see open), in order: (URL, by the service worker).
        self.refused: list[tuple[str, bool]] = []

    def open(self, *, offline: bool = False, clock=None):
        self.context = self.browser_type.launch_persistent_context(
            self.user_data_dir,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            base_url=self.base_url,
            locale="en-GB",
            timezone_id=settings.TIME_ZONE,  # the agent's device keeps the company's time
            service_workers="allow",
            accept_downloads=True,
        )
        if offline:
            # A service worker started under the offline emulation keeps it only for its first
            # request (measured with Chromium 156 and Playwright 1.65: the shell's fetch fails,
            # later fetches reach the server), so a profile opened offline also has the
            # server's URLs refused by a route (a route sees a request before the offline mode
            # does), each refusal recorded. `reapply_offline` then gives the running worker the
            # offline mode and removes the route; the probe tests check the worker follows it.
            self.context.route(f"{self.base_url}/**", self._refuse)
            self.context.set_offline(True)
        self.context.set_default_timeout(15_000)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        if clock is not None:
            self.page.clock.install(time=clock)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        return self.page

    def _console(self, message) -> None:
        # A request refused while the test has cut the network is what the test asked for;
        # every other console error (CSP included) fails it.
        if message.type == "error" and "net::ERR_INTERNET_DISCONNECTED" not in message.text:
            self.errors.append(f"{message.text} {message.location.get('url', '')}")

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None

    def unexpected_errors(self) -> list[str]:
        return [
            error
            for error in self.errors
            if not any(expected in error for expected in self.expected_errors)
        ]

    def set_offline(self, offline: bool) -> None:
        """Cut or give back the network as a device loses it: the browser context's offline
        mode alone, which the page and its running service worker follow (the probe test checks
        that the worker's own fetch fails). Back online, the cold start's refusals end too."""
        self.context.set_offline(offline)
        if not offline:
            self.context.unroute(f"{self.base_url}/**", self._refuse)

    def reapply_offline(self) -> None:
        """Give the worker now running the offline mode (see open), which then holds alone: the
        route goes. Briefly online meanwhile, while the route still refuses everything: the page
        answers with a synchronisation that fails silently."""
        runs = self.runs()
        self.context.set_offline(False)
        self.synced(runs)  # the "online" event's run
        self.context.set_offline(True)
        self.context.unroute(f"{self.base_url}/**", self._refuse)

    def _refuse(self, route) -> None:
        self.refused.append((route.request.url, route.request.service_worker is not None))
        route.abort("internetdisconnected")

    # The page's state, read through attributes (the CSP forbids wait_for_function's eval).

    def ready(self) -> None:
        self.page.locator("body[data-field-ready=yes]").wait_for(state="attached")

    def runs(self) -> int:
        return int(self.page.locator("body").get_attribute("data-sync-runs") or 0)

    def synced(self, previous: int | None = None) -> None:
        """Wait for the end of a synchronisation after `previous` runs (the current count)."""
        previous = self.runs() if previous is None else previous
        self.page.locator(
            f"body[data-sync-state=idle]:not([data-sync-runs='{previous}'])"
        ).wait_for(state="attached")

    def sync(self) -> None:
        runs = self.runs()
        self.page.locator("[data-testid=sync-now]").click()
        self.synced(runs)

    def goto(self, route: str) -> None:
        """Open a screen of the kit ("#/stats") and wait until it is drawn."""
        self.page.goto(f"/field/{route}")
        self.page.locator(f"[data-route][data-drawn='{route}']").wait_for(state="attached")

    def outbox_count(self) -> int:
        return int(self.page.locator("[data-testid=outbox-count]").inner_text())

    def worker_ready(self) -> None:
        """The service worker controls the page and has precached everything."""
        self.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        if not self.page.evaluate("Boolean(navigator.serviceWorker.controller)"):
            self.page.reload()
            self.ready()


@pytest.fixture
def kit(browser, live_server, tmp_path, eager_tasks):
    """The kit's uploads are integrated by a task run in the live server, as in the embedded
    mode, also in the PostgreSQL + Redis run."""
    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    made = Kit(browser, live_server, tmp_path / "profile")
    yield made
    made.close()
    unexpected = made.unexpected_errors()
    assert unexpected == [], "\n".join(unexpected)


@pytest.fixture
def world(sales_agent):
    """An agent (interface in English) with clients of their zone, a prospect and a visit form."""
    sales_agent.language = "en"
    sales_agent.first_name, sales_agent.last_name = "Romain", "Dupont"
    sales_agent.save()
    zone = ZoneFactory(name="Lyon", departments="69")
    zone.agents.add(sales_agent)
    brasserie = SegmentFactory(code="brasserie", name="Brasserie", order=1)
    today = timezone.localdate()

    def days_ago(days):  # at noon, so that the count of calendar days never depends on the hour
        return timezone.make_aware(datetime.combine(today - timedelta(days=days), time(12)))

    def client(name, code, **extra):
        return RestaurantFactory(
            client=True, name=name, client_code=code, zone=zone, sales_agent=sales_agent,
            segment=brasserie, phone="+33472000001", **extra,
        )  # fmt: skip

    clients = {
        "gare": client(
            "Café de la Gare", "C00011", revisit_date=today + timedelta(days=3),
            last_visit_at=days_ago(40),
        ),
        "bouchon": client(
            "Le Bouchon Lyonnais", "C00012", revisit_date=today - timedelta(days=2),
            last_visit_at=days_ago(200),
        ),
        "brasserie": client("Brasserie du Parc", "C00120", last_visit_at=None),
        "pizza": client(
            "Pizza Bella", "D00013", revisit_date=today + timedelta(days=10),
            last_visit_at=days_ago(5),
        ),
    }  # fmt: skip
    # A client of the agent's zone in a colleague's hands: searchable, but not in the home lists
    # or the statistics' coverage.
    colleague = UserFactory(username="colleague", roles=["sales_agent"])
    zone.agents.add(colleague)
    clients["colleague"] = RestaurantFactory(
        client=True, name="Le Comptoir", client_code="C00099", zone=zone, sales_agent=colleague,
        revisit_date=today + timedelta(days=1),
    )  # fmt: skip
    prospect = RestaurantFactory(
        name="Chez Marcel", sales_agent=sales_agent, created_by=sales_agent, zone=zone,
        phone="+33478000000",
    )  # fmt: skip
    # The colleague's own prospect, in the same zone: never in the agent's kit.
    colleague_prospect = RestaurantFactory(
        name="Chez Gaston", sales_agent=colleague, created_by=colleague, zone=zone,
        city="Lyon", phone="+33478000099",
    )  # fmt: skip
    group = VisitFormNode.objects.filter(parent=None, active=True).first()
    return {
        "agent": sales_agent,
        "zone": zone,
        "clients": clients,
        "prospect": prospect,
        "colleague_prospect": colleague_prospect,
        "today": today,
        "group": group,
        "settings": FieldSettings.load(),
    }


def open_kit(kit, agent, **options):
    """Log in, open /field/ and wait for the first synchronisation and the service worker."""
    page = kit.open(**options)
    login(page, agent.username, PASSWORD)
    page.wait_for_url(f"{kit.base_url}/")
    page.goto("/field/")
    kit.ready()
    kit.synced(0)
    kit.worker_ready()
    return page


def record_visit(page, *, report: str = "", day: date | None = None) -> None:
    page.locator("[data-testid=visit-today]").click()
    form = page.locator("[data-testid=visit-today-form]")
    form.wait_for()
    if day is not None:
        form.locator("[data-testid=visit-day]").fill(day.isoformat())
    form.locator("[data-testid=visit-report]").fill(report)
    form.locator("[data-testid=save-visit]").click()
    try:
        form.wait_for(state="hidden")
    except Exception as error:  # say what the form showed instead of closing
        shown = form.locator(".invalid-feedback:visible, .alert:visible").all_inner_texts()
        raise AssertionError(f"the visit form stayed open: {shown}") from error


def open_card(page, code: str) -> None:
    page.goto("/field/#/clients")
    page.locator("[data-testid=client-search]").fill(code)
    row = page.locator("[data-testid=client-results] tbody tr", has_text=code)
    key = row.get_attribute("data-key")
    row.click()
    page.locator(f"[data-route=restaurant][data-drawn='#/client/{key}']").wait_for(state="attached")


# --- Tests -----------------------------------------------------------------------------------


def test_the_kit_opens_offline_from_a_closed_profile_with_its_data(kit, world):
    page = open_kit(kit, world["agent"])
    assert page.locator("[data-testid=to-revisit] tbody tr").count() == 3
    assert page.locator("link[rel=manifest]").get_attribute("href") == "/field/manifest.webmanifest"
    # The warning shows exactly when the browser keeps the data only as long as it likes.
    persisted = page.evaluate("navigator.storage.persisted()")
    assert page.locator("[data-testid=storage-warning]").is_visible() is not persisted
    kit.close()

    page = kit.open(offline=True)
    failed = []
    kit.context.on(
        "requestfailed",
        lambda request: failed.append((request.url, bool(request.service_worker), request.failure)),
    )
    page.goto("/field/")
    kit.ready()

    assert page.evaluate("navigator.onLine") is False
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)") is True
    # The worker asked the network for the shell first and could not reach it: what shows below
    # came from its cache and the local data.
    shell = (f"{kit.base_url}/field/", True, "net::ERR_INTERNET_DISCONNECTED")
    assert shell in failed
    assert (shell[0], True) not in kit.refused  # the offline mode cut it, not the route
    # From now on the offline mode alone keeps the running worker off the network.
    kit.reapply_offline()
    refused = len(kit.refused)
    with kit.context.expect_event(
        "requestfailed", lambda request: request.url == f"{kit.base_url}/health/"
    ) as probe_failed:
        assert page.evaluate("FieldKit.probe('/health/')")["ok"] is False
    assert probe_failed.value.failure == "net::ERR_INTERNET_DISCONNECTED"
    assert probe_failed.value.service_worker is not None
    assert len(kit.refused) == refused
    assert page.locator("[data-testid=network-state]").inner_text() == "Offline"
    rows = page.locator("[data-testid=to-revisit] tbody tr")
    assert rows.count() == 3
    assert rows.first.inner_text().split("\t")[:2] == ["C00012", "Le Bouchon Lyonnais"]
    # The calendar, the charts and the icons come from the cache too.
    kit.goto("#/history")
    page.locator("#field-calendar .fc-daygrid").wait_for()
    kit.goto("#/stats")
    assert page.locator("[data-figure=visits]").inner_text() == "0"


def test_the_service_workers_own_fetch_fails_when_the_browser_is_offline(kit, world):
    page = open_kit(kit, world["agent"])
    [worker] = kit.context.service_workers
    assert page.evaluate("FieldKit.probe('/health/')")["ok"] is True

    kit.set_offline(True)  # the context's offline mode alone: no route refuses anything
    with kit.context.expect_event(
        "requestfailed", lambda request: request.url == f"{kit.base_url}/health/"
    ) as failed:
        probe = page.evaluate("FieldKit.probe('/health/')")
        # Otherwise the offline tests would pass on a browser whose worker reached the server.
        assert probe["ok"] is False, probe

    assert failed.value.service_worker == worker  # the running worker's own request
    assert failed.value.failure == "net::ERR_INTERNET_DISCONNECTED"  # cut by the offline mode
    assert kit.context.service_workers == [worker]
    assert kit.refused == []


def test_a_visit_recorded_offline_survives_a_reload_and_is_sent_when_back_online(kit, world):
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)
    open_card(page, "C00011")

    record_visit(page, report="Menu du midi refait")
    page.reload()
    kit.ready()

    assert kit.outbox_count() == 1
    page.locator("[data-testid=visit-history] tbody tr", has_text="Menu du midi refait").wait_for()
    assert not Visit.objects.filter(report="Menu du midi refait").exists()

    runs = kit.runs()
    kit.set_offline(False)  # the "online" event starts a synchronisation, nothing else does
    kit.synced(runs)

    assert kit.runs() == runs + 1
    assert kit.outbox_count() == 0
    envelope = Envelope.objects.get()
    assert envelope.action == "visit"
    assert envelope.payload["report"] == "Menu du midi refait"
    visit = Visit.objects.get(report="Menu du midi refait")
    assert visit.restaurant == world["clients"]["gare"]
    assert visit.agent == world["agent"]


def test_a_lost_acknowledgement_is_sent_again_without_a_duplicate(kit, world):
    page = open_kit(kit, world["agent"])
    open_card(page, "C00012")
    answered = []

    def process_then_lose_the_answer(route):
        response = route.fetch()  # the server stores the envelope...
        answered.append(response.json())
        route.abort("connectionreset")  # ...and the answer never reaches the page

    kit.context.route("**/field/api/envelopes", process_then_lose_the_answer)
    kit.expected_errors.append("Failed to load resource")
    record_visit(page, report="Accusé perdu")
    kit.sync()
    assert answered and answered[0]["results"][0]["status"] == "received"
    assert kit.outbox_count() == 1
    assert Envelope.objects.count() == 1

    kit.context.unroute("**/field/api/envelopes")
    kit.sync()

    assert kit.outbox_count() == 0
    assert Envelope.objects.count() == 1
    assert Visit.objects.filter(report="Accusé perdu").count() == 1


def test_a_server_error_keeps_the_envelope_and_says_so(kit, world):
    page = open_kit(kit, world["agent"])
    open_card(page, "C00012")
    kit.context.route(
        "**/field/api/envelopes",
        lambda route: route.fulfill(status=500, body="Server Error", content_type="text/plain"),
    )
    kit.expected_errors.append("500")

    record_visit(page, report="Erreur serveur")
    kit.sync()

    assert kit.outbox_count() == 1
    error = page.locator("[data-testid=sync-error]")
    assert error.is_visible()
    assert "(500)" in error.inner_text()
    assert Envelope.objects.count() == 0

    kit.context.unroute("**/field/api/envelopes")
    kit.sync()

    assert kit.outbox_count() == 0
    assert not error.is_visible()
    assert Visit.objects.filter(report="Erreur serveur").count() == 1


def test_a_change_rejected_by_the_server_is_shown_to_the_agent(kit, world):
    page = open_kit(kit, world["agent"])
    open_card(page, "C00011")
    # The kit allows what the settings it received allow; the server's bound is tighter now.
    FieldSettings.objects.update(visit_backdate_days=0)
    world["settings"].refresh_from_db()

    record_visit(page, report="Trop ancienne", day=world["today"] - timedelta(days=3))
    kit.sync()
    if page.locator("[data-testid=refusals]").is_hidden():
        kit.sync()  # the integration's outcome comes with the next snapshot

    assert kit.outbox_count() == 0
    refusals = page.locator("[data-testid=refusals]")
    assert refusals.is_visible()
    assert "1 change was refused by the server." in refusals.inner_text()
    page.locator("[data-testid=refusals] a").click()
    page.locator("[data-route=outbox][data-drawn]").wait_for(state="attached")
    row = page.locator("[data-testid=outbox-rejected] tbody tr[data-name]")
    row.first.wait_for()
    assert row.count() == 1
    assert row.locator("td").nth(0).inner_text() == "Visit"
    assert row.locator("td").nth(1).inner_text() == "Café de la Gare"
    reason = Envelope.objects.get().reason
    assert reason and reason in row.locator("td").nth(2).inner_text()
    assert refusals.is_hidden()
    assert not Visit.objects.filter(report="Trop ancienne").exists()


def test_a_change_whose_number_an_admin_gave_up_is_shown_as_rejected_not_dropped(
    kit, world, admin_user
):
    from field import services, snapshots

    page = open_kit(kit, world["agent"])
    open_card(page, "C00011")
    record_visit(page, report="Jamais reçue")
    # A defect of the device made it unreadable: the server refuses it at every upload.
    page.evaluate("FieldKit.db.outbox.update(1, { 'envelope.hash': 'not-a-hash' })")
    record_visit(page, report="Reçue")
    kit.sync()
    assert kit.outbox_count() == 1
    assert Envelope.objects.get().state == "pending"  # number 2, held by the gap
    device = Device.objects.get(agent=world["agent"])

    # The administrators give up number 1, which they never received; number 2 goes through.
    assert services.device_skip_gap(device=device, by=admin_user) == [1]
    assert Envelope.objects.get().state == "integrated"
    kit.sync()

    assert kit.outbox_count() == 0
    refusals = page.locator("[data-testid=refusals]")
    assert "1 change was refused by the server." in refusals.inner_text()
    kit.goto("#/outbox")
    [row] = page.locator("[data-testid=outbox-rejected] tbody tr[data-name]").all()
    assert row.get_attribute("data-name") == page.evaluate(
        "FieldKit.db.rejected.toArray().then((rows) => rows[0].name)"
    )
    assert [cell.inner_text() for cell in row.locator("td").all()[:3]] == [
        "Visit",
        "Café de la Gare",
        "An administrator stopped waiting for this change, which never reached the server: it "
        "was not applied.",
    ]
    # Its local effect went with it; the one received stays, from the server's data.
    open_card(page, "C00011")
    history = page.locator("[data-testid=visit-history] tbody tr")
    assert history.filter(has_text="Jamais reçue").count() == 0
    assert history.filter(has_text="Reçue").count() == 1

    snapshots.snapshot_rebuild(agent=world["agent"])  # a later one, from a server that
    kit.sync()  # never knew of the change: it stays listed
    kit.goto("#/outbox")
    assert page.locator("[data-testid=outbox-rejected] tbody tr[data-name]").count() == 1
    assert Visit.objects.filter(report="Jamais reçue").count() == 0


def test_export_downloads_the_pending_envelopes_as_the_drop_folder_file(kit, world):
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)
    open_card(page, "C00012")
    record_visit(page, report="Pour le dépôt")
    kit.goto("#/outbox")

    with page.expect_download() as download:
        page.locator("[data-testid=export-pending]").click()

    device = page.evaluate("FieldKit.state.device")
    name = download.value.suggested_filename
    # The agent code "p_sales_agent" keeps letters, digits and "-" only, as in envelope names.
    assert name == f"p-sales-agent_{device}_1-1.json"
    with open(download.value.path(), encoding="utf-8") as handle:
        body = json.load(handle)
    [envelope] = body["envelopes"]
    assert envelope["payload"]["report"] == "Pour le dépôt"
    assert envelope["entity"] == {
        "kind": "client",
        "id": world["clients"]["bouchon"].pk,
        "client_id": None,
    }
    assert Restaurant.objects.count() == 7


def test_the_kits_payload_hash_is_the_servers(kit, world):
    page = open_kit(kit, world["agent"])
    payload = {
        "report": 'Café « crème »\n\t"quoted" \\ back\u2028slash 🍕 \u0001',
        "answers": {"12": ["14", "13"], "3": []},
        "revisit_date": None,
        "nested": {"b": [1, {"z": True, "a": False}], "a": -7, "É": "é"},
    }

    digest = page.evaluate("(p) => FieldKit.sha256(FieldKit.canonical(p))", payload)

    assert digest == payload_hash(payload)


def test_a_change_received_but_not_integrated_stays_visible_over_a_new_snapshot(
    kit, world, monkeypatch
):
    from field import integration, snapshots, tasks

    # The integration that follows an upload is held back (a busy worker).
    monkeypatch.setattr(tasks.integrate_agent, "delay", lambda agent_id: None)
    page = open_kit(kit, world["agent"])
    open_card(page, "C00011")
    record_visit(page, report="Pas encore intégrée")
    kit.sync()
    assert kit.outbox_count() == 0
    assert Envelope.objects.get().state == "pending"

    snapshots.snapshot_rebuild(agent=world["agent"])  # a newer snapshot without the visit
    kit.sync()
    open_card(page, "C00011")

    history = page.locator("[data-testid=visit-history] tbody tr", has_text="Pas encore intégrée")
    assert history.count() == 1
    assert page.locator("#card-title [data-testid=pending-marker]").is_visible()

    integration.integrate(agent_ids=[world["agent"].pk])
    kit.sync()
    open_card(page, "C00011")

    assert history.count() == 1  # the server's copy, not both
    assert history.get_attribute("data-pending") == "no"
    assert page.locator("#card-title [data-testid=pending-marker]").is_hidden()


def test_the_outbox_is_sent_on_a_timer(kit, world):
    page = open_kit(kit, world["agent"], clock=timezone.now())
    open_card(page, "C00012")
    record_visit(page, report="Par la minuterie")
    assert kit.outbox_count() == 1
    runs = kit.runs()

    page.clock.fast_forward("02:01")
    kit.synced(runs)

    assert kit.outbox_count() == 0
    assert Visit.objects.filter(report="Par la minuterie").count() == 1


def test_the_outbox_is_sent_at_start_when_the_kit_opens_online(kit, world):
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)
    open_card(page, "C00011")
    record_visit(page, report="Envoyée au démarrage")
    assert kit.outbox_count() == 1
    kit.close()

    page = kit.open()  # the laptop opened again, online
    page.goto("/field/")
    kit.ready()
    kit.synced(0)  # the first run, started by the page itself

    assert kit.outbox_count() == 0
    assert Visit.objects.get(report="Envoyée au démarrage").restaurant == world["clients"]["gare"]


# What an action writes on the device: its envelope in the outbox, and its local effect.
DEVICE_STATE = """async (key) => ({
    outbox: await FieldKit.db.outbox.count(),
    seq: await FieldKit.meta.get("seq", 0),
    visits: await FieldKit.db.visits.where("restaurant_key").equals(key).count(),
    lastVisit: (await FieldKit.db.restaurants.get(key)).last_visit_at,
})"""

FAILURES = {
    # The local change is written, then fails: the envelope must not stay alone.
    "local change": """() => {
        const apply = FieldKit.applyEnvelope;
        FieldKit.applyEnvelope = async (envelope) => {
            await apply(envelope);
            throw new Error("local change failed");
        };
    }""",
    # The local change is written, then the envelope cannot be: the change must not stay alone.
    "envelope": """() => {
        FieldKit.db.outbox.add = () => Promise.reject(new Error("outbox write failed"));
    }""",
}


@pytest.mark.parametrize("failing", list(FAILURES))
def test_an_action_is_recorded_whole_or_not_at_all(kit, world, failing):
    page = open_kit(kit, world["agent"])
    kit.set_offline(True)
    open_card(page, "C00011")
    key = f"r{world['clients']['gare'].pk}"
    before = page.evaluate(DEVICE_STATE, key)
    page.evaluate(FAILURES[failing])

    page.locator("[data-testid=visit-today]").click()
    form = page.locator("[data-testid=visit-today-form]")
    form.locator("[data-testid=visit-report]").fill("Jamais enregistrée")
    form.locator("[data-testid=save-visit]").click()

    errors = form.locator("[data-form-errors]")
    errors.wait_for()
    assert "nothing was saved" in errors.inner_text()
    assert page.evaluate(DEVICE_STATE, key) == before
    assert before["outbox"] == 0 and before["visits"] == 0

    page.reload()  # the failure undone, the same action goes through
    kit.ready()
    open_card(page, "C00011")
    record_visit(page, report="Enregistrée")
    after = page.evaluate(DEVICE_STATE, key)
    assert (after["outbox"], after["seq"], after["visits"]) == (1, before["seq"] + 1, 1)
    assert page.locator("[data-testid=visit-history] tbody tr", has_text="Jamais").count() == 0


STORAGE = """(granted) => {
    window.storageAsked = { persisted: 0, persist: 0 };
    StorageManager.prototype.persisted = () => {
        window.storageAsked.persisted += 1;
        return Promise.resolve(granted);
    };
    StorageManager.prototype.persist = () => {
        window.storageAsked.persist += 1;
        return Promise.resolve(granted);
    };
}"""


@pytest.mark.parametrize("granted", [False, True])
def test_the_storage_warning_shows_when_the_browser_does_not_grant_persistence(kit, world, granted):
    page = kit.open()
    kit.context.add_init_script(f"({STORAGE})({'true' if granted else 'false'})")
    login(page, world["agent"].username, PASSWORD)
    page.wait_for_url(f"{kit.base_url}/")
    page.goto("/field/")
    kit.ready()
    kit.synced(0)

    asked = page.evaluate("window.storageAsked")
    warning = page.locator("[data-testid=storage-warning]")
    if granted:
        assert asked == {"persisted": 1, "persist": 0}
        assert warning.is_hidden()
    else:
        assert asked == {"persisted": 1, "persist": 1}  # the kit asked for it, and was refused
        warning.wait_for()
        assert "did not grant persistent storage" in warning.inner_text()
