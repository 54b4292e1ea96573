from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from reports import services
from reports.models import MonthlyReport, ReportSettings, ReportStatus


@admin.register(ReportSettings)
class ReportSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "deadline_day")

    def has_add_permission(self, request) -> bool:
        return not ReportSettings.objects.exists() and super().has_add_permission(request)


@admin.register(MonthlyReport)
class MonthlyReportAdmin(admin.ModelAdmin):
    """Read-only: reports are written, generated and sent on their pages, through the services
    (sanitised comments, a sent report never changed). Admins look and may generate."""

    list_display = ("restaurant", "month", "version", "status", "deadline", "sent_at", "error_text")
    list_filter = ("status", "month")
    search_fields = ("restaurant__name", "restaurant__client_code")
    date_hierarchy = "month"
    list_select_related = ("restaurant",)
    readonly_fields = ("error_text", "error_at", "comments_updated_at", "created_at")
    exclude = ("error_kind", "error")

    def has_add_permission(self, request) -> bool:
        return False  # drafts come from the month-end job

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

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
