"""An agent's offline data (docs/field-envelopes.md, "Snapshot"): built from plain rows in a
fixed number of queries, stored gzipped with its ETag so that serving it costs one read."""

import gzip
import hashlib
import json
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone, translation

from accounts.enums import RoleName
from accounts.models import User
from crm import services as crm_services
from crm.enums import (
    MANUAL_ACTIVITY_KINDS,
    ContactRole,
    PaymentMode,
    RequestStatus,
    RestaurantStatus,
)
from crm.models import (
    Activity,
    AssetType,
    ContactLink,
    ConversionRequest,
    CrmSettings,
    Restaurant,
    RestaurantAsset,
    Segment,
    Zone,
)
from field.enums import EnvelopeState
from field.envelopes import MAX_BATCH
from field.models import Device, Envelope, FieldSettings, Snapshot
from field.prospects import PROSPECT_FIELDS, iso, json_value
from field.services import may_use_field_kit, snapshots_mark_stale
from sales.enums import ContractStatus, NodeKind, VisitKind, VisitStatus
from sales.models import (
    Contract,
    ContractTerm,
    Invoice,
    Pack,
    SalesSettings,
    Visit,
    VisitFormNode,
    add_months,
    first_of_month,
)

_COMMON = (
    "id", "name", "address", "address_complement", "postal_code", "city", "country", "phone",
    "email", "website", "siret", "vat_number", "segment__code", "zone__name", "status",
    "revisit_date", "last_visit_at", "payment_mode", "payment_days", "updated_at", "sales_agent_id",
)  # fmt: skip


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match holds the ETag (weak comparison, lists and * accepted)."""
    candidates = [part.strip() for part in header.split(",") if part.strip()]
    bare = etag.removeprefix("W/")
    return any(c == "*" or c.removeprefix("W/") == bare for c in candidates)


def snapshot_current(*, agent: User) -> Snapshot:
    """The stored snapshot, rebuilt first when missing, marked stale (an integration, a
    conversion) or outdated (`snapshot_outdated`)."""
    snapshot = Snapshot.objects.filter(agent=agent).first()
    if snapshot is None or snapshot.stale or snapshot_outdated(snapshot=snapshot, agent=agent):
        snapshot = snapshot_rebuild(agent=agent)
    return snapshot


# A snapshot read when older than this share of the freshness limit is rebuilt first: an agent
# who synchronises (every two minutes while online) never holds data near the limit, whether the
# nightly rebuild is on or not, and the web's changes reach them within that time at the latest.
REBUILD_SHARE = 0.5


def _admin_lists() -> list:
    """The models whose rows the snapshot copies as lists and settings, edited in the admin."""
    return [
        FieldSettings,
        SalesSettings,
        CrmSettings,
        VisitFormNode,
        Pack,
        Segment,
        Zone,
        AssetType,
    ]


# Past this many restaurants changed (or visits done) since a snapshot was built, it is rebuilt
# without looking which: a burst of that size (an import, a reassignment of a sector) may well
# concern the agent, and the check stays a handful of plain queries.
CHANGES_LOOKED_AT = 500


def snapshot_outdated(*, snapshot: Snapshot, agent: User, now: datetime | None = None) -> bool:
    """Whether the snapshot is too old to serve or what it copies changed since it was built,
    read cheaply (plain indexed queries, no rebuild): the admin's lists and settings saved in
    the administration (its log), a restaurant of the kit with a history row since (an edit on
    the web, a client new in the agent's zone, one given to them) or one that was in their hands
    before (given to a colleague, archived, moved out of their zone), a visit done since on the
    kit's restaurants by anyone, or by the agent. What is not read here (invoices, hand-written
    timeline entries) waits for the age limit, the nightly rebuild or the next integration."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    now = now or timezone.now()
    since = snapshot.generated_at
    field_settings = FieldSettings.load()
    if now - since >= timedelta(hours=field_settings.freshness_hours * REBUILD_SHARE):
        return True
    lists = ContentType.objects.get_for_models(*_admin_lists()).values()
    if LogEntry.objects.filter(action_time__gt=since, content_type__in=list(lists)).exists():
        return True
    # What changed since, company-wide, is read first (usually nothing): the kit's scope, a
    # costly query to build, is only asked about those few restaurants.
    history = Restaurant.history.model.objects
    changed = set(
        history.filter(history_date__gt=since)
        .order_by()
        .values_list("id", flat=True)[: CHANGES_LOOKED_AT + 1]
    )
    # A visit done since is dated within the backdating bound before it (online or offline).
    bound = max(SalesSettings.load().visit_backdate_days, field_settings.visit_backdate_days or 0)
    visited = list(
        Visit.objects.filter(
            status=VisitStatus.DONE,
            start__gte=since - timedelta(days=bound + 1),
            updated_at__gt=since,
        ).values_list("agent_id", "restaurant_id")[: CHANGES_LOOKED_AT + 1]
    )
    if len(changed) > CHANGES_LOOKED_AT or len(visited) > CHANGES_LOOKED_AT:
        return True
    if any(visitor == agent.pk for visitor, _restaurant in visited):
        return True
    touched = changed | {restaurant for _visitor, restaurant in visited}
    if not touched:
        return False
    if kit_scope(agent).filter(pk__in=touched).exists():
        return True
    if not changed:
        return False
    zones = Zone.agents.through.objects.filter(user_id=agent.pk).values("zone_id")
    return (
        history.filter(id__in=changed, history_date__lte=since)
        .filter(Q(sales_agent_id=agent.pk) | Q(created_by_id=agent.pk) | Q(zone_id__in=zones))
        .exists()
    )


