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


class MonthlyReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MonthlyReportQuerySet":
        """The reports of the restaurants `user` sees (every report for those who see all)."""
        if not user.has_perm("reports.view_monthlyreport"):
            return self.none()
        return self.filter(restaurant__in=Restaurant.objects.visible_to(user))

    def current(self) -> "MonthlyReportQuerySet":
        """The latest version of each restaurant's month."""
        return self.filter(superseded_by__isnull=True)


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
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_to = models.TextField(_("sent to"), blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    times_sent = models.PositiveSmallIntegerField(_("times sent"), default=0)
    error = models.CharField(_("last error"), max_length=500, blank=True)
    error_at = models.DateTimeField(null=True, blank=True)
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
        return self.status == ReportStatus.SENT

    @property
    def is_due(self) -> bool:
        return self.status != ReportStatus.SENT

    @property
    def is_late(self) -> bool:
        return self.is_due and timezone.localdate() > self.deadline

    @property
    def sent_on_time(self) -> bool | None:
        if not self.sent_at:
            return None
        return timezone.localtime(self.sent_at).date() <= self.deadline

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


class ReportBatch(models.Model):
    """Generating and sending several reports at once: the task updates the counts, the page
    shows them as a progress bar."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reports = models.ManyToManyField(MonthlyReport, related_name="+")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report batch")
        verbose_name_plural = _("report batches")

    def __str__(self) -> str:
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * (self.done + self.failed) / self.total)


def deadline_for(month: dt.date) -> dt.date:
    """The admin-set day of the month after `month`."""
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following.replace(day=ReportSettings.load().deadline_day)
