"""Integration ("automate"): stored envelopes applied through the CRM and sales services.

Invariants:
- per device, envelopes are decided in `seq` order; an envelope waits (pending) until every
  lower `seq` of its device is decided, so a gap holds the later ones until it is filled;
- one database transaction per envelope: the service calls, the envelope's new state, its
  journal row and the device's cursor commit together or not at all, so a crash leaves the
  earlier envelopes integrated and the rest pending, and a rerun goes on from there;
- a name is applied once: an integrator claims a device for its whole run (a PostgreSQL
  advisory lock taken without waiting, so two integrators share the devices instead of queueing
  on one); each envelope's transaction starts by moving the device's cursor with a guarded
  UPDATE (last_seq = n - 1), which takes the device row's lock and rolls back what anyone else
  decided meanwhile; the envelope's outcome is written only while it is still pending, and the
  journal's unique name would refuse a second application anyway;
- an envelope that cannot be applied is quarantined with its reason, the others go on; nothing
  is dropped: every stored name ends integrated, quarantined, discarded or stays pending.
"""

import functools
import logging
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from comadvisor.transactions import whole_or_nothing
from crm import scope as crm_scope
from crm import services as crm_services
from crm.enums import RequestStatus, RestaurantStatus
from crm.models import ConversionRequest, CustomField, Restaurant
from field.enums import Action, EnvelopeState, Flag, Reason
from field.envelopes import Invalid, check_envelope, parse_date, parse_time
from field.models import Device, Envelope, FieldSettings, JournalEntry
from field.prospects import (
    CONVERSION_FIELDS,
    check_fields,
    comparable,
    restaurant_values,
    service_data,
)
from sales import services as sales_services
from sales.enums import VisitKind
from sales.models import Pack, SalesSettings

logger = logging.getLogger(__name__)

# Timeline entries of visits recorded from the field kit carry this origin.
FIELD_ORIGIN = "field"
# A save stamps `updated_at` a moment before it writes its history row: the first row within this
# margin after `base_version` is that save, whose values the agent's data already shows.
BASE_MARGIN = timedelta(seconds=1)
PAYMENT_FIELDS = {"payment_mode", "payment_days", "iban", "bic", "signature"}


@dataclass
class Outcome:
    restaurant: Restaurant | None = None
    note: str = ""
    flag: str = ""


@dataclass
class RunReport:
    integrated: int = 0
    quarantined: list[Envelope] = field(default_factory=list)
    agents: set[int] = field(default_factory=set)

    @property
    def decided(self) -> int:
        return self.integrated + len(self.quarantined)


# --- Running -----------------------------------------------------------------------------------


def integrate(*, agent_ids: Iterable[int] | None = None, notify: bool = True) -> RunReport:
    """Integrate every device with pending envelopes (of `agent_ids` when given), then mark the
    touched agents' snapshots for rebuilding and tell the admins of the quarantined ones."""
    devices = Device.objects.filter(envelopes__state=EnvelopeState.PENDING)
    if agent_ids is not None:
        devices = devices.filter(agent_id__in=list(agent_ids))
    report = RunReport()
    context = _Context()
    try:
        with _commits_without_waiting_for_disk():
            for device_id in devices.order_by("pk").values_list("pk", flat=True).distinct():
                integrate_device(device_id=device_id, report=report, context=context)
    finally:
        # What was committed before a crash still gets its follow-up.
        _after_run(report, notify=notify)
    return report


@contextmanager
def _commits_without_waiting_for_disk():
    """On PostgreSQL, the run's commits do not wait for the WAL to reach the disk
    (synchronous_commit off, for this connection and this run only). A server crash may then
    lose the last fraction of a second of integrations, never half of one (each transaction is
    still atomic): those envelopes are stored durably since their upload and are pending again,
    so the next run integrates them, once. Per-envelope transactions otherwise spend most of
    their time waiting for the disk."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _after_run(report: RunReport, *, notify: bool) -> None:
    from field import services

    if report.agents:
        services.snapshots_mark_stale(agent_ids=report.agents)
    if notify and report.quarantined:
        services.notify_quarantined(report.quarantined)


# Session-level advisory locks of PostgreSQL, (class, device id): the class keeps them apart from
# any other lock of the database.
DEVICE_LOCK_CLASS = 70_415
# Envelopes read at once from a device's queue (each is still decided in its own transaction).
BATCH = 500


class _Moved(Exception):
    """Someone else decided for the device meanwhile (an admin's discard or skipped numbers, or
    another integrator on SQLite): this transaction is rolled back and the queue read again."""


@contextmanager
def _device_claim(device_id: int):
    """The integrators' mutex per device, held for a whole run of its queue: on PostgreSQL a
    session advisory lock taken without waiting (another integrator holding it makes this one
    move on to the next device). Elsewhere there is no lock: SQLite serialises writers, and the
    guarded cursor update makes a second integrator's work roll back anyway."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [DEVICE_LOCK_CLASS, device_id])
        claimed = cursor.fetchone()[0]
    try:
        yield claimed
    finally:
        if claimed:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [DEVICE_LOCK_CLASS, device_id])


