"""Cross-cutting models: the business settings singleton and the worker heartbeat."""

from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _


class SettingsModel(models.Model):
    """Marks a model the business tunes: only admins may add, change or delete its rows.

    The permission backend reads this marker (accounts.permissions.admin_only_permissions), so a
    later app's zones, packs or thresholds are protected by subclassing it, with nothing else to
    declare.
    """

    class Meta:
        abstract = True


class SingletonModel(models.Model):
    """A table of exactly one row (pk 1), created on first read."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


def validate_email_list(value: str) -> None:
    for address in split_email_list(value):
        validate_email(address)


def split_email_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


class SiteSettings(SingletonModel, SettingsModel):
    company_name = models.CharField(_("company name"), max_length=120, default="ComAdvisor")
    support_email = models.EmailField(
        _("support e-mail"),
        blank=True,
        help_text=_("Shown to users who need help; replies to notifications go there."),
    )
    notification_emails = models.TextField(
        _("administrators' notification addresses"),
        blank=True,
        validators=[validate_email_list],
        help_text=_("Comma-separated addresses that receive operational alerts."),
    )

    class Meta:
        verbose_name = _("site settings")
        verbose_name_plural = _("site settings")

    def __str__(self) -> str:
        return str(_("Site settings"))

    @property
    def notification_addresses(self) -> list[str]:
        return split_email_list(self.notification_emails)


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker proved it was alive by running the heartbeat task."""

    hostname = models.CharField(_("worker"), max_length=255, unique=True)
    seen_at = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.hostname


class EmailTemplate(SettingsModel):
    """An admin-edited, translated notification: subject and body with named placeholders.

    Placeholders are written `{{ name }}`; every template lists the ones it receives. Rows are
    created by the data migrations of the apps that send them, and only their wording is edited.
    """

    key = models.SlugField(_("key"), max_length=80, unique=True)
    description = models.CharField(_("used for"), max_length=200)
    placeholders = models.CharField(
        _("placeholders"),
        max_length=500,
        blank=True,
        help_text=_("Names available in the subject and body, written {{ name }}."),
    )
    subject_fr = models.CharField(_("subject (French)"), max_length=200)
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    body_fr = models.TextField(_("body (French)"))
    body_en = models.TextField(_("body (English)"))

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.description or self.key
