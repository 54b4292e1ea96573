from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountState(models.TextChoices):
    OK = "ok", _("OK")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    ERROR = "error", _("Error")


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class TaskState(models.TextChoices):
    OPEN = "open", _("To answer")
    ANSWERED = "answered", _("Answered")