def integrate_device(*, device_id: int, report: RunReport, context: "_Context") -> None:
    """Decide the device's envelopes in sequence order, one transaction each, until a gap (or
    another integrator holding the device) stops it."""
    with _device_claim(device_id) as claimed:
        if not claimed:
            return
        while _integrate_queue(device_id=device_id, report=report, context=context):
            pass


def _integrate_queue(*, device_id: int, report: RunReport, context: "_Context") -> bool:
    """Decide what can be decided of the device's pending envelopes, read once; True when the
    queue should be read again (more may be waiting, or someone else moved the device)."""
    last_seq = Device.objects.filter(pk=device_id).values_list("last_seq", flat=True).first()
    if last_seq is None:
        return False
    queue = list(
        Envelope.objects.filter(device_id=device_id, state=EnvelopeState.PENDING)
        .select_related("device")
        .defer("raw")  # the received copy; integration reads the parsed columns
        .order_by("seq", "received_at", "id")[:BATCH]
    )
    if not queue:
        return False
    try:
        for envelope in queue:
            expected = last_seq + 1
            if envelope.seq < expected:
                # A number already decided under another name (a client that reused it): kept
                # and shown, never applied in the wrong place.
                _decide_alone(
                    envelope,
                    report=report,
                    code=Reason.SEQUENCE,
                    reason=_("sequence number %(seq)d of device %(device)s was already used")
                    % {"seq": envelope.seq, "device": envelope.device.device},
                )
                continue
            while envelope.seq > expected and _fill_decided_gap(device_id, expected):
                expected += 1
            if envelope.seq > expected:
                # A gap: the later envelopes wait until it is filled (the upload that fills it
                # starts a run, and the schedule runs anyway).
                return False
            _integrate_one(envelope, seq=expected, report=report, context=context)
            last_seq = expected
    except _Moved:
        return True
    return len(queue) == BATCH  # a full read: more may be waiting


