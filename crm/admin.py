from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from crm.models import (
    Activity,
    AssetType,
    ChangeRequest,
    Contact,
    ContactLink,
    ContactType,
    ConversionRequest,
    CrmSettings,
    CustomField,
    Restaurant,
    Segment,
    Zone,
)


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ("name", "departments", "postal_prefixes")
    search_fields = ("name", "departments", "postal_prefixes")
    filter_horizontal = ("agents",)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "order")
    list_editable = ("order",)
    prepopulated_fields = {"code": ("name",)}


@admin.register(ContactType)
class ContactTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "order")
    list_editable = ("order",)


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "kind", "required", "active", "order")
    list_editable = ("required", "active", "order")
    list_filter = ("kind", "active")


@admin.register(AssetType)
class AssetTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "order")
    list_editable = ("active", "order")


@admin.register(CrmSettings)
class CrmSettingsAdmin(admin.ModelAdmin):
    filter_horizontal = ("cheque_segments",)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not CrmSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ContactLinkInline(admin.TabularInline):
    model = ContactLink
    extra = 0
    autocomplete_fields = ("contact",)


@admin.register(Restaurant)
class RestaurantAdmin(SimpleHistoryAdmin):
    """Read and fix records; day-to-day work happens in the application's pages."""

    list_display = ("name", "client_code", "status", "city", "zone", "sales_agent", "archived_at")
    list_filter = ("status", "zone", "segment")
    search_fields = ("name", "client_code", "siret", "phone", "city")
    list_select_related = ("zone", "sales_agent")
    autocomplete_fields = ("sales_agent", "community_manager", "review_manager", "created_by")
    readonly_fields = ("created_at", "updated_at", "archived_at")
    inlines = [ContactLinkInline]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "email", "phone", "contact_type")
    search_fields = ("last_name", "first_name", "email", "phone")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "restaurant", "kind", "subject", "origin", "archived")
    list_filter = ("kind", "archived")
    search_fields = ("subject", "restaurant__name")
    raw_id_fields = ("restaurant", "author")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("restaurant")


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = ("restaurant", "requested_by", "status", "created_at", "decided_by")
    list_filter = ("status",)
    readonly_fields = [field.name for field in ChangeRequest._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ConversionRequest)
class ConversionRequestAdmin(admin.ModelAdmin):
    list_display = ("restaurant", "requested_by", "payment_mode", "status", "created_at")
    list_filter = ("status", "payment_mode")
    readonly_fields = [
        field.name for field in ConversionRequest._meta.fields if field.name != "signature"
    ]
    exclude = ("signature",)

    def has_add_permission(self, request):
        return False
