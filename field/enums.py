from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    VISIT = "visit", _("Visit on a client")
    PROSPECT_VISIT = "prospect-visit", _("Visit on a prospect")
    CHANGE_REQUEST = "change-request", _("Change request")
    PROSPECT_CREATE = "prospect-create", _("Prospect created")
    PROSPECT_UPDATE = "prospect-update", _("Prospect changed")
    PROSPECT_DELETE = "prospect-delete", _("Prospect deleted")
    CONVERSION_REQUEST = "conversion-request", _("Client creation request")


class EnvelopeState(models.TextChoices):
    PENDING = "pending", _("Pending")
    INTEGRATED = "integrated", _("Integrated")
    QUARANTINED = "quarantined", _("Quarantined")
    DISCARDED = "discarded", _("Discarded")


# What an envelope's state may be once decided (the journal's outcomes).
DECIDED_STATES = (EnvelopeState.INTEGRATED, EnvelopeState.QUARANTINED, EnvelopeState.DISCARDED)


class Reason(models.TextChoices):
    """Why an envelope was quarantined (the admin's filter); the text says the details."""

    SCHEMA = "schema", _("Unreadable or unknown schema")
    HASH = "hash", _("Content does not match its hash")
    SEQUENCE = "sequence", _("Sequence number already used")
    NOT_FOUND = "not_found", _("Unknown restaurant")
    RIGHTS = "rights", _("Not allowed")
    RULES = "rules", _("Business rule")
    PAYMENT = "payment", _("Payment details")
    CONFLICT = "conflict", _("Conflict")
    ERROR = "error", _("Unexpected error")


class Source(models.TextChoices):
    API = "api", _("Upload")
    FOLDER = "folder", _("Drop folder")


class Flag(models.TextChoices):
    NONE = "", _("None")
    DUPLICATE = "duplicate", _("Possible duplicate")


class DropOutcome(models.TextChoices):
    RECEIVED = "received", _("Received")
    DUPLICATE = "duplicate", _("Already received")
    REFUSED = "refused", _("Refused")