def _advance(device_id: int, seq: int) -> None:
    """Move the device's cursor to `seq`, inside the envelope's transaction: the row lock this
    takes serialises with the admins' changes, and the condition refuses a cursor that moved."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Device._meta.db_table} SET last_seq = %s WHERE id = %s AND last_seq = %s",
            [seq, device_id, seq - 1],
        )
        if cursor.rowcount != 1:
            raise _Moved


def _fill_decided_gap(device_id: int, seq: int) -> bool:
    """A number decided otherwise while it waited (an admin discarded it) fills the gap; one
    received after the queue was read is read with it (the queue is read again)."""
    states = set(
        Envelope.objects.filter(device_id=device_id, seq=seq).values_list("state", flat=True)
    )
    if not states:
        return False
    if EnvelopeState.PENDING in states:
        raise _Moved
    with transaction.atomic():
        _advance(device_id, seq)
    return True


def _integrate_one(envelope: Envelope, *, seq: int, report: RunReport, context: "_Context") -> None:
    """One envelope, one transaction: the services' writes, the envelope's outcome, its journal
    row and the device's cursor commit together. A refusal rolls it all back; the quarantine is
    then written by a transaction of its own (the common case needs no savepoint)."""
    try:
        with transaction.atomic():
            _advance(envelope.device_id, seq)
            # A refusal rolls the whole transaction back: the services need no savepoints.
            with whole_or_nothing():
                outcome = _attempt(envelope, context=context)
            decide(
                envelope,
                state=EnvelopeState.INTEGRATED,
                restaurant=outcome.restaurant,
                note=outcome.note,
                flag=outcome.flag,
                first=True,
            )
    except Refusal as refusal:
        with transaction.atomic():
            _advance(envelope.device_id, seq)
            decide(
                envelope,
                state=EnvelopeState.QUARANTINED,
                code=refusal.code,
                reason=refusal.reason,
                note=refusal.detail,
                first=True,
            )
        report.quarantined.append(envelope)
    else:
        report.integrated += 1
    report.agents.add(envelope.agent_id)


def _decide_alone(envelope: Envelope, *, report: RunReport, code: str, reason: str) -> None:
    with transaction.atomic():
        decide(envelope, state=EnvelopeState.QUARANTINED, code=code, reason=reason, first=True)
    report.quarantined.append(envelope)
    report.agents.add(envelope.agent_id)


@transaction.atomic
def envelope_retry(*, envelope_id: int, by: User) -> Envelope:
    """Apply a quarantined envelope again (an admin fixed it), outside the sequence: its device
    has moved past it when it was quarantined."""
    envelope = Envelope.objects.get(pk=envelope_id)
    Device.objects.select_for_update().get(pk=envelope.device_id)
    envelope = Envelope.objects.select_for_update().select_related("device").get(pk=envelope_id)
    if envelope.state != EnvelopeState.QUARANTINED:
        raise ValidationError(_("Only a quarantined envelope can be retried."))
    try:
        with transaction.atomic():
            outcome = _attempt(envelope, context=_Context())
    except Refusal as refusal:
        decide(
            envelope,
            state=EnvelopeState.QUARANTINED,
            code=refusal.code,
            reason=refusal.reason,
            note=refusal.detail,
            by=by,
        )
    else:
        decide(
            envelope,
            state=EnvelopeState.INTEGRATED,
            by=by,
            restaurant=outcome.restaurant,
            note=outcome.note,
            flag=outcome.flag,
        )
    from field import services

    services.snapshots_mark_stale(agent_ids=[envelope.agent_id])
    return envelope


class Refusal(Exception):
    """An envelope that cannot be applied, with the reason it is quarantined for (which the
    agent reads) and, for the administrators only, the technical detail (the envelope's note)."""

    def __init__(self, envelope_id: int, code: str, reason: str, detail: str = ""):
        super().__init__(reason)
        self.envelope_id, self.code, self.reason = envelope_id, code, reason
        self.detail = detail


class _Context:
    """What a run reads once: the agents (their permission caches), the settings, and the
    statements that read the envelopes' restaurants."""

    def __init__(self) -> None:
        self.agents: dict[int, User] = {}
        self._restaurant_reads: dict[tuple[str, bool], _RowRead] = {}
        self.settings = FieldSettings.load()
        self._backdate_days: int | None = self.settings.visit_backdate_days
        self.custom_labels = {
            f"cf_{key}": label for key, label in CustomField.objects.values_list("key", "label")
        }

    def agent(self, agent_id: int) -> User:
        if agent_id not in self.agents:
            self.agents[agent_id] = User.objects.get(pk=agent_id)
        return self.agents[agent_id]

    @property
    def backdate_days(self) -> int:
        if self._backdate_days is None:
            self._backdate_days = SalesSettings.load().visit_backdate_days
        return self._backdate_days

    def restaurant(self, column: str, value: Any, *, lock: bool = False) -> Restaurant | None:
        """The restaurant whose unique `column` ("pk" or "field_client_id") is `value`, None
        when there is none; locked (FOR UPDATE) with `lock`."""
        read = self._restaurant_reads.get((column, lock))
        if read is None:
            read = self._restaurant_reads[column, lock] = _RowRead(Restaurant, column, lock=lock)
        return read.get(value)


class _RowRead:
    """A model instance by a unique column, as `Model.objects.get` reads it (same statement,
    same conversions, `from_db`), with the statement compiled once: compiling the ORM query of
    a restaurant's 36 columns took three times as long as running it, at each envelope.
    Compiled at its first use, since FOR UPDATE compiles inside a transaction only."""

    # Any value of the column's type, to compile the statement with: each read binds its own.
    COMPILE_WITH = {"pk": 0, "field_client_id": uuid.UUID(int=0)}

    def __init__(self, model: type, column: str, *, lock: bool) -> None:
        self.model, self.column, self.lock = model, column, lock
        self.field = model._meta.pk if column == "pk" else model._meta.get_field(column)
        self.sql: str | None = None

    def _compile(self) -> None:
        queryset = self.model._default_manager.filter(
            **{self.column: self.COMPILE_WITH[self.column]}
        ).order_by()
        if self.lock:
            queryset = queryset.select_for_update()
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if len(params) != 1:
            raise ValueError(f"one parameter expected in {sql}")
        columns = [column for column, _sql, _alias in compiler.select]
        self.attnames = [column.target.attname for column in columns]
        self.converters = compiler.get_converters(columns)
        self.db, self.sql = queryset.db, sql

    def get(self, value: Any):
        if self.sql is None:
            self._compile()
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [self.field.get_db_prep_value(value, connection)])
            row = cursor.fetchone()
        if row is None:
            return None
        if self.converters:
            row = list(row)
            for position, (converters, expression) in self.converters.items():
                for converter in converters:
                    row[position] = converter(row[position], expression, connection)
        return self.model.from_db(self.db, self.attnames, row)


