"""Field kit nouns: envelopes (one offline action each) and their journal, the devices that send
them, the agents' stored snapshots, the drop folder's file log and the admin's settings."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comadvisor.models import SettingsModel, SingletonModel, split_email_list, validate_email_list
from field.enums import DropOutcome, EnvelopeState, Flag, Reason, Source


def _validate_presets(value: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        days = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise ValidationError(_("Comma-separated numbers of days, e.g. 7, 14, 30.")) from error
    if not days or any(day < 1 for day in days):
        raise ValidationError(_("Comma-separated numbers of days, e.g. 7, 14, 30."))


class FieldSettings(SingletonModel, SettingsModel):
    freshness_hours = models.PositiveSmallIntegerField(
        _("offline data is fresh for (hours)"),
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_("Past this age the field kit warns the agent that their data is old."),
    )
    visit_backdate_days = models.PositiveSmallIntegerField(
        _("offline visits may be dated back by (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: the bound of the sales settings, as online."),
    )
    idle_prospect_months = models.PositiveSmallIntegerField(
        _("leave out prospects idle for more than (months)"),
        default=12,
        validators=[MinValueValidator(1)],
    )
    recent_activities = models.PositiveSmallIntegerField(
        _("timeline entries per restaurant"),
        default=3,
        help_text=_(
            "How many of each restaurant's latest calls, e-mails, meetings and notes go offline "
            "(visits of the last two years always do)."
        ),
    )
    revisit_presets = models.CharField(
        _("revisit presets (days)"),
        max_length=100,
        default="7, 14, 30, 60, 90",
        validators=[_validate_presets],
    )
    drop_folder = models.CharField(
        _("drop folder"),
        max_length=500,
        blank=True,
        help_text=_(
            "Folder a file-sync tool fills with envelope files (.json); empty: not read. "
            "Integrated files are remembered by name."
        ),
    )
    drop_folder_minutes = models.PositiveSmallIntegerField(
        _("read the drop folder every (minutes)"), default=5, validators=[MinValueValidator(1)]
    )
    rebuild_after_integration = models.BooleanField(
        _("rebuild an agent's offline data after each integration touching them"), default=True
    )
    rebuild_nightly = models.BooleanField(
        _("rebuild every agent's offline data nightly"), default=True
    )
    notification_emails = models.TextField(
        _("addresses told of quarantined envelopes"),
        blank=True,
        validators=[validate_email_list],
        help_text=_("Comma-separated; empty: the administrators' addresses of the site settings."),
    )
    log_retention_days = models.PositiveSmallIntegerField(
        _("keep the content of decided envelopes for (days)"),
        default=180,
        validators=[MinValueValidator(1)],
        help_text=_(
            "After this the payload of integrated and discarded envelopes is cleared and the drop "
            "folder's log is shortened; names and outcomes are kept for good, so a name is never "
            "applied twice."
        ),
    )
    held_device_hours = models.PositiveSmallIntegerField(
        _("tell the admins of a device held for more than (hours)"),
        null=True,
        blank=True,
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Each night, the devices whose envelopes have been waiting longer than this (a "
            "missing sequence number, an integration that does not run) are e-mailed to the "
            "notification addresses. Empty: never."
        ),
    )

    class Meta:
        verbose_name = _("field kit settings")
        verbose_name_plural = _("field kit settings")

    def __str__(self) -> str:
        return str(_("Field kit settings"))

    @property
    def notification_addresses(self) -> list[str]:
        return split_email_list(self.notification_emails)

    @property
    def revisit_preset_days(self) -> list[int]:
        return [int(part) for part in self.revisit_presets.split(",") if part.strip()]


class Device(models.Model):
    """One browser profile of an agent; `last_seq` is the highest sequence number up to which
    every envelope of the device is decided (integrated, quarantined or discarded).

    Integration locks this row: one integrator at a time works on a device, in sequence order."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="field_devices"
    )
    device = models.CharField(_("device"), max_length=20)
    last_seq = models.PositiveIntegerField(_("last decided sequence number"), default=0)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last upload"), default=timezone.now)
    # Numbers an admin gave up waiting for: [{"seqs": [...], "by": "<username>", "at": "…"}].
    skipped = models.JSONField(_("sequence numbers given up"), default=list, blank=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.UniqueConstraint(fields=["agent", "device"], name="field_device_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.device} ({self.agent})"


class EnvelopeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EnvelopeQuerySet":
        if user.has_perm("field.view_envelope"):
            return self.all()
        if user.is_authenticated:
            return self.filter(agent=user)
        return self.none()


class Envelope(models.Model):
    """One offline action as received, stored under its unique name before it is answered."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="field_envelopes",
        verbose_name=_("agent"),
    )
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="envelopes")
    seq = models.PositiveIntegerField(_("sequence number"))
    action = models.CharField(_("action"), max_length=30)
    schema = models.IntegerField(_("schema"), null=True, blank=True)
    made_at = models.DateTimeField(_("made on the device at"), null=True, blank=True)
    snapshot = models.CharField(_("snapshot version"), max_length=100, blank=True)
    entity_kind = models.CharField(_("entity kind"), max_length=20, blank=True)
    entity_id = models.BigIntegerField(_("restaurant id"), null=True, blank=True)
    entity_client_id = models.UUIDField(_("offline id"), null=True, blank=True)
    base_version = models.CharField(_("base version"), max_length=40, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    hash = models.CharField(_("hash"), max_length=64)
    # The envelope exactly as it arrived (payload included), kept beside the parsed columns.
    raw = models.JSONField(_("as received"), default=dict, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_file = models.CharField(_("file"), max_length=500, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=12, choices=EnvelopeState.choices, default=EnvelopeState.PENDING
    )
    reason_code = models.CharField(_("reason"), max_length=12, choices=Reason.choices, blank=True)
    reason = models.TextField(_("reason (details)"), blank=True)
    flag = models.CharField(_("flag"), max_length=12, choices=Flag.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    restaurant = models.ForeignKey(
        "crm.Restaurant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("restaurant"),
    )
    purged_at = models.DateTimeField(_("content cleared at"), null=True, blank=True)
    # An admin's correction: `hash` stays the one the device sent (a device sending the original
    # again is a duplicate, not a clash); `raw` keeps the original content.
    fixed_at = models.DateTimeField(_("corrected at"), null=True, blank=True)
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("corrected by"),
    )

    objects = EnvelopeQuerySet.as_manager()

    class Meta:
        verbose_name = _("envelope")
        verbose_name_plural = _("envelopes")
        ordering = ["-received_at", "-id"]
        indexes = [
            # The integrator's next envelope: a device's pending envelope of a given seq.
            models.Index(fields=["device", "state", "seq"], name="field_env_device_state_seq"),
            models.Index(fields=["state", "-received_at"], name="field_env_state"),
            models.Index(fields=["agent", "state", "-decided_at"], name="field_env_agent_state"),
            models.Index(fields=["reason_code"], name="field_env_reason"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="field_envelope_seq_positive"),
        ]
        permissions = [
            ("use_field_kit", _("Can use the offline field kit")),
            ("manage_envelope", _("Can fix, retry and discard envelopes")),
        ]

    def __str__(self) -> str:
        return self.name


class JournalEntry(models.Model):
    """The outcome of each envelope name, one row per name, written in the transaction that
    decides it. The unique name is the last guard against applying a name twice."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    envelope = models.OneToOneField(Envelope, on_delete=models.PROTECT, related_name="journal")
    outcome = models.CharField(_("outcome"), max_length=12, choices=EnvelopeState.choices)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by (admin)"),
    )
    # Each later decision (an admin's retry or discard) is appended: [{"at", "outcome", "by", ...}]
    history = models.JSONField(_("history"), default=list, blank=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.name}: {self.get_outcome_display()}"


class NameClash(models.Model):
    """An upload that reused a stored name with another content: refused, kept for the admins."""

    envelope = models.ForeignKey(Envelope, on_delete=models.CASCADE, related_name="clashes")
    hash = models.CharField(_("hash"), max_length=64)
    raw = models.JSONField(_("as received"), default=dict)
    first_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_at = models.DateTimeField(_("last seen"), default=timezone.now)
    count = models.PositiveIntegerField(_("times"), default=1)

    class Meta:
        verbose_name = _("name clash")
        verbose_name_plural = _("name clashes")
        constraints = [
            models.UniqueConstraint(fields=["envelope", "hash"], name="field_clash_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.envelope.name} ({self.hash[:12]})"


class Snapshot(models.Model):
    """An agent's offline data as served: gzipped JSON, its ETag and generation time."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="field_snapshot",
    )
    etag = models.CharField(_("ETag"), max_length=100)
    body = models.BinaryField(_("gzipped JSON"))
    size = models.PositiveIntegerField(_("size (bytes, gzipped)"), default=0)
    generated_at = models.DateTimeField(_("generated at"))
    build_ms = models.PositiveIntegerField(_("build time (ms)"), default=0)
    # Set when an integration touched the agent; the next read or task rebuilds it.
    stale = models.BooleanField(_("to rebuild"), default=False)

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")

    def __str__(self) -> str:
        return f"{self.agent} {self.generated_at:%Y-%m-%d %H:%M}"


class DropFile(models.Model):
    """A file read from the drop folder, remembered by its path so it is read once."""

    path = models.CharField(_("path"), max_length=500, unique=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size"), default=0)
    read_at = models.DateTimeField(_("read at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=10, choices=DropOutcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    envelope_name = models.CharField(_("envelope"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("drop-folder file")
        verbose_name_plural = _("drop-folder files")
        ordering = ["-read_at", "-id"]

    def __str__(self) -> str:
        return self.path
