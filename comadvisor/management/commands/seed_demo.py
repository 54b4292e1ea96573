from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from comadvisor.models import SiteSettings
from crm import demo as crm_demo
from reports import demo as reports_demo
from sales import demo as sales_demo
from social import demo as social_demo


class Command(BaseCommand):
    help = "Add the demo data of the embedded mode (idempotent) and print one login per role."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--restaurants",
            type=int,
            default=300,
            help="How many demo restaurants (first run only).",
        )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            SiteSettings.load()
            users = accounts_demo.seed()
            restaurants = crm_demo.seed(restaurants=options["restaurants"])
            contracts = sales_demo.seed()
            accounts = social_demo.seed()
            reports = reports_demo.seed()
        created = sum(1 for _user, was_created in users if was_created)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} user(s), {restaurants} restaurant(s), {contracts} "
                f"contract(s), {accounts} social account(s) and {reports} monthly report(s) "
                "created now)."
            )
        )
        self.stdout.write("")
        self.stdout.write("Demo logins (username / password):")
        width = max(len(user.username) for user, _created in users)
        for user, _created in users:
            self.stdout.write(
                f"  {user.username.ljust(width)}  {user.password.ljust(24)}  {user.role.label}"
            )
        self.stdout.write("")
