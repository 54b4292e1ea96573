"""Benchmark of the field kit, in a throw-away database.

    manage.py bench_field [--restaurants 2000 --visits 20000 --others 8000 --envelopes 10000
                           --devices 40 --integrators <cores> --runs 5]

Fills a fresh test database next to the configured one (the real data is never touched) with one
agent holding `--restaurants` restaurants (a fifth of them prospects) and `--visits` visits, their
contacts, asset counts, timeline notes and two years of invoices, beside `--others` restaurants of
other zones; then times the agent's snapshot (build time, gzipped size, serving it and a 304),
and integrates `--envelopes` envelopes spread over `--devices` devices (visits, prospect creations
and edits, change requests): first with one integrator, then with `--integrators` at once, each
a process of its own as a Celery worker's would be.
Run it with DATABASE_URL pointing at PostgreSQL for meaningful figures.

It ends with each target, met or missed: the snapshot built in under 1 s (its slowest build) and
under 1 MB gzipped, and (on PostgreSQL) integration at 500 envelopes a second or more with the
`--integrators` processes at once. A missed target makes the command fail (exit status 1) unless
`--report-only`.
"""

import hashlib
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from comadvisor.bench import percentile, throwaway_database
from crm.enums import ActivityKind, ContactRole, RestaurantStatus
from crm.models import (
    Activity,
    AssetType,
    Contact,
    ContactLink,
    Restaurant,
    RestaurantAsset,
    Segment,
    Zone,
)
from crm.text import normalize_search
from field import integration, services, snapshots
from field.envelopes import name_agent, payload_hash
from field.models import Envelope, FieldSettings
from field.prospects import iso
from sales.enums import ContractStatus, VisitStatus
from sales.models import Contract, ContractTerm, Invoice, Pack, Visit

# The targets: a snapshot (for 2,000 restaurants and 20,000 visits) built in under 1 s
# and weighing under 1 MB gzipped; integration at 500 envelopes a second or more on PostgreSQL.
TARGET_BUILD_MS = 1_000
TARGET_SIZE_BYTES = 1_000_000
TARGET_RATE = 500

STREETS = ["rue de la République", "quai Saint-Antoine", "place Bellecour", "rue Mercière",
           "cours Vitton", "rue Paul Bert", "avenue Jean Jaurès", "rue Garibaldi"]  # fmt: skip
NAMES = ["Le Bouchon", "La Gare", "Chez Paul", "Le Comptoir", "Le Jardin", "La Halle",
         "Café du Port", "Brasserie du Théâtre", "L'Olivier", "Le Canut"]  # fmt: skip
REPORTS = [
    "Rencontre avec le gérant, intéressé par le pack Essentiel ; rappeler après la saison.",
    "Absent, vu le chef de salle. Laisser la plaquette et revenir en fin de mois.",
    "Bonne visite : avis Google à relancer, photos de la carte à refaire.",
    "Le client veut comparer avec son agence actuelle, proposition envoyée par e-mail.",
    "Passage rapide, rien de neuf ; le propriétaire vend peut-être le fonds.",
]


