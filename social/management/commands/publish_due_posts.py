from django.core.management.base import BaseCommand

from social import services


class Command(BaseCommand):
    help = "Publish the publications that are due (what the every-minute job does), here and now."

    def handle(self, *args, **options):
        released = services.publications_release_stuck()
        outcomes: dict[str, int] = {}
        for publication_id in services.publications_due():
            outcome = services.publication_publish(publication_id=publication_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = ", ".join(f"{name}: {count}" for name, count in sorted(outcomes.items()))
        self.stdout.write(f"released {released}; {summary or 'nothing due'}")
