from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from comadvisor.admin import ReadOnlyAdmin
from reports import services
from reports.models import (
    MonthlyReport,
    ReportBatch,
    ReportBatchItem,
    ReportRecipients,
    ReportSettings,
    ReportStatus,
)


@admin.register(ReportSettings)
class ReportSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "deadline_day")

    def has_add_permission(self, request) -> bool:
        return not ReportSettings.objects.exists() and super().has_add_permission(request)


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ReadOnlyAdmin):
    """Read-only: reports are written, generated and sent on their pages, through the services
    (sanitised comments, a sent report never changed); drafts come from the month-end job.
    Admins look and may generate."""

    list_display = ("restaurant", "month", "version", "status", "deadline", "sent_at", "error_text")
    list_filter = ("status", "month")
    search_fields = ("restaurant__name", "restaurant__client_code")
    date_hierarchy = "month"
    list_select_related = ("restaurant",)
    readonly_fields = ("error_text", "error_at", "comments_updated_at", "created_at")
    exclude = ("error_kind", "error")

    @admin.display(description=_("last error"))
    def error_text(self, obj: MonthlyReport) -> str:
        return obj.error_message

    actions = ["generate"]

    @admin.action(description=_("Generate the PDF (sent reports get a new version)"))
    def generate(self, request, queryset):
        made = failed = 0
        for report in queryset.select_related("restaurant"):
            try:
                report = services.report_generate(report=report, by=request.user)
            except (ValidationError, PermissionDenied):
                failed += 1
                continue
            if report.status == ReportStatus.GENERATED:
                made += 1
            else:
                failed += 1
        self.message_user(
            request,
            _("%(made)d generated, %(failed)d failed.") % {"made": made, "failed": failed},
            messages.SUCCESS if not failed else messages.WARNING,
        )


class ReportRecipientsForm(forms.ModelForm):
    class Meta:
        model = ReportRecipients
        fields = ("restaurant", "addresses")

    def clean_addresses(self) -> str:
        try:
            return services.parse_recipients(self.cleaned_data["addresses"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["recipients"]) from error


@admin.register(ReportRecipients)
class ReportRecipientsAdmin(admin.ModelAdmin):
    """Each restaurant's report recipients, as the editor's "next reports too" leaves them.
    Saved through the service (checked addresses, the timeline); deleting one sends the next
    reports to the owner contacts again."""

    form = ReportRecipientsForm
    list_display = ("restaurant", "addresses", "updated_at", "updated_by")
    search_fields = ("restaurant__name", "restaurant__client_code", "addresses")
    list_select_related = ("restaurant", "updated_by")
    autocomplete_fields = ("restaurant",)
    readonly_fields = ("updated_at", "updated_by")

    def get_readonly_fields(self, request, obj=None):
        # The restaurant is the list's key: a list moves to another restaurant by a new one.
        return (*self.readonly_fields, "restaurant") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        kept = services.restaurant_recipients_set(
            restaurant=obj.restaurant, by=request.user, recipients=form.cleaned_data["addresses"]
        )
        if kept is None:
            self.message_user(
                request,
                _("These are the owner contacts' addresses: the next reports go to them."),
                messages.INFO,
            )

    def delete_model(self, request, obj) -> None:
        services.restaurant_recipients_set(
            restaurant=obj.restaurant, by=request.user, recipients=""
        )

    def delete_queryset(self, request, queryset) -> None:
        for recipients in queryset.select_related("restaurant"):
            self.delete_model(request, recipients)


class ReportBatchItemInline(admin.TabularInline):
    model = ReportBatchItem
    fields = ("report", "outcome", "error_kind", "error", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReportBatch)
class ReportBatchAdmin(ReadOnlyAdmin):
    """Read-only: what each batch did, with the technical detail of a batch that stopped early
    (its page only words the reason)."""

    list_display = (
        "user", "started_at", "finished_at", "total", "done", "failed", "skipped", "error_kind",
        "error",
    )  # fmt: skip
    list_filter = ("error_kind",)
    list_select_related = ("user",)
    date_hierarchy = "started_at"
    inlines = [ReportBatchItemInline]