def snapshot_rebuild(*, agent: User) -> Snapshot:
    """Build and store the agent's snapshot. An integration that marks it stale while it is
    being built leaves it stale, so the next read builds it again."""
    started = time.perf_counter()
    Snapshot.objects.filter(agent=agent).update(stale=False)
    # The data is as of the moment its reading starts: a change made while it is read is later
    # than `generated_at`, so `snapshot_outdated` sees it.
    generated_at = timezone.now()
    # One consistent read of everything (a repeatable view on PostgreSQL's default isolation
    # would need more; a single transaction at least keeps the rows of each query together).
    with transaction.atomic():
        data = snapshot_data(agent=agent)
    content = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    digest = hashlib.sha256(f"{iso(generated_at)}{content}".encode()).hexdigest()
    etag = f'W/"{digest[:32]}"'
    document = {"version": etag, "generated_at": iso(generated_at), **data}
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
    body = gzip.compress(raw.encode("utf-8"), compresslevel=6, mtime=0)
    fields = {
        "etag": etag,
        "body": body,
        "size": len(body),
        "generated_at": generated_at,
        "build_ms": round((time.perf_counter() - started) * 1000),
    }
    updated = Snapshot.objects.filter(agent=agent).update(**fields)
    if not updated:
        Snapshot.objects.get_or_create(agent=agent, defaults=fields)
    return Snapshot.objects.get(agent=agent)


def snapshot_document(snapshot: Snapshot) -> dict:
    """The stored snapshot as the client reads it (tests, admin)."""
    return json.loads(gzip.decompress(bytes(snapshot.body)))


def _money(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.2f}"


def _months_ago(now, months: int):
    local = timezone.localtime(now)
    day = add_months(local.date(), -months)
    return local.replace(year=day.year, month=day.month, day=day.day)


# Visits and statistics rows cover the current month and the 24 before it (the field statistics'
# longest period).
STATS_MONTHS = 24


def snapshot_data(*, agent: User) -> dict[str, Any]:
    """Everything of the snapshot but its version and generation time, labels in the agent's
    language."""
    with translation.override(agent.language or None):
        return _snapshot_data(agent)


