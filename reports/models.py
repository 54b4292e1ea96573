"""Monthly client reports: a draft per client and month whose contract includes it, the
community manager's comments, indicators frozen at generation, the PDF, its recipients and sending.
A sent report is never changed: regenerating it makes a new version."""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comadvisor.models import SettingsModel, SingletonModel
from crm.models import Restaurant


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    GENERATED = "generated", _("Generated")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ReportError(models.TextChoices):
    """Why the last step failed. The reason is stored as a kind and its technical detail, and
    worded when shown, in the reader's language (a batch runs in the worker's)."""

    NO_DATA = "no_data", _("No data")
    INDICATORS = "indicators", _("Indicators")
    PDF = "pdf", _("PDF")
    PDF_MISSING = "pdf_missing", _("PDF file missing")
    NOT_GENERATED = "not_generated", _("Not generated")
    STALE = "stale", _("PDF out of date")
    RECIPIENTS = "recipients", _("Recipients")
    TEMPLATE = "template", _("E-mail template")
    SMTP = "smtp", _("Sending")
    BUSY = "busy", _("Busy")
    FORBIDDEN = "forbidden", _("Scope")
    UNEXPECTED = "unexpected", _("Unexpected error")


class ReportSettings(SingletonModel, SettingsModel):
    deadline_day = models.PositiveSmallIntegerField(
        _("reports due by this day of the next month"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
    )

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")

    def __str__(self) -> str:
        return str(_("Report settings"))


def error_message(kind: str, detail: str, *, sent: bool = False) -> str:
    """A failure's reason worded in the active language, from its kind and technical detail."""
    if not kind:
        return detail
    messages = {
        ReportError.NO_DATA: _(
            "No data for this month: no statistics, reviews or posts were fetched."
        ),
        ReportError.INDICATORS: _("The indicators could not be computed: %(error)s"),
        ReportError.PDF: _("The PDF could not be made: %(error)s"),
        ReportError.PDF_MISSING: _("The PDF file is missing: generate the report again."),
        ReportError.NOT_GENERATED: _("Generate the report before sending it."),
        ReportError.STALE: _(
            "The comments changed after the PDF was made: generate it again before sending."
        ),
        ReportError.RECIPIENTS: _("Add at least one recipient."),
        ReportError.TEMPLATE: _("The e-mail template cannot be used: %(error)s"),
        ReportError.SMTP: _("Sending again failed: %(error)s")
        if sent
        else _("Sending failed: %(error)s"),
        ReportError.BUSY: _("Someone else was generating or sending this report at the same time."),
        ReportError.FORBIDDEN: _("This restaurant is not among yours any more."),
        ReportError.UNEXPECTED: _("An unexpected error stopped it: %(error)s"),
    }
    return str(messages.get(kind, "%(error)s")) % {"error": detail}


class MonthlyReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MonthlyReportQuerySet":
        """The reports of the restaurants `user` sees (every report for those who see all)."""
        if not user.has_perm("reports.view_monthlyreport"):
            return self.none()
        return self.filter(restaurant__in=Restaurant.objects.visible_to(user))

    def current(self) -> "MonthlyReportQuerySet":
        """The latest version of each restaurant's month."""
        return self.filter(superseded_by__isnull=True)

    def unsent(self) -> "MonthlyReportQuerySet":
        """Never sent: a report is sent once its first e-mail went out, whatever came after."""
        return self.filter(first_sent_at__isnull=True)


class MonthlyReport(models.Model):
    restaurant = models.ForeignKey(
        Restaurant, on_delete=models.CASCADE, related_name="monthly_reports"
    )
    month = models.DateField(_("month"), help_text=_("First day of the month reported on."))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("previous version"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    deadline = models.DateField(_("due by"))
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    comments = models.TextField(_("comments"), blank=True)
    comments_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    comments_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recipients = models.TextField(
        _("recipients"), blank=True, help_text=_("E-mail addresses, one per line.")
    )
    indicators = models.JSONField(_("indicators"), default=dict, blank=True, editable=False)
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/%m/", blank=True)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    # Sent is decided by first_sent_at (set once, by the first successful sending; "on time"
    # reads it); sent_at is the latest sending. Once sent, the status stays "sent": a failed
    # resend only records its reason.
    first_sent_at = models.DateTimeField(_("first sent at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_to = models.TextField(_("sent to"), blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    times_sent = models.PositiveSmallIntegerField(_("times sent"), default=0)
    error_kind = models.CharField(
        _("last error"), max_length=16, choices=ReportError.choices, blank=True
    )
    error = models.CharField(_("error detail"), max_length=500, blank=True)
    error_at = models.DateTimeField(null=True, blank=True)
    # A short claim taken by a conditional UPDATE around saving, generating and sending, so two
    # hands (a double click, a batch and a manual send, a redelivered task) never work on the
    # same report at once; it expires by itself if its holder dies.
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MonthlyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month", "restaurant__name", "-version"]
        permissions = [("manage_monthlyreport", "Write, generate and send monthly reports")]
        constraints = [
            models.UniqueConstraint(
                fields=["restaurant", "month", "version"], name="reports_one_version_per_month"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="reports_month_first_day"),
            models.CheckConstraint(
                condition=Q(status="sent", first_sent_at__isnull=False)
                | (~Q(status="sent") & Q(first_sent_at__isnull=True)),
                name="reports_sent_once_sent",
            ),
        ]
        indexes = [
            models.Index(fields=["month", "status"], name="reports_month_status"),
            models.Index(fields=["restaurant", "-month"], name="reports_restaurant_month"),
            models.Index(fields=["status", "deadline"], name="reports_status_deadline"),
        ]

    def __str__(self) -> str:
        label = f"{self.restaurant} {self.month:%m/%Y}"
        return label if self.version == 1 else f"{label} (v{self.version})"

    @property
    def is_sent(self) -> bool:
        return self.first_sent_at is not None

    @property
    def is_due(self) -> bool:
        return not self.is_sent

    @property
    def is_late(self) -> bool:
        return self.is_due and timezone.localdate() > self.deadline

    @property
    def sent_on_time(self) -> bool | None:
        if not self.first_sent_at:
            return None
        return timezone.localtime(self.first_sent_at).date() <= self.deadline

    @property
    def pdf_is_stale(self) -> bool:
        """The comments changed after the PDF was made: it must be made again before sending."""
        return bool(
            self.pdf
            and self.generated_at
            and self.comments_updated_at
            and self.comments_updated_at > self.generated_at
        )

    @property
    def pdf_is_current(self) -> bool:
        return bool(self.pdf and self.generated_at) and not self.pdf_is_stale

    @property
    def error_message(self) -> str:
        """The last failure's reason in the active language ("" when none)."""
        return error_message(self.error_kind, self.error, sent=self.is_sent)

    @property
    def recipient_list(self) -> list[str]:
        return [
            line.strip() for line in self.recipients.replace(",", "\n").splitlines() if line.strip()
        ]

    @property
    def filename(self) -> str:
        name = "".join(c if c.isalnum() else "-" for c in self.restaurant.name).strip("-").lower()
        suffix = f"-v{self.version}" if self.version > 1 else ""
        return f"report-{name}-{self.month:%Y-%m}{suffix}.pdf"


class ReportRecipients(models.Model):
    """Where a restaurant's monthly reports go: each new draft starts from this list; a
    restaurant without one sends to its owner contacts. Saving a report's recipients in the
    editor with "for the next reports too" writes it; admins edit it in the administration."""

    restaurant = models.OneToOneField(
        Restaurant,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="report_recipients",
        verbose_name=_("restaurant"),
    )
    addresses = models.TextField(_("recipients"), help_text=_("E-mail addresses, one per line."))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("report recipients")
        verbose_name_plural = _("report recipients")
        ordering = ["restaurant__name"]

    def __str__(self) -> str:
        return str(self.restaurant)

    @property
    def address_list(self) -> list[str]:
        return [line.strip() for line in self.addresses.splitlines() if line.strip()]


class BatchStop(models.TextChoices):
    """Why a batch stopped before its end (an error outside the reports, each of which records
    its own): shown worded to its user; the technical detail stays in the log and the
    administration."""

    DATABASE = "database", _("Database")
    UNEXPECTED = "unexpected", _("Unexpected error")


class ReportBatch(models.Model):
    """Generating and sending several reports at once: the task records each report's outcome,
    the page shows the counts as a progress bar."""

    # A batch that shows no progress for this long is reported as stopped (its worker died
    # without a redelivery): the page stops polling and says so.
    STALLED_AFTER = dt.timedelta(minutes=15)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_kind = models.CharField(
        _("stopped by"), max_length=16, choices=BatchStop.choices, blank=True
    )
    error = models.CharField(_("error detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("report batch")
        verbose_name_plural = _("report batches")

    def __str__(self) -> str:
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        handled = self.done + self.failed + self.skipped
        return 100 if not self.total else min(100, round(100 * handled / self.total))

    @property
    def is_stalled(self) -> bool:
        last = self.updated_at or self.started_at
        return self.finished_at is None and timezone.now() - last > self.STALLED_AFTER

    @property
    def is_over(self) -> bool:
        return self.finished_at is not None or self.is_stalled

    @property
    def stop_reason(self) -> str:
        """Why the batch stopped early, in the reader's words and language ("" when it did
        not): never the exception's own text, which the log and the administration keep."""
        if not (self.error_kind or self.error):
            return ""
        if self.error_kind == BatchStop.DATABASE:
            return str(_("the database could not be read or written"))
        return str(_("an unexpected error occurred"))


class BatchOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Already sent")


class ReportBatchItem(models.Model):
    """One report of a batch and what the batch did with it: a redelivered task goes on from
    the reports not handled yet and never sends one twice."""

    batch = models.ForeignKey(ReportBatch, on_delete=models.CASCADE, related_name="items")
    report = models.ForeignKey(MonthlyReport, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(
        max_length=8, choices=BatchOutcome.choices, default=BatchOutcome.PENDING
    )
    error_kind = models.CharField(max_length=16, choices=ReportError.choices, blank=True)
    error = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report of a batch")
        verbose_name_plural = _("reports of a batch")
        constraints = [
            models.UniqueConstraint(fields=["batch", "report"], name="reports_batch_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.batch}: {self.report_id} {self.outcome}"

    @property
    def error_message(self) -> str:
        return error_message(self.error_kind, self.error)


def deadline_for(month: dt.date) -> dt.date:
    """The admin-set day of the month after `month`."""
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following.replace(day=ReportSettings.load().deadline_day)