def _attempt(envelope: Envelope, *, context: _Context) -> Outcome:
    """Apply one envelope through the services, or raise Refusal with the reason. A database
    failure other than a constraint propagates: the envelope stays pending."""
    agent = context.agent(envelope.agent_id)
    envelope.agent = agent
    detail = ""
    with translation.override(agent.language or None):
        try:
            check_envelope(envelope)
            if not agent.is_active or not agent.has_perm("field.use_field_kit"):
                raise Invalid(Reason.RIGHTS, _("the agent may no longer use the field kit"))
            return APPLIERS[envelope.action](envelope, agent, context)
        except Invalid as error:
            code, reason = error.code, error.message
        except PermissionDenied as error:
            code = Reason.RIGHTS
            reason = str(error) or _("you may not do this on this restaurant")
        except ValidationError as error:
            # Read nothing from the database here: a service's failure may have marked the
            # transaction for rollback (no savepoints under whole_or_nothing).
            code, reason = _validation_reason(error, custom_labels=context.custom_labels)
        # The database's and Python's own words (constraint and column names, values, a
        # traceback's last line) are for the administrators: the envelope's note and the log.
        # The agent reads a reason in their language.
        except IntegrityError as error:
            logger.warning("Envelope %s refused by the database: %s", envelope.name, error)
            code = Reason.RULES
            reason = _("the database refused this change: it conflicts with data already there")
            detail = f"{type(error).__name__}: {error}"
        except DataError as error:  # a value its column cannot hold: this envelope's, not a fault
            logger.warning("Envelope %s holds a value the database refused: %s", envelope.name,
                           error)  # fmt: skip
            code, reason = Reason.RULES, _("a value is too long or out of range")
            detail = f"{type(error).__name__}: {error}"
        except DatabaseError:
            raise
        except Exception as error:  # a defect must not hold the device's later envelopes
            logger.exception("Envelope %s failed", envelope.name)
            code = Reason.ERROR
            reason = _("an unexpected error stopped this change; the administrators were told")
            detail = f"{type(error).__name__}: {error}"
    raise Refusal(envelope.pk, code, reason, detail)


def _validation_reason(
    error: ValidationError, *, custom_labels: dict[str, str] | None = None
) -> tuple[str, str]:
    if hasattr(error, "error_dict"):
        keys = set(error.error_dict)
        parts = []
        for key, messages in error.message_dict.items():
            label = _field_label(key, custom_labels=custom_labels)
            text = "; ".join(messages)
            parts.append(text if key == "__all__" else f"{label}: {text}")
        code = Reason.PAYMENT if keys & PAYMENT_FIELDS else Reason.RULES
        return code, " — ".join(parts)
    return Reason.RULES, "; ".join(error.messages)


# What the services' errors name that is no restaurant field: the visit's and the client
# creation's own inputs.
OTHER_LABELS = {
    "day": gettext_lazy("Date of the visit"),
    "start": gettext_lazy("Date of the visit"),
    "end": gettext_lazy("End of the visit"),
    "answers": gettext_lazy("Answers to the visit form"),
    "kind": gettext_lazy("Kind of visit"),
    "report": gettext_lazy("Report"),
    "revisit_date": gettext_lazy("Revisit date"),
    "pack_offered": gettext_lazy("Pack offered"),
    "signature": gettext_lazy("Signature"),
    "comment": gettext_lazy("Comment"),
    "changes": gettext_lazy("Changes"),
}


