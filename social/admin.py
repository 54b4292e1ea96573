from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from social import services
from social.models import (
    MetricSnapshot,
    Post,
    Publication,
    ReplyTemplate,
    Review,
    ReviewTask,
    SocialAccount,
    SocialProfile,
    SocialSettings,
)


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    """Accounts and their connector state. Credentials come from the OAuth flows and are never
    shown; a demo account (generated data) is made here by ticking "demo data"."""

    list_display = (
        "name", "restaurant", "network", "demo", "state", "rate_limited_until", "last_fetch_at",
        "last_reviews_at", "last_error_code", "last_error",
    )  # fmt: skip
    list_filter = ("network", "state", "demo")
    search_fields = ("name", "external_id", "restaurant__name", "restaurant__client_code")
    list_select_related = ("restaurant",)
    autocomplete_fields = ("restaurant",)
    exclude = ("credentials",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = (
        "state", "rate_limited_until", "last_error_code", "last_error", "last_error_at",
        "last_fetch_at", "last_reviews_at", "token_expires_at", "created_at",
    )  # fmt: skip
    actions = ["fetch_metrics_now", "fetch_reviews_now"]

    @admin.action(description=_("Fetch metrics now"))
    def fetch_metrics_now(self, request, queryset):
        from social.tasks import fetch_account_metrics

        for account in queryset:
            fetch_account_metrics.delay(account.pk)
        messages.success(request, _("Fetching queued."))

    @admin.action(description=_("Fetch reviews now"))
    def fetch_reviews_now(self, request, queryset):
        from social.tasks import fetch_account_reviews

        for account in queryset:
            fetch_account_reviews.delay(account.pk)
        messages.success(request, _("Fetching queued."))


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(admin.ModelAdmin):
    list_display = ("account", "metric", "day", "value", "fetched_at")
    list_filter = ("metric", "account__network")
    date_hierarchy = "day"
    raw_id_fields = ("account",)
    list_select_related = ("account",)
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False


class ReviewTaskInline(admin.TabularInline):
    model = ReviewTask
    extra = 0
    fields = ("state", "reason", "assignee", "opened_at", "due_at", "answered_at", "answered_by")
    readonly_fields = fields
    can_delete = False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = (
        "restaurant",
        "network",
        "author",
        "rating",
        "sentiment",
        "written_at",
        "replied_at",
    )
    list_filter = ("network", "rating", "sentiment")
    search_fields = ("author", "restaurant__name", "external_id")
    list_select_related = ("restaurant",)
    raw_id_fields = ("account", "restaurant", "replied_by")
    date_hierarchy = "written_at"
    inlines = [ReviewTaskInline]
    show_full_result_count = False


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    list_display = ("review", "state", "assignee", "due_at", "answered_at")
    list_filter = ("state",)
    raw_id_fields = ("review", "assignee", "answered_by")
    # Opening and closing a task go through the services (they keep the review's open_due_at):
    # here only the assignee changes.
    readonly_fields = (
        "review",
        "reason",
        "state",
        "opened_at",
        "due_at",
        "answered_at",
        "answered_by",
    )
    list_select_related = ("review", "review__restaurant", "assignee")
    show_full_result_count = False


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(TranslationAdmin):
    """Saved replies. Placeholders: {reviewer}, {restaurant}, {rating}, {signature}."""

    list_display = ("name", "for_ratings", "active", "order")
    list_editable = ("active", "order")


@admin.register(SocialSettings)
class SocialSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SocialSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class PublicationInline(admin.TabularInline):
    model = Publication
    extra = 0
    fields = (
        "account",
        "state",
        "due_at",
        "attempts",
        "last_error_code",
        "last_error",
        "external_id",
        "url",
    )
    readonly_fields = ("state", "attempts", "last_error_code", "last_error", "external_id", "url")
    raw_id_fields = ("account",)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("__str__", "restaurant", "status", "scheduled_at", "created_by")
    list_filter = ("status",)
    search_fields = ("text", "restaurant__name")
    list_select_related = ("restaurant", "created_by")
    raw_id_fields = ("restaurant", "created_by")
    inlines = [PublicationInline]


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ("post", "account", "state", "due_at", "attempts", "last_error_code")
    list_filter = ("state", "account__network")
    list_select_related = ("post", "account")
    raw_id_fields = ("post", "account")
    readonly_fields = ("provider_state", "claimed_at")
    actions = ["retry"]

    @admin.action(description=_("Retry the failed publications"))
    def retry(self, request, queryset):
        count = 0
        for publication in queryset.filter(state="failed").select_related("post__restaurant"):
            services.publication_retry(publication=publication, by=request.user)
            count += 1
        messages.success(request, _("%(count)d publications queued again.") % {"count": count})


@admin.register(SocialProfile)
class SocialProfileAdmin(admin.ModelAdmin):
    list_display = ("restaurant", "average_ticket", "updated_at")
    autocomplete_fields = ("restaurant",)
