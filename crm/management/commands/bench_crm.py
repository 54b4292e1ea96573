"""Benchmark of the CRM and sales pages at scale, in a throw-away database.

    manage.py bench_crm [--restaurants 50000 --contacts 100000 --activities 1000000
                         --visits 2000000 --runs 40]

Creates a fresh test database next to the configured one (never touches the real data), fills
it, then requests the restaurant list, a wildcard search and a restaurant page as a manager and as
a sales agent, and prints p50/p95 server times and query counts.
"""

import random
import statistics
import time
from datetime import timedelta
from urllib.parse import quote

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from crm.enums import RestaurantStatus
from crm.models import Contact, ContactLink, Restaurant, Segment, Zone
from crm.text import normalize_search

WORDS = [
    "Gare",
    "Marché",
    "Bouchon",
    "Comptoir",
    "Jardin",
    "Moulin",
    "Port",
    "Halle",
    "Soleil",
    "Théâtre",
    "Olivier",
    "Canut",
]
PREFIXES = ["Le", "La", "Chez", "Au", "Café", "Bistrot", "Brasserie", "Auberge"]


class Command(BaseCommand):
    help = "Fill a temporary database at scale and time the CRM pages (p50/p95, queries)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--restaurants", type=int, default=50_000)
        parser.add_argument("--contacts", type=int, default=100_000)
        parser.add_argument("--activities", type=int, default=1_000_000)
        parser.add_argument("--visits", type=int, default=2_000_000)
        parser.add_argument("--runs", type=int, default=40)
        parser.add_argument(
            "--keepdb", action="store_true", help="Reuse (and keep) the benchmark database."
        )

    def handle(self, *args, **options) -> None:
        setup_test_environment()
        old_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, keepdb=options["keepdb"]
        )
        try:
            if not Restaurant.objects.exists():
                self._fill(options)
            self._measure(options["runs"])
        finally:
            if not options["keepdb"]:
                connection.creation.destroy_test_db(old_name, verbosity=0)

    def _fill(self, options) -> None:
        rng = random.Random(7)
        started = time.perf_counter()
        agent = account_services.user_create(
            by=None, username="bench_agent", roles=["sales_agent"], password="x"
        )
        zones = [
            Zone.objects.create(name=f"Zone {d:02d}", departments=f"{d:02d}") for d in range(1, 96)
        ]
        zones[68].agents.add(agent)
        segments = [Segment.objects.create(code=f"s{i}", name=f"Segment {i}") for i in range(6)]
        batch: list[Restaurant] = []
        for index in range(options["restaurants"]):
            zone = zones[index % len(zones)]
            is_client = index % 4 != 0
            name = f"{rng.choice(PREFIXES)} {rng.choice(WORDS)} {index}"
            city = f"Ville {index % 500}"
            batch.append(
                Restaurant(
                    name=name,
                    search_name=normalize_search(name),
                    city=city,
                    search_city=normalize_search(city),
                    postal_code=f"{zone.departments}{index % 1000:03d}",
                    department=zone.departments,
                    status=RestaurantStatus.CLIENT if is_client else RestaurantStatus.PROSPECT,
                    client_code=f"C{index:06d}" if is_client else None,
                    zone=zone,
                    segment=segments[index % 6],
                    sales_agent=agent if index % 25 == 0 else None,
                    created_by=agent if not is_client and index % 25 == 0 else None,
                    phone=f"+3347{index:07d}",
                )
            )
        Restaurant.objects.bulk_create(batch, batch_size=5000)
        ids = list(Restaurant.objects.order_by("pk").values_list("pk", flat=True))
        contacts = [
            Contact(
                last_name=f"Nom{i}",
                first_name="Prénom",
                search_name=f"nom{i} prenom",
                email=f"c{i}@example.com",
            )
            for i in range(options["contacts"])
        ]
        Contact.objects.bulk_create(contacts, batch_size=5000)
        contact_ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
        ContactLink.objects.bulk_create(
            [
                ContactLink(restaurant_id=ids[i % len(ids)], contact_id=cid, role="owner")
                for i, cid in enumerate(contact_ids)
            ],
            batch_size=5000,
        )
        self._fill_activities(options["activities"], ids[0], ids[-1])
        self._fill_visits(options["visits"], ids[0], ids[-1], agent.pk)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"Filled {len(ids)} restaurants, {len(contact_ids)} contacts, {options['activities']} activities, "
            f"{options['visits']} visits "
            f"in {time.perf_counter() - started:.0f} s ({connection.vendor})."
        )

    def _fill_activities(self, count: int, first_id: int, last_id: int) -> None:
        """One INSERT ... SELECT over a generated series: a million rows in seconds."""
        span = last_id - first_id + 1
        # The first restaurant gets a long timeline (5 % of all entries) to time a heavy page.
        if connection.vendor == "postgresql":
            series = "SELECT generate_series(1, %s) AS n"
        else:
            series = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s) SELECT n FROM s"
        restaurant = f"CASE WHEN n %% 20 = 0 THEN {first_id} ELSE {first_id} + (n %% {span}) END"
        if connection.vendor == "postgresql":
            occurred = "NOW() - (n * INTERVAL '37 seconds')"
            now = "NOW()"
        else:
            occurred = "datetime('now', '-' || (n * 37) || ' seconds')"
            now = "datetime('now')"
        sql = (
            "INSERT INTO crm_activity (restaurant_id, kind, subject, body, occurred_at, origin, archived, while_prospect, created_at) "
            f"SELECT {restaurant}, 'note', 'Entrée ' || n, '', {occurred}, '', n %% 10 = 3, FALSE, {now} FROM ({series}) AS series"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [count])

    def _fill_visits(self, count: int, first_id: int, last_id: int, agent_id: int) -> None:
        """Visits over two years; one in twenty belongs to the benchmark agent (their agenda)."""

        other = account_services.user_create(
            by=None, username="bench_other_agent", roles=["sales_agent"], password="x"
        )
        span = last_id - first_id + 1
        if connection.vendor == "postgresql":
            series = "SELECT generate_series(1, %s) AS n"
            start = "NOW() - (n * INTERVAL '31 minutes') + INTERVAL '30 days'"
            end = "NOW() - (n * INTERVAL '31 minutes') + INTERVAL '30 days' + INTERVAL '1 hour'"
            now = "NOW()"
        else:
            series = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s) SELECT n FROM s"
            start = "datetime('now', '+30 days', '-' || (n * 31) || ' minutes')"
            end = "datetime('now', '+30 days', '+60 minutes', '-' || (n * 31) || ' minutes')"
            now = "datetime('now')"
        agent = f"CASE WHEN n %% 20 = 0 THEN {agent_id} ELSE {other.pk} END"
        sql = (
            'INSERT INTO sales_visit (restaurant_id, agent_id, start, "end", kind, status, report, answers, '
            "revisit_date, origin, while_prospect, google_event_id, sync, sync_error, updated_at) "
            f"SELECT {first_id} + (n %% {span}), {agent}, {start}, {end}, 'visit', "
            "CASE WHEN n > 1400 THEN 'done' ELSE 'planned' END, '', '[]', NULL, '', FALSE, '', '', '', "
            f"{now} FROM ({series}) AS series"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [count])
        # The denormalised last visit the revisit lists read.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE crm_restaurant SET last_visit_at = (SELECT MAX(start) FROM sales_visit v "
                "WHERE v.restaurant_id = crm_restaurant.id AND v.status = 'done')"
            )
            # No parameters, so no %-escaping: the same text on both databases.
            cursor.execute(
                "UPDATE crm_restaurant SET revisit_date = DATE(updated_at) WHERE id % 3 = 0"
            )

    def _measure(self, runs: int) -> None:

        manager = User.objects.filter(
            username="bench_direction"
        ).first() or account_services.user_create(
            by=None, username="bench_direction", roles=["direction"], password="x"
        )
        agent = User.objects.get(username="bench_agent")
        heavy = Restaurant.objects.order_by("pk").first()
        typical = Restaurant.objects.order_by("pk")[min(1000, Restaurant.objects.count() - 1)]
        heavy_entries = heavy.activities.count()
        # A cursor deep in the long timeline: keyset paging costs the same at any depth.
        deep = heavy.activities.filter(archived=False).order_by("-occurred_at", "-id")[
            heavy_entries // 2
        ]
        cursor = quote(f"{deep.occurred_at.isoformat()}|{deep.pk}")
        month_start = timezone.localdate().replace(day=1)
        agenda_range = f"start={month_start.isoformat()}T00:00:00%2B00:00&end={(month_start + timedelta(days=31)).isoformat()}T00:00:00%2B00:00"
        scenarios = [
            ("agenda month (agent)", agent, f"/agenda/events/?{agenda_range}"),
            ("home with revisit lists (agent)", agent, "/"),
            ("KPIs 12 months (agent)", agent, "/sales/kpis/"),
            ("KPIs 12 months (manager)", manager, "/sales/kpis/"),
            ("list, manager", manager, "/restaurants/"),
            ("list page 200, manager", manager, "/restaurants/?page=200&sort=-updated"),
            ("search cafe*, manager", manager, "/restaurants/?q=cafe*"),
            ("search *gare 12*, manager", manager, "/restaurants/?q=*gare 12*"),
            ("list, sales agent", agent, "/restaurants/"),
            ("search cafe*, sales agent", agent, "/restaurants/?q=cafe*"),
            (f"restaurant page ({heavy_entries} entries)", manager, f"/restaurants/{heavy.pk}/"),
            ("restaurant page (typical)", manager, f"/restaurants/{typical.pk}/"),
            (
                f"timeline, middle of {heavy_entries} entries",
                manager,
                f"/restaurants/{heavy.pk}/timeline/?before={cursor}",
            ),
        ]
        self.stdout.write(f"{'page':42} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        for label, user, url in scenarios:
            client = Client()
            client.force_login(user)
            client.get(url)  # warm-up
            timings, queries = [], 0
            for _ in range(runs):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
                queries = len(captured.captured_queries)
            timings.sort()
            p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
            self.stdout.write(
                f"{label:42} {statistics.median(timings):8.1f} {p95:8.1f} {queries:8d}"
            )