def _field_label(name: str, *, custom_labels: dict[str, str] | None = None) -> str:
    """The translated label of a field an error names (the key itself for an unknown one);
    `custom_labels` answers for the admin-defined fields without a query."""
    if name in OTHER_LABELS:
        return str(OTHER_LABELS[name])
    if custom_labels is not None and name.startswith("cf_"):
        return custom_labels.get(name, name)
    try:
        return crm_services.field_label(name)
    except FieldDoesNotExist:
        from crm.models import ConversionRequest

        try:
            return str(ConversionRequest._meta.get_field(name).verbose_name).capitalize()
        except FieldDoesNotExist:
            return name


def decide(
    envelope: Envelope,
    *,
    state: str,
    code: str = "",
    reason: str = "",
    by: User | None = None,
    restaurant: Restaurant | None = None,
    note: str = "",
    flag: str = "",
    first: bool = False,
) -> None:
    """Record an envelope's outcome on it and in the journal (one row per name; a later
    decision by an admin updates the row and keeps the earlier one in its history). `first`:
    the envelope was pending and never decided, so its journal row is new."""
    first = first or (envelope.attempts == 0 and envelope.state == EnvelopeState.PENDING)
    now = timezone.now()
    envelope.state = state
    envelope.reason_code = code if state != EnvelopeState.INTEGRATED else ""
    envelope.reason = reason if state != EnvelopeState.INTEGRATED else ""
    envelope.decided_at = now
    envelope.restaurant = restaurant
    envelope.note = note
    envelope.flag = flag
    envelope.attempts += state != EnvelopeState.DISCARDED
    fields = ["state", "reason_code", "reason", "decided_at", "restaurant", "note", "flag",
              "attempts"]  # fmt: skip
    if first:
        # Only a still pending envelope: an admin may have discarded it since it was read.
        if connection.vendor == "postgresql":
            _decide_first_in_one_statement(envelope, fields=fields, reason=reason, by=by, at=now)
            return
        updated = Envelope.objects.filter(pk=envelope.pk, state=EnvelopeState.PENDING).update(
            **{name: getattr(envelope, name) for name in fields}
        )
        if not updated:
            raise _Moved
    else:
        envelope.save(update_fields=fields)
    entry = None if first else JournalEntry.objects.filter(envelope=envelope).first()
    if entry is None:
        JournalEntry.objects.create(
            name=envelope.name, envelope=envelope, outcome=state, reason=reason, at=now, by=by
        )
        return
    if entry.outcome == EnvelopeState.INTEGRATED:
        # The last guard: an integrated name is never decided again.
        raise IntegrityError(f"{envelope.name} is already integrated")
    entry.history = [
        *entry.history,
        {"outcome": entry.outcome, "reason": entry.reason, "at": entry.at.isoformat(),
         "by": entry.by_id},
    ]  # fmt: skip
    entry.outcome, entry.reason, entry.at, entry.by = state, reason, now, by
    entry.save(update_fields=["history", "outcome", "reason", "at", "by"])


def _decide_first_in_one_statement(
    envelope: Envelope, *, fields: list[str], reason: str, by: User | None, at: datetime
) -> None:
    """PostgreSQL: the pending envelope's outcome and its new journal row in one statement (the
    busiest two writes of the integration), with the same effect as the ORM path below."""
    columns = [Envelope._meta.get_field(name) for name in fields]
    values = [field.get_db_prep_save(getattr(envelope, field.attname), connection)
              for field in columns]  # fmt: skip
    params = [*values, envelope.pk, EnvelopeState.PENDING, envelope.state, reason, at,
              by.pk if by else None]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_decide_first_sql(tuple(fields)), params)
        if cursor.rowcount != 1:
            raise _Moved


