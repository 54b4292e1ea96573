import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from comadvisor.admin import ReadOnlyAdmin
from field import services
from field.devices import devices_with_waiting, format_numbers, missing_numbers
from field.enums import EnvelopeState
from field.envelopes import parse_time
from field.models import (
    Device,
    DropFile,
    Envelope,
    FieldSettings,
    JournalEntry,
    NameClash,
    Snapshot,
)


@admin.register(FieldSettings)
class FieldSettingsAdmin(admin.ModelAdmin):
    fieldsets = (
        (_("Offline data"), {"fields": ("freshness_hours", "idle_prospect_months",
                                        "recent_activities", "visit_backdate_days",
                                        "revisit_presets")}),
        (_("Drop folder"), {"fields": ("drop_folder", "drop_folder_minutes")}),
        (_("Rebuilding the offline data"), {"fields": ("rebuild_after_integration",
                                                       "rebuild_nightly")}),
        (_("Notifications and logs"), {"fields": ("notification_emails", "held_device_hours",
                                                  "log_retention_days")}),
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not FieldSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        services.field_settings_save(field_settings=obj, by=request.user)


# What an admin may correct on a quarantined envelope (field.services.envelope_fix).
FIXABLE = ("payload", "entity_id", "entity_client_id", "base_version")


class EnvelopeForm(forms.ModelForm):
    class Meta:
        model = Envelope
        fields = list(FIXABLE)
        help_texts = {
            "entity_id": _("The server's id of the restaurant the action is about."),
            "entity_client_id": _(
                "For a prospect created offline: the UUID of its creation, by which the device "
                "names it until it knows its id."
            ),
            "base_version": _(
                "For a prospect update or deletion: the prospect's version (ISO time) the change "
                "was made on; empty: its creation."
            ),
        }

    def clean_payload(self):
        payload = self.cleaned_data.get("payload")
        if not isinstance(payload, dict):
            raise ValidationError(_("The payload must be a JSON object."))
        return payload

    def clean_base_version(self):
        text = (self.cleaned_data.get("base_version") or "").strip()
        if text and parse_time(text) is None:
            raise ValidationError(_("The base version must be an ISO time."))
        return text


@admin.register(Envelope)
class EnvelopeAdmin(admin.ModelAdmin):
    """Quarantined envelopes are fixed here: correct the payload, the restaurant (id or offline
    id) or the base version, save, then "Retry"; or "Discard" them (recorded in the journal,
    shown to the agent). The hash the device sent stays: the device sending the original again
    is a duplicate; the correction is recorded with its author."""

    form = EnvelopeForm
    list_display = ("name", "agent", "action", "state", "reason_code", "flag", "received_at",
                    "decided_at")  # fmt: skip
    list_filter = ("state", "reason_code", "flag", "action", "source")
    search_fields = ("name", "agent__username", "agent__last_name", "reason")
    list_select_related = ("agent",)
    date_hierarchy = "received_at"
    actions = ["retry", "discard"]
    readonly_fields = (
        "name", "agent", "device", "seq", "action", "schema", "made_at", "snapshot", "entity_kind",
        "entity_id", "entity_client_id", "base_version", "hash", "raw_pretty", "source",
        "source_file", "received_at", "state", "reason_code", "reason", "flag", "note",
        "decided_at", "attempts", "restaurant", "purged_at", "fixed_at", "fixed_by",
    )  # fmt: skip
    fields = (
        "name", "agent", "device", "seq", "action", "state", "reason_code", "reason", "flag",
        "note", "restaurant", "payload", "hash", "entity_kind", "entity_id", "entity_client_id",
        "base_version", "schema", "made_at", "snapshot", "source", "source_file", "received_at",
        "decided_at", "attempts", "fixed_at", "fixed_by", "purged_at", "raw_pretty",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state == EnvelopeState.QUARANTINED:
            return tuple(name for name in self.readonly_fields if name not in FIXABLE)
        return (*self.readonly_fields, "payload")

    @admin.display(description=_("as received"))
    def raw_pretty(self, obj: Envelope) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.raw, indent=2, ensure_ascii=False))

    def save_model(self, request, obj, form, change) -> None:
        changes = {name: form.cleaned_data[name] for name in FIXABLE if name in form.changed_data}
        if not changes:
            return
        try:
            services.envelope_fix(envelope=obj, by=request.user, **changes)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))

    @admin.action(description=_("Retry the quarantined envelopes (after fixing them)"))
    def retry(self, request, queryset) -> None:
        if not request.user.has_perm("field.manage_envelope"):
            raise PermissionDenied
        done, failed = 0, []
        for envelope in queryset.filter(state=EnvelopeState.QUARANTINED).order_by("seq", "pk"):
            result = services.envelope_retry(envelope=envelope, by=request.user)
            if result.state == EnvelopeState.INTEGRATED:
                done += 1
            else:
                failed.append(f"{result.name}: {result.reason}")
        if done:
            messages.success(request, _("%(count)d envelope(s) integrated.") % {"count": done})
        for line in failed:
            messages.warning(request, _("Still quarantined: %(line)s") % {"line": line})

    @admin.action(description=_("Discard the envelopes (recorded, shown to the agent)"))
    def discard(self, request, queryset) -> None:
        if not request.user.has_perm("field.manage_envelope"):
            raise PermissionDenied
        count = 0
        for envelope in queryset.filter(
            state__in=(EnvelopeState.QUARANTINED, EnvelopeState.PENDING)
        ):
            services.envelope_discard(envelope=envelope, by=request.user)
            count += 1
        messages.success(request, _("%(count)d envelope(s) discarded.") % {"count": count})


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("name", "outcome", "reason", "at", "by")
    list_filter = ("outcome",)
    search_fields = ("name",)
    list_select_related = ("by",)
    date_hierarchy = "at"


