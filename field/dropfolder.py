"""The original file transport: envelope files a file-sync tool drops into a folder.

A file holds exactly the body of POST /field/api/envelopes (`{"envelopes": [...]}`, a single
envelope object is accepted too). Each file is read once: its path and SHA-256 are remembered, so
a file changed since (same path, other content) is read again, and its envelopes go through the
same storing and integration as an upload (a name already stored is a duplicate). A file holding
envelopes of an agent the server does not know yet is read again at each run until it does."""

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from field import integration, services
from field.enums import DropOutcome, Source
from field.envelopes import MAX_BATCH
from field.models import DropFile

logger = logging.getLogger(__name__)

# Files still being written or left by sync tools and editors.
TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp")
# A file younger than this may still be being written by the sync tool: it waits for the next run.
SETTLE_SECONDS = 2.0


@dataclass
class FolderReport:
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    received: int = 0
    duplicates: int = 0
    refused: int = 0
    run: integration.RunReport | None = None

    @property
    def decided(self) -> int:
        return self.run.decided if self.run else 0


def is_ignored(name: str) -> bool:
    """Temporary files, hidden files and sync tools' conflict copies (Dropbox, Nextcloud and
    ownCloud "conflicted copy", Syncthing ".sync-conflict-", Resilio, OneDrive "-conflict")."""
    lower = name.lower()
    return (
        lower.startswith((".", "~", "$"))
        or lower.endswith(TEMPORARY_SUFFIXES)
        or lower.endswith("~")
        or "conflict" in lower
        or not lower.endswith(".json")
    )


def _candidates(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts[:-1]):
            continue  # the sync tools' own folders (.stfolder, .dropbox.cache…)
        if path.is_file() and not is_ignored(path.name):
            yield path


def drop_folder_read(*, folder: str | Path, settle_seconds: float = SETTLE_SECONDS) -> FolderReport:
    """Store the envelopes of every new or changed file of `folder` (recursively)."""
    root = Path(folder)
    report = FolderReport()
    if not root.is_dir():
        raise FileNotFoundError(root)
    known = dict(DropFile.objects.values_list("path", "sha256"))
    users: dict[str, User | None] = {}
    for path in _candidates(root):
        relative = str(path.relative_to(root))
        try:
            stat = path.stat()
            if time.time() - stat.st_mtime < settle_seconds:
                report.skipped.append(relative)
                continue
            content = path.read_bytes()
        except OSError as error:  # removed or locked by the sync tool meanwhile
            logger.warning("Drop folder: cannot read %s: %s", relative, error)
            report.skipped.append(relative)
            continue
        digest = hashlib.sha256(content).hexdigest()
        if known.get(relative) == digest:
            continue
        report.files += 1
        _read_file(relative=relative, content=content, digest=digest, users=users, report=report)
    return report


def _read_file(
    *, relative: str, content: bytes, digest: str, users: dict, report: FolderReport
) -> None:
    try:
        body = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict) and "envelopes" not in body and "name" in body:
        body = {"envelopes": [body]}
    items = body.get("envelopes") if isinstance(body, dict) else None
    with transaction.atomic():
        if not isinstance(items, list):
            _remember(relative, digest, len(content), DropOutcome.REFUSED, _("unreadable file"))
            report.refused += 1
            return
        lines, counts = [], {"received": 0, "duplicate": 0, "refused": 0}
        waiting = False  # envelopes of an agent unknown for now: the file is read again
        by_agent: dict[str, list] = {}
        for item in items:
            code = item.get("agent") if isinstance(item, dict) else None
            by_agent.setdefault(code if isinstance(code, str) else "", []).append(item)
        for code, group in by_agent.items():
            if code not in users:
                users[code] = User.objects.filter(username=code, is_active=True).first()
            agent = users[code]
            for start in range(0, len(group), MAX_BATCH):
                chunk = group[start : start + MAX_BATCH]
                if agent is None or not services.may_use_field_kit(agent):
                    waiting = True
                    receipts = [
                        services.Receipt(
                            item.get("name", "") if isinstance(item, dict) else "",
                            services.REFUSED,
                            _("unknown agent %(code)s") % {"code": code},
                        )
                        for item in chunk
                    ]
                else:
                    receipts = services.envelopes_receive(
                        agent=agent,
                        items=chunk,
                        source=Source.FOLDER,
                        source_file=relative,
                        schedule=False,
                    )
                for receipt in receipts:
                    counts[receipt.status] += 1
                    if receipt.reason:
                        lines.append(f"{receipt.name}: {receipt.reason}")
        report.received += counts["received"]
        report.duplicates += counts["duplicate"]
        report.refused += counts["refused"]
        if counts["received"]:
            outcome = DropOutcome.RECEIVED
        elif counts["duplicate"]:
            outcome = DropOutcome.DUPLICATE
        else:
            outcome = DropOutcome.REFUSED
        summary = (
            _("%(received)d received, %(duplicate)d already received, %(refused)d refused") % counts
        )
        # A file holding envelopes of an agent unknown for now (a user not created yet, or not
        # allowed the kit yet) is remembered without its digest: every run reads it again, so
        # they are received once the admins set the user up; the others are duplicates by then.
        reason = "\n".join([summary, *lines])
        _remember(relative, "" if waiting else digest, len(content), outcome, reason)


def _remember(path: str, digest: str, size: int, outcome: str, reason: str) -> None:
    DropFile.objects.update_or_create(
        path=path,
        defaults={
            "sha256": digest,
            "size": size,
            "outcome": outcome,
            "reason": reason,
            "read_at": timezone.now(),
        },
    )


def drop_files_purge(*, before: datetime, folder: str | Path | None = None) -> dict[str, int]:
    """The drop folder's log, shortened (FieldSettings.log_retention_days): files read before
    `before` keep their path, digest and summary line but lose the line of each envelope, and
    those no longer in `folder` are forgotten (were such a file put back, its envelopes would
    be duplicates)."""
    old = DropFile.objects.filter(read_at__lt=before)
    gone = []
    root = Path(folder) if folder else None
    if root is not None and root.is_dir():
        gone = [pk for pk, path in old.values_list("pk", "path") if not (root / path).exists()]
    forgotten = DropFile.objects.filter(pk__in=gone).delete()[0] if gone else 0
    shortened = 0
    for pk, reason in old.filter(reason__contains="\n").values_list("pk", "reason"):
        shortened += DropFile.objects.filter(pk=pk).update(reason=reason.split("\n", 1)[0])
    return {"drop_files_forgotten": forgotten, "drop_files_shortened": shortened}


def drop_folder_integrate(
    *, folder: str | Path, settle_seconds: float = SETTLE_SECONDS
) -> FolderReport:
    """Read the folder, then integrate what is pending: the same pipeline as uploads."""
    report = drop_folder_read(folder=folder, settle_seconds=settle_seconds)
    report.run = integration.integrate()
    return report