@functools.cache
def _decide_first_sql(fields: tuple[str, ...]) -> str:
    """The statement of `_decide_first_in_one_statement`, written once per list of fields."""
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(Envelope._meta.get_field(name).column)} = %s"
                            for name in fields)  # fmt: skip
    envelopes, journal = Envelope._meta.db_table, JournalEntry._meta.db_table
    return (
        f"WITH decided AS (UPDATE {envelopes} SET {assignments} "
        f"WHERE id = %s AND state = %s RETURNING id, name) "
        f"INSERT INTO {journal} (name, envelope_id, outcome, reason, at, by_id, history) "
        f"SELECT name, id, %s, %s, %s, %s, '[]'::jsonb FROM decided"
    )


# --- Actions -------------------------------------------------------------------------------


def _restaurant(
    envelope: Envelope,
    agent: User,
    context: _Context,
    *,
    lock: bool = False,
    check_scope: bool = True,
) -> Restaurant:
    """The restaurant the envelope is about, by id or by the offline id of its creation; one
    outside the agent's scope is refused, not revealed (`check_scope=False` where the service
    called next checks it itself)."""
    if envelope.entity_id is not None:
        restaurant = context.restaurant("pk", envelope.entity_id, lock=lock)
    else:  # both lookups are unique
        restaurant = context.restaurant("field_client_id", envelope.entity_client_id, lock=lock)
    if restaurant is None:
        raise Invalid(
            Reason.NOT_FOUND,
            _("the restaurant no longer exists or its creation was not integrated"),
        ) from None
    if check_scope and not crm_scope.sees(agent, restaurant):
        raise Invalid(Reason.RIGHTS, _("this restaurant is not in your portfolio"))
    return restaurant


def _text(payload: dict, key: str) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(Reason.SCHEMA, _("%(key)s must be text") % {"key": key})
    return value


def _answers(value: Any) -> list[int]:
    """{"<group id>": ["<option id>", …]} (ids as strings or numbers) -> the option ids."""
    if value in (None, {}, []):
        return []
    chosen: list[Any] = []
    if isinstance(value, dict):
        for group, options in value.items():
            if not str(group).isdigit() or not isinstance(options, list):
                raise Invalid(Reason.SCHEMA, _("the visit form's answers are unreadable"))
            chosen += options
    elif isinstance(value, list):
        chosen = value
    else:
        raise Invalid(Reason.SCHEMA, _("the visit form's answers are unreadable"))
    if not all(isinstance(option, int | str) and str(option).isdigit() for option in chosen):
        raise Invalid(Reason.SCHEMA, _("the visit form's answers are unreadable"))
    return [int(option) for option in chosen]


def _visit(envelope: Envelope, agent: User, context: _Context) -> Outcome:
    # The sales service refuses a restaurant outside the agent's scope.
    restaurant = _restaurant(envelope, agent, context, check_scope=False)
    payload = envelope.payload
    day = parse_date(payload.get("date"), "date")
    if day is None:
        raise Invalid(Reason.SCHEMA, _("a visit needs its date"))
    kind = payload.get("kind") or VisitKind.VISIT
    if kind not in VisitKind.values:
        raise Invalid(Reason.SCHEMA, _("unknown visit kind %(kind)s") % {"kind": kind})
    pack = None
    if payload.get("pack_offered"):
        pack = Pack.objects.filter(code=str(payload["pack_offered"])).first()
        if pack is None:
            raise Invalid(
                Reason.RULES, _("unknown pack %(code)s") % {"code": payload["pack_offered"]}
            )
    sales_services.visit_record_today(
        restaurant=restaurant,
        by=agent,
        day=day,
        kind=kind,
        report=_text(payload, "report"),
        answers=_answers(payload.get("answers")),
        pack_offered=pack,
        revisit_date=parse_date(payload.get("revisit_date"), "revisit_date"),
        origin=FIELD_ORIGIN,
        backdate_days=context.backdate_days,
        # Made offline, maybe days before the sync: the bound counts from then. The device's
        # clock is believed up to the moment the server received the envelope, never beyond.
        made_at=min(envelope.made_at or envelope.received_at, envelope.received_at),
    )
    return Outcome(restaurant=restaurant)


def _change_request(envelope: Envelope, agent: User, context: _Context) -> Outcome:
    restaurant = _restaurant(envelope, agent, context)
    changes = envelope.payload.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise Invalid(Reason.SCHEMA, _("a change request needs its changes"))
    unknown = sorted(set(changes) - set(crm_services.CHANGE_REQUEST_FIELDS))
    if unknown:
        raise Invalid(
            Reason.RULES,
            _("these fields cannot be changed by a request: %(fields)s")
            % {"fields": ", ".join(unknown)},
        )
    check_fields(changes, label="changes")
    values = service_data(changes)
    crm_services.change_request_create(
        restaurant=restaurant, by=agent, values=values, comment=_text(envelope.payload, "comment")
    )
    return Outcome(restaurant=restaurant)