def _snapshot_data(agent: User) -> dict[str, Any]:
    field_settings = FieldSettings.load()
    sales_settings = SalesSettings.load()
    crm_settings = CrmSettings.load()
    now = timezone.now()
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    scope = kit_scope(agent)

    client_rows = list(
        scope.exclude(status=RestaurantStatus.PROSPECT)
        .order_by("id")
        .values(*_COMMON, "client_code")
    )
    cutoff = _months_ago(now, field_settings.idle_prospect_months)
    recent_entry = Activity.objects.filter(
        restaurant=OuterRef("pk"), occurred_at__gte=cutoff, archived=False
    )
    pending = ConversionRequest.objects.filter(
        restaurant=OuterRef("pk"), status=RequestStatus.PENDING
    )
    # A prospect is idle when nothing happened to it for the admin's number of months: no save,
    # no visit, no timeline entry, and no revisit planned from today on.
    prospect_rows = list(
        scope.filter(status=RestaurantStatus.PROSPECT)
        .filter(
            Q(updated_at__gte=cutoff)
            | Q(created_at__gte=cutoff)
            | Q(last_visit_at__gte=cutoff)
            | Q(revisit_date__gte=today)
            | Exists(recent_entry)
        )
        .annotate(conversion_pending=Exists(pending))
        .order_by("id")
        .values(*_COMMON, "field_client_id", "created_at", "conversion_pending")
    )
    portfolio = {row["id"] for row in client_rows} | {row["id"] for row in prospect_rows}
    scope_ids = scope.values("pk")

    revenue: dict[int, dict[int, Decimal]] = {}
    for restaurant_id, year, total in (
        Invoice.objects.filter(
            restaurant_id__in=scope_ids, month__year__in=(today.year, today.year - 1)
        )
        .values_list("restaurant_id", "month__year")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        revenue.setdefault(restaurant_id, {})[year] = total
    assets: dict[int, dict[str, int]] = {}
    for restaurant_id, type_id, count in RestaurantAsset.objects.filter(
        restaurant_id__in=scope_ids, asset_type__active=True
    ).values_list("restaurant_id", "asset_type_id", "count"):
        assets.setdefault(restaurant_id, {})[str(type_id)] = count
    contacts: dict[int, list[dict]] = {}
    roles = dict(ContactRole.choices)
    for restaurant_id, role, first, last, phone, email in (
        ContactLink.objects.filter(restaurant_id__in=scope_ids)
        .order_by("restaurant_id", "role", "contact__search_name")
        .values_list(
            "restaurant_id",
            "role",
            "contact__first_name",
            "contact__last_name",
            "contact__phone",
            "contact__email",
        )
    ):
        if restaurant_id in portfolio:
            contacts.setdefault(restaurant_id, []).append(
                {
                    "name": f"{first} {last}".strip(),
                    "role": str(roles.get(role, role)),
                    "phone": phone,
                    "email": email,
                }
            )

    since_month = add_months(first_of_month(today), -STATS_MONTHS)
    since = datetime(since_month.year, since_month.month, 1, tzinfo=tz)
    visits = []
    for (
        pk,
        restaurant_id,
        agent_id,
        username,
        start,
        kind,
        report,
        origin,
        while_prospect,
        pack,
        segment,
    ) in (
        Visit.objects.filter(status=VisitStatus.DONE, start__gte=since)
        .filter(Q(agent=agent) | Q(restaurant_id__in=scope_ids))
        .order_by("start", "id")
        .values_list(
            "pk",
            "restaurant_id",
            "agent_id",
            "agent__username",
            "start",
            "kind",
            "report",
            "origin",
            "while_prospect",
            "pack_offered__code",
            "restaurant__segment__code",
        )
    ):
        if agent_id != agent.pk and restaurant_id not in portfolio:
            continue
        visits.append(
            {
                "id": pk,
                "restaurant_id": restaurant_id,
                "date": timezone.localtime(start, tz).date().isoformat(),
                "kind": kind,
                "report": report,
                "origin": origin,
                "agent": username,
                "while_prospect": while_prospect,
                "pack": pack,
                "segment": segment,
            }
        )

    # The latest timeline entries written by hand (visits are above, system events stay online);
    # archived entries never leave the server.
    activities = [
        {
            "id": pk,
            "restaurant_id": restaurant_id,
            "kind": kind,
            "subject": subject,
            "occurred_at": iso(occurred_at),
            "origin": origin,
        }
        for pk, restaurant_id, kind, subject, occurred_at, origin, _rank in (
            Activity.objects.filter(
                restaurant_id__in=scope_ids, archived=False, kind__in=MANUAL_ACTIVITY_KINDS
            )
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("restaurant_id")],
                    order_by=[F("occurred_at").desc(), F("id").desc()],
                )
            )
            .filter(rank__lte=field_settings.recent_activities)
            .order_by("restaurant_id", "-occurred_at", "-id")
            .values_list("pk", "restaurant_id", "kind", "subject", "occurred_at", "origin", "rank")
        )
        if restaurant_id in portfolio
    ]

    def common(row: dict) -> dict[str, Any]:
        values = {"id": row["id"]}
        for field in PROSPECT_FIELDS:
            key = "segment__code" if field == "segment" else field
            values[field] = json_value(field, row[key])
        values["zone"] = row["zone__name"] or ""
        values["status"] = row["status"]
        values["assigned"] = row["sales_agent_id"] == agent.pk
        values["last_visit_at"] = iso(row["last_visit_at"])
        values["updated_at"] = iso(row["updated_at"])
        values["assets"] = assets.get(row["id"], {})
        values["contacts"] = contacts.get(row["id"], [])
        return values

    clients = []
    for row in client_rows:
        years = revenue.get(row["id"], {})
        clients.append(
            {
                **common(row),
                "code": row["client_code"],
                "revenue_this_year": _money(years.get(today.year)),
                "revenue_last_year": _money(years.get(today.year - 1)),
            }
        )
    prospects = [
        {
            **common(row),
            "client_id": str(row["field_client_id"]) if row["field_client_id"] else None,
            "created_at": iso(row["created_at"]),
            "conversion_pending": row["conversion_pending"],
        }
        for row in prospect_rows
    ]

    retention = now - timedelta(days=field_settings.log_retention_days)
    devices = list(
        Device.objects.filter(agent=agent)
        .order_by("device")
        .values_list("device", "last_seq", "skipped")
    )
    rejected = [
        {"name": name, "action": action, "state": state, "reason": reason, "at": iso(at)}
        for name, action, state, reason, at in Envelope.objects.filter(agent=agent)
        .filter(
            Q(state=EnvelopeState.QUARANTINED)
            | Q(state=EnvelopeState.DISCARDED, decided_at__gte=retention)
        )
        .order_by("decided_at", "id")
        .values_list("name", "action", "state", "reason", "decided_at")
    ]

    return {
        "agent": {"id": agent.pk, "code": agent.get_username(), "name": agent.get_display_name()},
        "settings": {
            "freshness_hours": field_settings.freshness_hours,
            "backdate_days": field_settings.visit_backdate_days
            if field_settings.visit_backdate_days is not None
            else sales_settings.visit_backdate_days,
            "revisit_presets": field_settings.revisit_preset_days,
            "not_seen_days": sales_settings.not_seen_days,
            "idle_prospect_months": field_settings.idle_prospect_months,
            "max_batch": MAX_BATCH,
        },
        "clients": clients,
        "prospects": prospects,
        "visits": visits,
        "activities": activities,
        "visit_form": visit_form(),
        "lists": _lists(crm_settings, sales_settings),
        "stats": _stats(agent=agent, since=since, since_month=since_month, tz=tz),
        "devices": {device: last_seq for device, last_seq, _skipped in devices},
        # The numbers an administrator gave up waiting for (never received): the device tells
        # the agent about the changes it still held under them instead of dropping them.
        "skipped": {
            device: sorted({seq for entry in skipped for seq in entry.get("seqs", [])})
            for device, _last_seq, skipped in devices
            if skipped
        },
        "rejected": rejected,
    }


