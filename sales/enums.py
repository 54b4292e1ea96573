from django.db import models
from django.utils.translation import gettext_lazy as _


class Network(models.TextChoices):
    FACEBOOK = "facebook", _("Facebook")
    INSTAGRAM = "instagram", _("Instagram")
    GOOGLE = "google", _("Google Business Profile")
    TRIPADVISOR = "tripadvisor", _("TripAdvisor")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")


class VisitKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    AGENCY = "agency", _("Agency")


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Stage(models.TextChoices):
    NEW = "new", _("New")
    MEETING = "meeting", _("Meeting")
    PROPOSAL = "proposal", _("Proposal sent")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


OPEN_STAGES = (Stage.NEW, Stage.MEETING, Stage.PROPOSAL, Stage.NEGOTIATION)


class NodeKind(models.TextChoices):
    RADIO = "radio", _("Group: one choice")
    CHECKBOX = "checkbox", _("Group: several choices")
    OPTION = "option", _("Option")


class SyncState(models.TextChoices):
    OK = "ok", _("OK")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    ERROR = "error", _("Error")


class EventSync(models.TextChoices):
    NOT_SYNCED = "", _("Not synchronised")
    PENDING = "pending", _("Waiting to be sent")
    SYNCED = "synced", _("Synchronised")
    FAILED = "failed", _("Failed")