def _prospect_create(envelope: Envelope, agent: User, context: _Context) -> Outcome:
    client_id = envelope.entity_client_id
    fields = check_fields(envelope.payload.get("fields"))
    if not str(fields.get("name") or "").strip():
        raise Invalid(Reason.SCHEMA, _("a prospect needs its name"))
    data = service_data(fields)
    custom = envelope.payload.get("custom") or {}
    if not isinstance(custom, dict):
        raise Invalid(Reason.SCHEMA, _("custom must be an object"))
    # Created even when it looks like another restaurant: kept, not lost, and flagged for the
    # agent and the admins to sort out.
    restaurant = crm_services.restaurant_create(
        by=agent, data=data, custom=custom, confirm_duplicates=True, field_client_id=client_id
    )
    matches, hidden = crm_services.restaurant_duplicates(
        user=agent,
        phone=restaurant.phone,
        siret=restaurant.siret,
        name=restaurant.name,
        city=restaurant.city,
        exclude_pk=restaurant.pk,
    )
    if not matches and not hidden:
        return Outcome(restaurant=restaurant)
    parts = [f"#{match.pk} {match}" for match in matches]
    if hidden:
        parts.append(_("%(count)d restaurant(s) of a colleague's portfolio") % {"count": hidden})
    note = _("Possible duplicate of: %(matches)s") % {"matches": "; ".join(parts)}
    crm_services.activity_record(
        restaurant=restaurant, by=agent, subject=_("Created offline: possible duplicate"), body=note
    )
    return Outcome(restaurant=restaurant, note=note, flag=Flag.DUPLICATE)


def _changed_by_others(
    restaurant: Restaurant,
    *,
    agent: User,
    base_version: datetime | None,
    fields: Iterable[str] | None,
) -> list[str]:
    """The fields (among `fields`, or any when None) someone other than `agent` changed on the
    server after `base_version` (after its creation when None), read from its history."""
    tracked = _tracked_fields()
    wanted = tracked if fields is None else {a: n for a, n in tracked.items() if n in fields}
    # Only the columns compared, as plain rows: a prospect's history may be long.
    history = restaurant.history.order_by("history_date", "history_id").values(
        "history_date", "history_user_id", *wanted
    )
    if base_version is None:  # made on the device before it knew any server version
        after = list(history)
        previous = after.pop(0) if after else None
    elif (after := list(history.filter(history_date__gte=base_version))) and (
        after[0]["history_date"] - base_version <= BASE_MARGIN
    ):
        # The save that stamped `base_version`: what the agent's data already shows.
        previous = after.pop(0)
    else:
        previous = history.filter(history_date__lt=base_version).last()
    changed: list[str] = []
    for record in after:
        if previous is not None and record["history_user_id"] != agent.pk:
            for attname, name in wanted.items():
                if record[attname] != previous[attname] and name not in changed:
                    changed.append(name)
        previous = record
    return changed


@functools.cache
def _tracked_fields() -> dict[str, str]:
    """The restaurant's fields its history keeps (column -> field name)."""
    model = Restaurant.history.model
    return {
        field.attname: field.name
        for field in model._meta.fields
        if field.name != "id" and not field.name.startswith("history_")
    }


def _prospect(envelope: Envelope, agent: User, context: _Context, *, action: str) -> Restaurant:
    restaurant = _restaurant(envelope, agent, context, lock=True)
    if restaurant.status != RestaurantStatus.PROSPECT:
        raise Invalid(
            Reason.CONFLICT,
            _("%(name)s has become a client meanwhile (%(action)s refused)")
            % {"name": restaurant.name, "action": action},
        )
    return restaurant


