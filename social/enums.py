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


class ErrorCode(models.TextChoices):
    """What went wrong with a connector call, shown translated; the platform's own words are
    kept beside it as the error's detail."""

    RETRY_LATER = "retry_later", _("The platform did not answer; the call will be tried again.")
    RATE_LIMITED = "rate_limited", _("The platform's rate limit was reached; calls resume later.")
    BUDGET = "budget", _("The desk's call budget for this platform is spent; calls resume later.")
    NEEDS_RECONNECT = (
        "needs_reconnect",
        _("The platform refused the access: reconnect the account."),
    )
    PERMANENT = "permanent", _("The platform refused the request.")
    METRICS_REFUSED = (
        "metrics_refused",
        _("The platform refused some metrics; the others were stored."),
    )
    INTERRUPTED = "interrupted", _("The publication was interrupted; it is tried again.")
    INTERRUPTED_LAST = (
        "interrupted_last",
        _("The publication was interrupted at its last attempt: use Retry to try again."),
    )
    # Anything a connector raised that is none of the four outcomes (an answer it misread, a
    # bug): recorded as a permanent error, the traceback in the log.
    UNEXPECTED = (
        "unexpected",
        _("The desk could not handle the platform's answer; the error is logged for the team."),
    )
    DISCONNECTED = "disconnected", _("Disconnected: reconnect the account to fetch again.")
