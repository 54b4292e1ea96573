"""Compute every cached dashboard figure ahead (after a deploy or a cache flush).

    manage.py dashboards_warm

The same work as the scheduled `reports.tasks.warm_dashboards`: the direction overview's figures
(per language for those with translated names) and each review manager's response times are
stored in the cache, so that the first visitor's home reads them instead of computing them.
"""

import time

from django.core.management.base import BaseCommand

from reports.dashboard_figures import dashboard_figures_warm


class Command(BaseCommand):
    help = "Compute and cache every dashboard figure ahead of the first visitor."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        stored = dashboard_figures_warm()
        company = sum(scope == "all" for _name, scope, _language in stored)
        users = len({scope for _name, scope, _language in stored if scope != "all"})
        self.stdout.write(
            f"{len(stored)} figure(s) cached: {company} of the company overview, the others "
            f"for {users} user(s); {time.perf_counter() - started:.2f} s."
        )
        if not company:
            self.stdout.write("Nobody sees every restaurant: no company figure to compute.")
