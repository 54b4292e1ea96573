"""The envelope format of docs/field-envelopes.md: canonical hash, the checks an upload must pass
to be stored, and the checks integration makes before applying one."""

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.utils.translation import gettext as _

from field.enums import Action, Reason

SCHEMA_VERSION = 1
MAX_BATCH = 200
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,120}$")
NAME_TIME_RE = re.compile(r"^(\d{8}T\d{6}Z)_")
DEVICE_RE = re.compile(r"^dev[0-9a-f]{4,12}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
# The largest values the columns hold (integer, bigint): larger ones are not stored as numbers.
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1


def canonical_json(payload: Any) -> str:
    """Keys sorted at every level, no whitespace, non-ASCII as is: what both sides hash."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class Refused(Exception):
    """An upload that is not stored; its reason goes back to the client."""


class Invalid(Exception):
    """A stored envelope that cannot be applied: quarantined with `code` and the message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Upload:
    """What an upload must carry to be stored; the rest is checked when it is integrated."""

    name: str
    agent: str
    device: str
    seq: int
    hash: str
    raw: dict


def check_upload(item: Any) -> Upload:
    """The storable part of one uploaded envelope, or Refused with the reason."""
    if not isinstance(item, dict):
        raise Refused(_("not an envelope"))
    name = item.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise Refused(_("unreadable name"))
    agent, device, seq, digest = (item.get(key) for key in ("agent", "device", "seq", "hash"))
    if not isinstance(agent, str) or not agent:
        raise Refused(_("no agent"))
    if not isinstance(device, str) or not DEVICE_RE.match(device):
        raise Refused(_("unreadable device"))
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_INT:
        raise Refused(_("unreadable sequence number"))
    if not isinstance(digest, str) or not HASH_RE.match(digest):
        raise Refused(_("unreadable hash"))
    if not isinstance(item.get("payload"), dict):
        raise Refused(_("unreadable payload"))
    return Upload(name=name, agent=agent, device=device, seq=seq, hash=digest, raw=item)


def parse_time(value: Any) -> datetime | None:
    """An ISO time with its offset ("Z" accepted), None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def parse_date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise Invalid(
            Reason.SCHEMA, _("%(field)s is not a date (YYYY-MM-DD).") % {"field": field}
        ) from error


ENTITY_KINDS = {
    Action.VISIT: "client",
    Action.CHANGE_REQUEST: "client",
    Action.PROSPECT_VISIT: "prospect",
    Action.PROSPECT_CREATE: "prospect",
    Action.PROSPECT_UPDATE: "prospect",
    Action.PROSPECT_DELETE: "prospect",
    Action.CONVERSION_REQUEST: "prospect",
}


def name_agent(code: str) -> str:
    """The agent code as it appears inside an envelope name (only letters, digits and '-')."""
    return re.sub(r"[^A-Za-z0-9-]", "-", code)


def check_envelope(envelope) -> None:
    """Everything integration needs before it may apply a stored envelope (schema, name, hash,
    entity); Invalid says what is wrong. Reads the stored columns, so an admin's corrections
    (payload, entity) are what is checked."""
    if envelope.schema != SCHEMA_VERSION:
        raise Invalid(Reason.SCHEMA, _("unknown schema %(schema)s") % {"schema": envelope.schema})
    action = envelope.action
    if action not in Action.values:
        raise Invalid(Reason.SCHEMA, _("unknown action %(action)s") % {"action": action})
    middle = (
        f"_{name_agent(envelope.agent.get_username())}_{envelope.device.device}"
        f"_{envelope.seq:06d}_{action}_"
    )
    match = NAME_TIME_RE.match(envelope.name)
    if not match or not envelope.name[match.end() - 1 :].startswith(middle):
        raise Invalid(Reason.SCHEMA, _("the name does not match the envelope's fields"))
    if not isinstance(envelope.payload, dict):
        raise Invalid(Reason.SCHEMA, _("the payload is not an object"))
    # The hash vouches for the content as the device sent it; an admin's correction replaces
    # that guarantee with the admin's own (the original stays in `raw`).
    if envelope.fixed_at is None and payload_hash(envelope.payload) != envelope.hash:
        raise Invalid(Reason.HASH, _("the content does not match its hash"))
    if envelope.entity_kind != ENTITY_KINDS[action]:
        raise Invalid(
            Reason.SCHEMA,
            _("the action %(action)s needs an entity of kind %(kind)s")
            % {"action": action, "kind": ENTITY_KINDS[action]},
        )
    if action == Action.PROSPECT_CREATE:
        if envelope.entity_client_id is None:
            raise Invalid(Reason.SCHEMA, _("a prospect created offline needs its client_id"))
    elif envelope.entity_id is None and envelope.entity_client_id is None:
        raise Invalid(Reason.SCHEMA, _("the envelope does not say which restaurant it is about"))
    # A prospect created offline and changed before any sync has no server version yet: an
    # empty base_version stands for its creation.
    if envelope.base_version and parse_time(envelope.base_version) is None:
        raise Invalid(Reason.SCHEMA, _("base_version is unreadable"))
