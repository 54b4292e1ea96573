from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from field import dropfolder, integration, snapshots


class Command(BaseCommand):
    help = (
        "Integrate the stored field envelopes (per device, in sequence order); with --folder, "
        "first read the envelope files of a drop folder."
    )

    def add_arguments(self, parser):
        parser.add_argument("--folder", help="Drop folder to read first (recursively).")
        parser.add_argument("--agent", help="Only this agent's devices (username).")
        parser.add_argument(
            "--settle",
            type=float,
            default=dropfolder.SETTLE_SECONDS,
            help="Skip files modified less than this many seconds ago (still being written).",
        )

    def handle(self, *args, folder=None, agent=None, settle=dropfolder.SETTLE_SECONDS, **options):
        agent_ids = None
        if agent:
            user = User.objects.filter(username=agent).first()
            if user is None:
                raise CommandError(f"Unknown agent {agent}")
            agent_ids = [user.pk]
        if folder:
            try:
                read = dropfolder.drop_folder_read(folder=folder, settle_seconds=settle)
            except FileNotFoundError as error:
                raise CommandError(f"No such folder: {folder}") from error
            self.stdout.write(
                f"{read.files} file(s) read: {read.received} envelope(s) received, "
                f"{read.duplicates} already received, {read.refused} refused"
                + (f"; {len(read.skipped)} file(s) left for later" if read.skipped else "")
            )
        started = timezone.now()
        report = integration.integrate(agent_ids=agent_ids)
        snapshots.snapshots_mark_holders_stale(agent_ids=report.agents, since=started)
        from field.enums import EnvelopeState
        from field.models import Envelope

        pending = Envelope.objects.filter(state=EnvelopeState.PENDING)
        if agent_ids:
            pending = pending.filter(agent_id__in=agent_ids)
        self.stdout.write(
            f"{report.integrated} integrated, {len(report.quarantined)} quarantined, "
            f"{pending.count()} pending (waiting for a lower sequence number)"
        )
        for envelope in report.quarantined:
            self.stdout.write(f"  quarantined {envelope.name}: {envelope.reason}")
