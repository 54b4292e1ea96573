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
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from comadvisor.bench import percentile, throwaway_database, time_pages
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
        # The role homes read every app: a benchmark may look above crm where the code may not.
        from reports import dashboard_cache
        from sales.models import Pack

        with throwaway_database(keep=options["keepdb"]):
            if not Restaurant.objects.exists():
                self._fill(options)
            if not Pack.objects.exists():
                with transaction.atomic():
                    self._fill_dashboards()
            # Figures cached by an earlier run (Redis outlives the database) must not be served.
            dashboard_cache.bump_all()
            self._measure(options["runs"])

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
        personas = {
            role: User.objects.get(username=f"bench_{role}")
            for role in ("client_manager", "community_manager", "review_manager", "accountant")
        }
        dashboards = [
            ("dashboard: direction", manager),
            ("dashboard: client manager", personas["client_manager"]),
            ("dashboard: sales agent (revisit lists)", agent),
            ("dashboard: community manager", personas["community_manager"]),
            ("dashboard: review manager", personas["review_manager"]),
            ("dashboard: accountant", personas["accountant"]),
        ]
        scenarios = [
            *((label, user, "/") for label, user in dashboards),
            ("agenda month (agent)", agent, f"/agenda/events/?{agenda_range}"),
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
        time_pages(self.stdout.write, scenarios, runs)
        self._measure_cold(dashboards, runs)

    def _measure_cold(self, dashboards: list[tuple[str, User]], runs: int) -> None:
        """The homes after an invalidation (time_pages above measures them as served, the cache
        warm): every figure dropped before each request, then, for the overview, one topic at a
        time, as a single write (a contract, a review answered...) leaves it."""
        from reports import dashboard_cache

        self.stdout.write(
            f"{'page (figures not cached)':48} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}"
        )
        cases = [
            (f"{label}, all cold", user, tuple(dashboard_cache.TOPICS))
            for label, user in dashboards
        ]
        direction = dashboards[0][1]
        cases += [
            (f"dashboard: direction, after a {topic} write", direction, (topic,))
            for topic in dashboard_cache.TOPICS
        ]
        for label, user, topics in cases:
            client = Client()
            client.force_login(user)
            client.get("/")
            timings, queries = [], 0
            for _ in range(runs):
                dashboard_cache.bump(*topics)
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get("/")
                    timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (label, response.status_code)
                queries = len(captured.captured_queries)
            self.stdout.write(
                f"{label:48} {statistics.median(timings):8.1f} "
                f"{percentile(timings, 0.95):8.1f} {queries:8d}"
            )

    def _fill_dashboards(self) -> None:
        """What the role homes read, at the scale of the restaurants: a contract (and its terms)
        per client, twelve months of invoices, opportunities, requests, social accounts with a
        year of reviews and their tasks, and one user per role. Set-based SQL: seconds."""
        from sales.models import Contract, Invoice, Opportunity, Pack, SalesTarget
        from social.models import Review

        started = time.perf_counter()
        agent = User.objects.get(username="bench_agent")
        other = User.objects.get(username="bench_other_agent")
        users = {
            role: User.objects.filter(username=f"bench_{role}").first()
            or account_services.user_create(
                by=None, username=f"bench_{role}", roles=[role], password="x"
            )
            for role in ("client_manager", "community_manager", "review_manager", "accountant")
        }
        packs = [
            Pack.objects.create(
                code=code,
                name=name,
                monthly_price=price,
                posts_per_month=posts,
                networks=["facebook", "instagram"],
                review_management=code == "premium",
            )
            for code, name, price, posts in (
                ("essentiel", "Essentiel", 149, 8),
                ("confort", "Confort", 249, 12),
                ("premium", "Premium", 399, 16),
            )
        ]
        today = timezone.localdate()
        SalesTarget.objects.create(
            agent=agent, month=today.replace(day=1), new_monthly_revenue=2000, new_clients=4
        )
        pg = connection.vendor == "postgresql"

        def month_start(offset: str) -> str:
            if pg:
                return (
                    f"(date_trunc('month', CURRENT_DATE) - ({offset}) * INTERVAL '1 month')::date"
                )
            return f"date('now', 'start of month', '-' || ({offset}) || ' months')"

        def months_later_minus_a_day(day: str, months: str) -> str:
            if pg:
                return f"(({day}) + ({months}) * INTERVAL '1 month' - INTERVAL '1 day')::date"
            return f"date({day}, '+' || ({months}) || ' months', '-1 day')"

        def days_ago(days: str) -> str:
            if pg:
                return f"(CURRENT_DATE - CAST(({days}) AS integer))"
            return f"date('now', '-' || ({days}) || ' days')"

        def hours_after(moment: str, hours: str) -> str:
            if pg:
                return f"(({moment}) + ({hours}) * INTERVAL '1 hour')"
            return f"datetime({moment}, ({hours}) || ' hours')"

        def moment_of(day: str) -> str:
            return f"({day})::timestamptz" if pg else f"datetime({day})"

        def series(count: int) -> str:
            if pg:
                return f"generate_series(1, {count}) AS s(n)"
            return (
                f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) "
                "SELECT n FROM s) AS s"
            )

        now = "NOW()" if pg else "datetime('now')"
        true, false = ("TRUE", "FALSE") if pg else ("1", "0")
        start = month_start("r.id % 24")
        statements = [
            # A contract per client: started within two years, 13 or 26 months; one in twenty
            # ended within the last two months (a lost client).
            "INSERT INTO sales_contract (restaurant_id, start_date, duration_months, end_date, "
            "status, signed_by_id, signed_at, end_reason, created_at, ended_at) "
            f"SELECT r.id, {start}, CASE WHEN r.id % 2 = 0 THEN 26 ELSE 13 END, "
            f"{months_later_minus_a_day(start, 'CASE WHEN r.id % 2 = 0 THEN 26 ELSE 13 END')}, "
            "CASE WHEN r.id % 20 = 7 THEN 'ended' ELSE 'active' END, "
            f"CASE WHEN r.id % 25 = 0 THEN {agent.pk} ELSE {other.pk} END, "
            f"{moment_of(start)}, '', {now}, "
            f"CASE WHEN r.id % 20 = 7 THEN {days_ago('r.id % 60')} END "
            "FROM crm_restaurant r WHERE r.status = 'client'",
            "UPDATE crm_restaurant SET status = 'former' WHERE id IN "
            "(SELECT restaurant_id FROM sales_contract WHERE status = 'ended')",
            "INSERT INTO sales_contractterm (contract_id, starts_on, pack_id, monthly_price, "
            "posts_per_month, networks, changed_by_id, created_at) "
            f"SELECT c.id, c.start_date, CASE c.id % 3 WHEN 0 THEN {packs[0].pk} "
            f"WHEN 1 THEN {packs[1].pk} ELSE {packs[2].pk} END, "
            "CASE c.id % 3 WHEN 0 THEN 149 WHEN 1 THEN 249 ELSE 399 END, 8, '[]', "
            f"c.signed_by_id, {now} FROM sales_contract c",
            # Twelve months of billing.
            "INSERT INTO sales_invoice (number, contract_id, restaurant_id, month, amount, "
            "pack_name, issued_at) "
            f"SELECT 'B' || c.id || '-' || s.n, c.id, c.restaurant_id, {month_start('s.n - 1')}, "
            f"t.monthly_price, 'Pack', {now} FROM sales_contract c "
            "JOIN sales_contractterm t ON t.contract_id = c.id "
            f"CROSS JOIN {series(12)} "
            f"WHERE c.start_date <= {month_start('s.n - 1')} "
            f"AND c.end_date >= {month_start('s.n - 1')} "
            f"AND (c.ended_at IS NULL OR c.ended_at >= {month_start('s.n - 1')})",
            # The pipeline: one opportunity per prospect, across the stages.
            "INSERT INTO sales_opportunity (restaurant_id, owner_id, stage, monthly_amount, "
            "stage_changed_at, created_at) "
            f"SELECT r.id, CASE WHEN r.id % 8 = 0 THEN {agent.pk} ELSE {other.pk} END, "
            "CASE r.id % 6 WHEN 0 THEN 'new' WHEN 1 THEN 'meeting' WHEN 2 THEN 'proposal' "
            "WHEN 3 THEN 'negotiation' WHEN 4 THEN 'won' ELSE 'lost' END, "
            f"CASE r.id % 3 WHEN 0 THEN 149 WHEN 1 THEN 249 ELSE 399 END, {now}, {now} "
            "FROM crm_restaurant r WHERE r.status = 'prospect'",
            # Requests: pending and decided conversions, pending change requests.
            "INSERT INTO crm_conversionrequest (restaurant_id, requested_by_id, payment_mode, "
            "payment_days, iban, bic, signature, comment, status, decided_at, reason, created_at) "
            f"SELECT r.id, {agent.pk}, 'transfer', 30, '', '', '', '', "
            "CASE WHEN r.status = 'prospect' THEN 'pending' ELSE 'applied' END, "
            f"CASE WHEN r.status = 'prospect' THEN NULL ELSE {moment_of(days_ago('r.id % 360'))} END, "
            f"'', {now} FROM crm_restaurant r WHERE r.id % 20 = 3",
            "INSERT INTO crm_changerequest (restaurant_id, requested_by_id, changes, comment, "
            f"status, reason, created_at) SELECT r.id, {agent.pk}, '[]', '', "
            f"'pending', '', {now} FROM crm_restaurant r WHERE r.status = 'client' AND r.id % 100 = 1",
            # Community and review managers' restaurants.
            f"UPDATE crm_restaurant SET community_manager_id = {users['community_manager'].pk} "
            "WHERE id % 25 = 10",
            f"UPDATE crm_restaurant SET review_manager_id = {users['review_manager'].pk} "
            "WHERE id % 25 = 5",
            # A Google profile for one client in five, ten reviews each over the year, nine in
            # ten answered (most within the day), each with its task.
            "INSERT INTO social_socialaccount (restaurant_id, network, external_id, name, url, "
            "demo, credentials, last_error, state, created_at) "
            f"SELECT r.id, 'google', 'g' || r.id, r.name, '', {true}, '', '', 'ok', {now} "
            "FROM crm_restaurant r WHERE r.status <> 'prospect' AND r.id % 5 = 0",
            "INSERT INTO social_review (account_id, restaurant_id, network, external_id, author, "
            "rating, text, text_digest, language, sentiment, url, written_at, updated_at, "
            "reply_text, replied_at, reply_sent, fetched_at) "
            "SELECT a.id, a.restaurant_id, 'google', 'r' || a.id || '-' || s.n, 'Client', "
            "1 + (a.id + s.n) % 5, '', '', 'fr', 'neutral', '', "
            f"{hours_after(now, '-((a.id * 7 + s.n * 37) % 8640)')}, "
            f"{hours_after(now, '-((a.id * 7 + s.n * 37) % 8640)')}, '', "
            f"CASE WHEN s.n % 10 = 0 THEN NULL ELSE "
            f"{hours_after(hours_after(now, '-((a.id * 7 + s.n * 37) % 8640)'), '(a.id + s.n) % 40')} END, "
            f"{false}, {now} FROM social_socialaccount a CROSS JOIN {series(10)}",
            "INSERT INTO social_reviewtask (review_id, reason, state, opened_at, due_at, answered_at) "
            "SELECT v.id, 'new', CASE WHEN v.replied_at IS NULL THEN 'open' ELSE 'answered' END, "
            f"v.written_at, {hours_after('v.written_at', '24')}, v.replied_at FROM social_review v",
        ]
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"Filled dashboards' data in {time.perf_counter() - started:.0f} s: "
            f"{Contract.objects.count()} contracts, {Invoice.objects.count()} invoices, "
            f"{Opportunity.objects.count()} opportunities, {Review.objects.count()} reviews."
        )