def _stats(*, agent: User, since: datetime, since_month: date, tz) -> dict[str, list]:
    """The field statistics' invoice and contract rows (reports/field_stats.py reads the same)."""
    invoices = [
        {"month": month.strftime("%Y-%m"), "amount": _money(total)}
        for month, total in Invoice.objects.filter(
            contract__signed_by=agent, month__gte=since_month
        )
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("month")
        .values_list("month", "total")
    ]
    signed_terms = ContractTerm.objects.filter(
        contract=OuterRef("pk"), starts_on=OuterRef("start_date")
    )
    contracts = [
        {
            "signed_on": timezone.localtime(signed_at, tz).date().isoformat(),
            "monthly_price": _money(price),
            "duration_months": duration,
        }
        for signed_at, price, duration in Contract.objects.filter(
            signed_by=agent, signed_at__gte=since
        )
        .exclude(status=ContractStatus.DRAFT)
        .annotate(price=Subquery(signed_terms.values("monthly_price")[:1]))
        .order_by("signed_at", "id")
        .values_list("signed_at", "price", "duration_months")
    ]
    return {"invoices": invoices, "contracts": contracts}


def visit_form() -> list[dict]:
    """The active question tree: groups holding options, options opening further groups.
    A visit's answers name a group by its id and its chosen options by theirs (strings)."""
    nodes = list(VisitFormNode.objects.filter(active=True).order_by("order", "id"))
    children: dict[int | None, list[VisitFormNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)

    def groups(parent_id: int | None) -> list[dict]:
        return [
            {
                "id": group.pk,
                "kind": group.kind,
                "label": group.label,
                "options": [
                    {"id": option.pk, "label": option.label, "groups": groups(option.pk)}
                    for option in children.get(group.pk, [])
                    if option.kind == NodeKind.OPTION
                ],
            }
            for group in children.get(parent_id, [])
            if group.kind != NodeKind.OPTION
        ]

    return groups(None)


def _field_list(fields) -> list[dict[str, str]]:
    listed = []
    for field in fields:
        try:
            listed.append({"name": field, "label": crm_services.field_label(field)})
        except FieldDoesNotExist:  # a field removed since the admin's list was written
            continue
    return listed


def _lists(crm_settings: CrmSettings, sales_settings: SalesSettings) -> dict[str, Any]:
    return {
        "segments": [
            {"code": code, "name": name}
            for code, name in Segment.objects.values_list("code", "name")
        ],
        "zones": [{"id": pk, "name": name} for pk, name in Zone.objects.values_list("pk", "name")],
        "packs": [
            {"code": pack.code, "name": str(pack.name), "monthly_price": _money(pack.monthly_price)}
            for pack in Pack.objects.filter(active=True)
        ],
        "visit_kinds": [
            {"value": value, "label": str(label)} for value, label in VisitKind.choices
        ],
        "payment_modes": [
            {"value": value, "label": str(label)} for value, label in PaymentMode.choices
        ],
        "payment_rules": {
            "cheque_segments": list(crm_settings.cheque_segments.values_list("code", flat=True)),
            "cheque_days": crm_settings.cheque_payment_days,
        },
        "asset_types": [
            {"code": str(pk), "name": name}
            for pk, name in AssetType.objects.filter(active=True).values_list("pk", "name")
        ],
        "prospect_fields": _field_list(PROSPECT_FIELDS),
        "change_request_fields": _field_list(crm_services.CHANGE_REQUEST_FIELDS),
        "conversion_fields": _field_list(crm_settings.mandatory_fields),
        "hidden_origins": sorted(
            set(crm_settings.hidden_origins) | set(sales_settings.hidden_origins)
        ),
    }


def snapshots_mark_holders_stale(*, agent_ids: Iterable[int], since: datetime) -> set[int]:
    """After an integration run: the restaurants the agents' envelopes integrated since `since`
    touched are also in the offline data of the agents they are assigned to, or who created
    them (a colleague's visit on the agent's client, an admin's on an agent's prospect): their
    snapshots are marked stale too (and rebuilt when the settings say so). The envelopes' own
    agents were marked by the run."""
    agent_ids = list(agent_ids)
    if not agent_ids:
        return set()
    holders = set()
    for author, assigned, creator in Envelope.objects.filter(
        agent_id__in=agent_ids,
        state=EnvelopeState.INTEGRATED,
        decided_at__gte=since,
        restaurant__isnull=False,
    ).values_list("agent_id", "restaurant__sales_agent_id", "restaurant__created_by_id"):
        holders |= {holder for holder in (assigned, creator) if holder and holder != author}
    snapshots_mark_stale(agent_ids=holders)
    return holders


def kit_scope(agent: User):
    """The restaurants of a user's offline data: those they see online, except for users who see
    every restaurant (admins, direction), whose kit holds the restaurants in their own hands
    (assigned to them, and the prospects they created). The field kit is the tool of a visit
    round, not a copy of the company's base, which would weigh tens of megabytes."""
    scope = Restaurant.objects.visible_to(agent).active()
    if agent.has_perm("crm.view_all_restaurants"):
        scope = scope.filter(
            Q(sales_agent=agent) | Q(created_by=agent, status=RestaurantStatus.PROSPECT)
        )
    return scope


def field_kit_users() -> list[User]:
    """Who gets a snapshot nightly: the active sales agents who may use the kit. Anyone else who
    opened the kit (an admin, direction) gets theirs built when they read it, so a single visit to
    /field/ does not cost a rebuild every night for good."""
    agents = User.objects.filter(is_active=True, groups__name=RoleName.SALES_AGENT).distinct()
    return [agent for agent in agents.order_by("pk") if may_use_field_kit(agent)]


def snapshots_rebuild_all(*, agents: Iterable[User] | None = None) -> int:
    """Rebuild the snapshots of `agents` (by default the nightly list); without `agents`, also
    drop the stored snapshots of users who may no longer use the kit (deactivated, role
    withdrawn): their data has no reader left."""
    count = 0
    nightly = agents is None
    for agent in field_kit_users() if nightly else agents:
        snapshot_rebuild(agent=agent)
        count += 1
    if nightly:
        snapshots_drop_unused()
    return count


def snapshots_drop_unused() -> int:
    """Delete the snapshots of users who may no longer use the field kit."""
    unused = [
        snapshot.agent_id
        for snapshot in Snapshot.objects.select_related("agent").only("agent")
        if not may_use_field_kit(snapshot.agent)
    ]
    if not unused:
        return 0
    return Snapshot.objects.filter(agent_id__in=unused).delete()[0]
