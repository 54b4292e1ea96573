from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from field import snapshots


class Command(BaseCommand):
    help = "Rebuild the field kit snapshots (every sales agent's, or --agent's)."

    def add_arguments(self, parser):
        parser.add_argument("--agent", action="append", help="Username (repeatable).")

    def handle(self, *args, agent=None, **options):
        if agent:
            agents = list(User.objects.filter(username__in=agent))
            missing = set(agent) - {user.username for user in agents}
            if missing:
                raise CommandError(f"Unknown agent(s): {', '.join(sorted(missing))}")
        else:
            agents = list(snapshots.field_kit_users())
        for user in agents:
            snapshot = snapshots.snapshot_rebuild(agent=user)
            self.stdout.write(
                f"{user.username}: {snapshot.size / 1024:.1f} KiB gzipped, "
                f"built in {snapshot.build_ms} ms, {snapshot.etag}"
            )
        self.stdout.write(f"{len(agents)} snapshot(s) rebuilt")