class WaitingFilter(admin.SimpleListFilter):
    title = _("waiting envelopes")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return (
            ("held", _("Held by a missing number")),
            ("pending", _("With envelopes waiting")),
        )

    def queryset(self, request, queryset):
        if self.value() == "held":
            return queryset.filter(first_pending_seq__gt=F("last_seq") + 1)
        if self.value() == "pending":
            return queryset.filter(pending_count__gt=0)
        return queryset


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    """The agents' devices with their waiting envelopes. A device whose next number never came
    (a lost file, a reset tablet) holds its later envelopes: "Give up the missing sequence
    numbers" lets them be integrated (recorded on the device)."""

    list_display = ("device", "agent", "last_seq", "pending", "oldest", "missing", "last_seen_at",
                    "first_seen_at")  # fmt: skip
    list_filter = (WaitingFilter,)
    search_fields = ("device", "agent__username", "agent__last_name")
    list_select_related = ("agent",)
    actions = ["give_up_missing_numbers"]
    fields = ("device", "agent", "last_seq", "pending", "oldest", "missing", "skipped_list",
              "first_seen_at", "last_seen_at")  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return devices_with_waiting()

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm("field.manage_envelope")

    @admin.display(description=_("waiting"), ordering="pending_count")
    def pending(self, obj: Device) -> int:
        return obj.pending_count

    @admin.display(description=_("waiting since"), ordering="oldest_waiting")
    def oldest(self, obj: Device):
        return obj.oldest_waiting

    @admin.display(description=_("missing numbers"))
    def missing(self, obj: Device) -> str:
        return format_numbers(missing_numbers(obj))

    @admin.display(description=_("numbers given up"))
    def skipped_list(self, obj: Device) -> str:
        return "; ".join(
            _("%(numbers)s by %(user)s on %(at)s")
            % {
                "numbers": ", ".join(str(seq) for seq in entry.get("seqs", [])),
                "user": entry.get("by", ""),
                "at": entry.get("at", "")[:16].replace("T", " "),
            }
            for entry in obj.skipped
        )

    @admin.action(
        description=_("Give up the missing sequence numbers (the later envelopes are integrated)"),
        permissions=["manage"],
    )
    def give_up_missing_numbers(self, request, queryset) -> None:
        for device in queryset.order_by("pk"):
            skipped = services.device_skip_gap(device=device, by=request.user)
            if skipped:
                messages.success(
                    request,
                    _("%(device)s: numbers %(numbers)s given up.")
                    % {"device": device, "numbers": ", ".join(str(seq) for seq in skipped)},
                )
            else:
                messages.info(request, _("%(device)s: no number is missing.") % {"device": device})


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ("agent", "generated_at", "size", "build_ms", "stale", "etag")
    list_filter = ("stale",)
    search_fields = ("agent__username",)
    list_select_related = ("agent",)
    exclude = ("body",)


@admin.register(DropFile)
class DropFileAdmin(ReadOnlyAdmin):
    list_display = ("path", "outcome", "read_at", "size")
    list_filter = ("outcome",)
    search_fields = ("path", "envelope_name")


@admin.register(NameClash)
class NameClashAdmin(ReadOnlyAdmin):
    list_display = ("envelope", "hash", "first_at", "last_at", "count")
    search_fields = ("envelope__name",)
    list_select_related = ("envelope",)