def _prospect_update(envelope: Envelope, agent: User, context: _Context) -> Outcome:
    """Field by field: a field someone else changed on the server since the agent's version,
    to another value than the agent's, is a conflict; the others are applied."""
    restaurant = _prospect(envelope, agent, context, action=Action.PROSPECT_UPDATE)
    fields = check_fields(envelope.payload.get("fields"))
    if not fields:
        raise Invalid(Reason.SCHEMA, _("nothing to change"))
    country = str(fields.get("country") or restaurant.country or "FR")
    current = restaurant_values(restaurant)
    wanted = {name: comparable(name, value, country) for name, value in fields.items()}
    differing = [name for name in fields if current[name] != wanted[name]]
    if not differing:
        return Outcome(restaurant=restaurant, note=_("no change: the values were already there"))
    base_version = parse_time(envelope.base_version)
    touched = _changed_by_others(
        restaurant, agent=agent, base_version=base_version, fields=differing
    )
    if touched:
        raise Invalid(
            Reason.CONFLICT,
            _("changed on the server since your version: %(fields)s")
            % {
                "fields": "; ".join(
                    _("%(field)s is now “%(server)s”, yours “%(yours)s”")
                    % {
                        "field": _field_label(name),
                        "server": current[name] if current[name] is not None else "",
                        "yours": fields[name] if fields[name] is not None else "",
                    }
                    for name in touched
                )
            },
        )
    crm_services.restaurant_update(
        restaurant=restaurant, by=agent, data=service_data({n: fields[n] for n in differing})
    )
    return Outcome(restaurant=restaurant)


def _prospect_delete(envelope: Envelope, agent: User, context: _Context) -> Outcome:
    restaurant = _prospect(envelope, agent, context, action=Action.PROSPECT_DELETE)
    if ConversionRequest.objects.filter(
        restaurant=restaurant, status=RequestStatus.PENDING
    ).exists():
        raise Invalid(
            Reason.CONFLICT, _("a client creation is pending for this prospect: not deleted")
        )
    touched = _changed_by_others(
        restaurant, agent=agent, base_version=parse_time(envelope.base_version), fields=None
    )
    if touched:
        raise Invalid(
            Reason.CONFLICT,
            _("changed on the server since your version (%(fields)s): not deleted")
            % {"fields": ", ".join(_field_label(name) for name in touched)},
        )
    note = _("Deleted: #%(id)d %(name)s") % {"id": restaurant.pk, "name": restaurant.name}
    crm_services.restaurant_delete(restaurant=restaurant, by=agent)
    return Outcome(note=note)


def _conversion_request(envelope: Envelope, agent: User, context: _Context) -> Outcome:
    """The mandatory fields are written on the prospect, then the request is made with its
    payment terms; a refusal of either undoes both (one envelope, validated whole)."""
    restaurant = _prospect(envelope, agent, context, action=Action.CONVERSION_REQUEST)
    payload = envelope.payload
    fields = check_fields(payload.get("fields") or {}, allowed=CONVERSION_FIELDS)
    country = str(fields.get("country") or restaurant.country or "FR")
    current = restaurant_values(restaurant, fields=fields)
    differing = {
        name: value
        for name, value in fields.items()
        if current[name] != comparable(name, value, country)
    }
    if differing:
        crm_services.restaurant_update(
            restaurant=restaurant, by=agent, data=service_data(differing)
        )
    payment_days = payload.get("payment_days")
    if payment_days not in (None, ""):
        try:
            payment_days = int(payment_days)
        except (TypeError, ValueError) as error:
            raise Invalid(Reason.SCHEMA, _("payment_days is not a number")) from error
    else:
        payment_days = None
    crm_services.conversion_request_create(
        restaurant=restaurant,
        by=agent,
        payment_mode=_text(payload, "payment_mode"),
        payment_days=payment_days,
        iban=_text(payload, "iban"),
        bic=_text(payload, "bic"),
        signature=crm_services.decode_signature(_text(payload, "signature")),
        comment=_text(payload, "comment"),
    )
    return Outcome(restaurant=restaurant)


APPLIERS: dict[str, Callable[[Envelope, User, _Context], Outcome]] = {
    Action.VISIT: _visit,
    Action.PROSPECT_VISIT: _visit,
    Action.CHANGE_REQUEST: _change_request,
    Action.PROSPECT_CREATE: _prospect_create,
    Action.PROSPECT_UPDATE: _prospect_update,
    Action.PROSPECT_DELETE: _prospect_delete,
    Action.CONVERSION_REQUEST: _conversion_request,
}
