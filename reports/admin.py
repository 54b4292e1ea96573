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
    list_display = ("restaurant", "month", "version", "status", "deadline", "sent_at", "error")
    list_filter = ("status", "month")
    search_fields = ("restaurant__name", "restaurant__client_code")
    date_hierarchy = "month"
    list_select_related = ("restaurant",)
    raw_id_fields = ("restaurant", "previous")
    readonly_fields = (
        "indicators", "pdf", "generated_at", "sent_at", "sent_to", "sent_by", "times_sent",
        "error", "error_at", "comments_updated_at", "comments_updated_by", "previous", "version",
    )  # fmt: skip
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