class Command(BaseCommand):
    help = "Time the field kit: an agent's snapshot and the integration rate of envelopes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--restaurants", type=int, default=2_000)
        parser.add_argument("--visits", type=int, default=20_000)
        parser.add_argument("--others", type=int, default=8_000)
        parser.add_argument("--envelopes", type=int, default=10_000)
        # Many devices, as a sales team has: integrators share the work device by device.
        parser.add_argument("--devices", type=int, default=40)
        # One integrator process per core.
        parser.add_argument("--integrators", type=int, default=os.cpu_count() or 2)
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument(
            "--keepdb", action="store_true", help="Reuse (and keep) the benchmark database."
        )
        parser.add_argument(
            "--report-only",
            action="store_true",
            help="Report the targets met or missed without failing on a miss.",
        )

    def handle(self, *args, **options) -> None:
        with throwaway_database(keep=options["keepdb"]):
            from accounts.models import User

            agent = User.objects.filter(username="bench_field_agent").first()
            if agent is None:
                agent = self._fill(options)
            build_ms, size = self._snapshot(agent, options["runs"])
            rate = self._integration(agent, options)
        postgresql = connections["default"].vendor == "postgresql"
        checks = targets_check(
            build_ms=build_ms,
            size=size,
            rate=rate if postgresql else None,
            integrators=options["integrators"],
        )
        self.stdout.write("Targets:")
        for line, met in checks:
            self.stdout.write(f"  {'pass' if met else 'FAIL'}  {line}")
        if not postgresql:
            self.stdout.write("  (integration rate not checked: its target is PostgreSQL's)")
        missed = [line for line, met in checks if not met]
        if missed and not options["report_only"]:
            raise CommandError(f"{len(missed)} target(s) missed: " + "; ".join(missed))
        if not missed:
            self.stdout.write("All targets met.")

    # --- Data ------------------------------------------------------------------------------

    def _fill(self, options) -> object:
        rng = random.Random(11)
        started = time.perf_counter()
        agent = account_services.user_create(
            by=None, username="bench_field_agent", roles=["sales_agent"], password="x"
        )
        colleague = account_services.user_create(
            by=None, username="bench_field_colleague", roles=["sales_agent"], password="x"
        )
        with transaction.atomic():
            zone = Zone.objects.create(name="Bench Lyon", departments="69")
            zone.agents.add(agent)
            elsewhere = Zone.objects.create(name="Bench Paris", departments="75")
            segments = [
                Segment.objects.get_or_create(code=code, defaults={"name": code.title(), "order": i})[0]
                for i, code in enumerate(["traditionnel", "brasserie", "rapide", "gastronomique"])
            ]  # fmt: skip
            pack = Pack.objects.create(code="essentiel", name="Essentiel",
                                       monthly_price=Decimal("149.00"), posts_per_month=8)  # fmt: skip
            screens = AssetType.objects.create(name="Écrans")
            now = timezone.now()

            def restaurant(n: int, *, mine: bool) -> Restaurant:
                name = f"{rng.choice(NAMES)} {n}"
                prospect = mine and n % 5 == 0
                city = "Lyon" if mine else "Paris"
                return Restaurant(
                    name=name, search_name=normalize_search(name),
                    client_code=None if prospect else f"B{n:06d}",
                    status=RestaurantStatus.PROSPECT if prospect else RestaurantStatus.CLIENT,
                    address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                    postal_code=f"6900{rng.randint(1, 9)}" if mine else "75011", city=city,
                    search_city=normalize_search(city), department="69" if mine else "75",
                    phone=f"+334{rng.randint(10_000_000, 99_999_999)}",
                    email=f"contact{n}@example.fr", siret="", segment=rng.choice(segments),
                    zone=zone if mine else elsewhere, sales_agent=agent if mine else colleague,
                    created_by=agent if mine else colleague,
                    revisit_date=(now + timedelta(days=rng.randint(1, 90))).date() if n % 3 else None,
                    created_at=now - timedelta(days=rng.randint(0, 700)),
                )  # fmt: skip

            count = options["restaurants"]
            Restaurant.objects.bulk_create(
                [restaurant(n, mine=True) for n in range(1, count + 1)], batch_size=1000
            )
            Restaurant.objects.bulk_create(
                [restaurant(count + n, mine=False) for n in range(1, options["others"] + 1)],
                batch_size=1000,
            )
            mine = list(Restaurant.objects.filter(sales_agent=agent).order_by("pk"))
            contacts = Contact.objects.bulk_create(
                [Contact(first_name="Jean", last_name=f"Gérant {r.pk}", search_name=f"gerant {r.pk}",
                         phone=r.phone, email=f"gerant{r.pk}@example.fr") for r in mine],
                batch_size=1000,
            )  # fmt: skip
            ContactLink.objects.bulk_create(
                [ContactLink(restaurant=r, contact=c, role=ContactRole.OWNER)
                 for r, c in zip(mine, contacts, strict=True)], batch_size=1000,
            )  # fmt: skip
            RestaurantAsset.objects.bulk_create(
                [RestaurantAsset(restaurant=r, asset_type=screens, count=rng.randint(1, 4))
                 for r in mine if r.pk % 2], batch_size=1000,
            )  # fmt: skip
            Activity.objects.bulk_create(
                [Activity(restaurant=r, kind=ActivityKind.CALL, subject="Appel de suivi",
                          occurred_at=now - timedelta(days=rng.randint(1, 400)), author=agent)
                 for r in mine for _ in range(3)], batch_size=2000,
            )  # fmt: skip
            visits = []
            for n in range(options["visits"]):
                start = now - timedelta(days=rng.randint(0, 720), hours=rng.randint(0, 8))
                visits.append(Visit(
                    restaurant=mine[n % len(mine)], agent=agent, start=start,
                    end=start + timedelta(minutes=30), status=VisitStatus.DONE,
                    report=rng.choice(REPORTS), pack_offered=pack if n % 4 == 0 else None,
                ))  # fmt: skip
            Visit.objects.bulk_create(visits, batch_size=2000)
            clients = [r for r in mine if r.status == RestaurantStatus.CLIENT]
            start_day = date(now.year - 1, 1, 1)
            contracts = Contract.objects.bulk_create(
                [Contract(restaurant=r, start_date=start_day, duration_months=26,
                          end_date=date(now.year + 1, 2, 28), status=ContractStatus.ACTIVE,
                          signed_by=agent, signed_at=now - timedelta(days=400)) for r in clients],
                batch_size=1000,
            )  # fmt: skip
            ContractTerm.objects.bulk_create(
                [ContractTerm(contract=c, starts_on=start_day, pack=pack, monthly_price=pack.monthly_price,
                              posts_per_month=8, changed_by=agent) for c in contracts], batch_size=1000,
            )  # fmt: skip
            months = [
                date(start_day.year + (m // 12), m % 12 + 1, 1) for m in range(12 + now.month)
            ]
            Invoice.objects.bulk_create(
                [Invoice(number=f"F{month:%Y%m}-{c.pk:06d}", contract=c, restaurant_id=c.restaurant_id,
                         month=month, amount=pack.monthly_price, pack_name="Essentiel")
                 for c in contracts for month in months], batch_size=2000,
            )  # fmt: skip
        self.stdout.write(
            f"Filled in {time.perf_counter() - started:.0f} s: {count} restaurants of the agent "
            f"({len(clients)} clients), {options['others']} others, {len(visits)} visits, "
            f"{Invoice.objects.count()} invoices"
        )
        return agent

    # --- Snapshot ------------------------------------------------------------------------------

    def _snapshot(self, agent, runs: int) -> tuple[float, int]:
        """Time the snapshot; returns its slowest build (ms) and its gzipped size (bytes)."""
        snapshots.snapshot_rebuild(agent=agent)  # warm-up
        timings = []
        for _ in range(runs):
            snapshot = snapshots.snapshot_rebuild(agent=agent)
            timings.append(snapshot.build_ms)
        document = snapshots.snapshot_document(snapshot)
        raw = len(snapshots.gzip.decompress(bytes(snapshot.body)))
        client = Client()
        client.force_login(agent)
        served, not_modified = [], []
        for _ in range(max(runs, 10)):
            started = time.perf_counter()
            response = client.get("/field/api/snapshot")
            served.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            again = client.get("/field/api/snapshot", HTTP_IF_NONE_MATCH=response["ETag"])
            not_modified.append((time.perf_counter() - started) * 1000)
            assert (response.status_code, again.status_code) == (200, 304)
        self.stdout.write(
            f"Snapshot: {len(document['clients'])} clients, {len(document['prospects'])} prospects, "
            f"{len(document['visits'])} visits, {len(document['activities'])} timeline entries"
        )
        self.stdout.write(
            f"  build  p50 {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms "
            f"({runs} runs); size {snapshot.size / 1024:.0f} KiB gzipped ({raw / 1024:.0f} KiB JSON)"
        )
        self.stdout.write(
            f"  GET    p50 {statistics.median(served):.1f} ms, p95 {percentile(served, 0.95):.1f} ms; "
            f"304 p50 {statistics.median(not_modified):.1f} ms"
        )
        return max(timings), snapshot.size

    # --- Integration ---------------------------------------------------------------------------

    def _envelopes(self, agent, *, devices: list[str], count: int, rng) -> list[dict]:
        clients = list(
            Restaurant.objects.filter(
                sales_agent=agent, status=RestaurantStatus.CLIENT
            ).values_list("pk", flat=True)[:500]
        )
        prospects = list(
            Restaurant.objects.filter(
                sales_agent=agent, status=RestaurantStatus.PROSPECT
            ).values_list("pk", "updated_at")
        )
        per_device = count // len(devices)
        today = timezone.localdate().isoformat()
        items = []
        for d, device in enumerate(devices):
            mine = prospects[d :: len(devices)]
            created: list[str] = []
            for seq in range(1, per_device + 1):
                roll = rng.random()
                entity = {"kind": "client", "id": rng.choice(clients), "client_id": None}
                base_version = None
                if roll < 0.70:
                    action = "visit"
                    payload = {"date": today, "kind": "visit", "report": rng.choice(REPORTS),
                               "answers": {}, "revisit_date": None, "pack_offered": None}  # fmt: skip
                elif roll < 0.80:
                    action = "prospect-create"
                    client_id = str(uuid.UUID(int=rng.getrandbits(128)))
                    created.append(client_id)
                    entity = {"kind": "prospect", "id": None, "client_id": client_id}
                    payload = {"fields": {"name": f"{rng.choice(NAMES)} {device}-{seq}",
                                          "city": "Lyon", "postal_code": "69003",
                                          "phone": f"+334{rng.randint(10_000_000, 99_999_999)}"}}  # fmt: skip
                elif roll < 0.90 and mine:
                    action = "prospect-update"
                    pk, updated_at = rng.choice(mine)
                    entity = {"kind": "prospect", "id": pk, "client_id": None}
                    base_version = iso(updated_at)
                    payload = {
                        "fields": {"email": f"nouveau{seq}@example.fr"},
                        "base": {"email": ""},
                    }
                elif roll < 0.95 and created:
                    action = "prospect-visit"
                    entity = {"kind": "prospect", "id": None, "client_id": rng.choice(created)}
                    payload = {"date": today, "kind": "visit", "report": "Première visite",
                               "answers": {}, "revisit_date": None, "pack_offered": None}  # fmt: skip
                else:
                    action = "change-request"
                    payload = {"changes": {"email": f"compta{seq}@example.fr"}, "comment": ""}
                when = timezone.now()
                random_part = hashlib.sha1(f"{device}{seq}".encode()).hexdigest()[:12].upper()
                name = (f"{when:%Y%m%dT%H%M%SZ}_{name_agent(agent.username)}_{device}_{seq:06d}_"
                        f"{action}_{random_part}")  # fmt: skip
                items.append({
                    "name": name, "schema": 1, "action": action, "agent": agent.username,
                    "device": device, "seq": seq, "created_at": iso(when), "snapshot": "",
                    "entity": entity, "base_version": base_version, "payload": payload,
                    "hash": payload_hash(payload),
                })  # fmt: skip
        return items

    def _integration(self, agent, options) -> float:
        """Integrate with one integrator, then with `--integrators` at once; returns the rate
        (envelopes a second) of the latter."""
        # The agent's snapshot is rebuilt after each run; timed above, it stays out of the rate.
        field_settings = FieldSettings.load()
        field_settings.rebuild_after_integration = False
        field_settings.save()
        devices = options["devices"]
        half = max(devices // 2, 1)
        # New devices and new offline ids each run, so that --keepdb runs add up (the same
        # offline ids again would be refused as prospects already created).
        run = uuid.uuid4().hex[:4]
        rng = random.Random(run)
        for label, integrators, names in (
            ("1 integrator", 1, [f"dev{run}{n:04x}" for n in range(1, half + 1)]),
            (f"{options['integrators']} integrator processes at once", options["integrators"],
             [f"dev{run}{n:04x}" for n in range(half + 1, devices + 1)]),
        ):  # fmt: skip
            items = self._envelopes(agent, devices=names, count=options["envelopes"] // 2, rng=rng)
            rng.shuffle(items)
            started = time.perf_counter()
            for start in range(0, len(items), 200):
                with transaction.atomic():
                    services.envelopes_receive(
                        agent=agent, items=items[start : start + 200], schedule=False
                    )
            received = time.perf_counter() - started
            elapsed = self._run_integrators(integrators)
            states = dict(
                Envelope.objects.filter(name__in=[i["name"] for i in items])
                .values("state")
                .annotate(n=Count("pk"))
                .values_list("state", "n")
            )
            self.stdout.write(
                f"Integration, {label}: {len(items)} envelopes on {len(names)} devices in "
                f"{elapsed:.1f} s = {len(items) / elapsed:.0f} envelopes/s "
                f"(stored at {len(items) / received:.0f}/s); outcome {states}"
            )
            rate = len(items) / elapsed
        return rate

    def _run_integrators(self, count: int) -> float:
        """Integrate with `count` integrators (separate processes, as Celery workers would be);
        returns the seconds from the first one starting to the last one ending."""
        if connections["default"].vendor != "postgresql":
            started = time.perf_counter()
            integration.integrate(notify=False)
            return time.perf_counter() - started
        database = connections["default"].settings_dict
        url = (
            f"postgres://{quote(database['USER'] or '')}:{quote(database['PASSWORD'] or '')}"
            f"@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        )
        code = (
            "import time; from field import integration; start = time.time(); "
            "integration.integrate(notify=False); print(start, time.time())"
        )
        processes = [
            subprocess.Popen(
                [sys.executable, "manage.py", "shell", "-c", code],
                cwd=settings.BASE_DIR,
                env={**os.environ, "DATABASE_URL": url, "REDIS_URL": ""},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]
        spans = []
        for process in processes:
            out, err = process.communicate()
            if process.returncode:
                raise CommandError(err)
            spans.append([float(part) for part in out.split()[-2:]])
        return max(end for _start, end in spans) - min(start for start, _end in spans)


def targets_check(
    *, build_ms: float, size: int, rate: float | None, integrators: int
) -> list[tuple[str, bool]]:
    """Each target with the figure measured: (line, met). `rate` is None where it is not
    measured against its target (SQLite: the target is PostgreSQL's)."""
    checks = [
        (f"snapshot built in {build_ms:.0f} ms (slowest run) < {TARGET_BUILD_MS} ms",
         build_ms < TARGET_BUILD_MS),
        (f"snapshot {size:,} bytes gzipped < {TARGET_SIZE_BYTES:,} bytes",
         size < TARGET_SIZE_BYTES),
    ]  # fmt: skip
    if rate is not None:
        checks.append((
            f"integration {rate:.0f} envelopes/s with {integrators} integrator process(es) "
            f">= {TARGET_RATE}/s",
            rate >= TARGET_RATE,
        ))  # fmt: skip
    return checks
