from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from comadvisor.emails import check_template, email_render, sample_context
from comadvisor.models import EmailTemplate, SiteSettings, WorkerHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the application writes (pipelines, jobs, services): admins look, never edit by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "company_name", "support_email")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SiteSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("hostname", "seen_at")
    ordering = ("-seen_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EmailTemplateForm(forms.ModelForm):
    """Saves only a template that renders in both languages with the placeholders it declares:
    a broken one would fail every later notification, long after the admin left the page."""

    class Meta:
        model = EmailTemplate
        fields = ("subject_fr", "body_fr", "subject_en", "body_en")

    def clean(self):
        cleaned = super().clean()
        placeholders = self.instance.placeholders
        for name in self.Meta.fields:
            if self.has_error(name) or name not in cleaned:
                continue
            try:
                check_template(text=cleaned[name], placeholders=placeholders)
            except ValidationError as error:
                self.add_error(name, error)
        return cleaned


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    form = EmailTemplateForm
    list_display = ("key", "description", "subject_fr", "subject_en")
    search_fields = ("key", "description", "subject_fr", "subject_en")
    readonly_fields = ("key", "description", "placeholders", "preview")
    fields = (
        "key",
        "description",
        "placeholders",
        "subject_fr",
        "body_fr",
        "subject_en",
        "body_en",
        "preview",
    )

    def has_add_permission(self, request):
        # Rows come from the migrations of the features that send them.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Preview"))
    def preview(self, obj: EmailTemplate) -> str:
        sample = sample_context(obj.placeholders)
        parts = []
        for code, label in settings.LANGUAGES:
            try:
                subject, body = email_render(key=obj.key, context=sample, language=code)
            except ValidationError as error:
                subject, body = "", "; ".join(error.messages)
            parts.append(
                format_html(
                    "<h4>{}</h4><p><strong>{}</strong></p><pre>{}</pre>", label, subject, body
                )
            )
        return format_html_join("", "{}", ((part,) for part in parts))
