from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from sales.models import (
    CalendarConnection,
    Contract,
    ContractTerm,
    Invoice,
    LostReason,
    Opportunity,
    Pack,
    SalesSettings,
    SalesTarget,
    Suspension,
    Visit,
    VisitFormNode,
)


@admin.register(Pack)
class PackAdmin(TranslationAdmin):
    list_display = (
        "name",
        "code",
        "monthly_price",
        "posts_per_month",
        "monthly_report",
        "review_management",
        "active",
        "order",
    )
    list_editable = ("active", "order")
    prepopulated_fields = {"code": ("name",)}


class VisitFormChildInline(admin.TabularInline):
    model = VisitFormNode
    fk_name = "parent"
    extra = 0
    fields = ("kind", "label_fr", "label_en", "order", "active")
    show_change_link = True


@admin.register(VisitFormNode)
class VisitFormNodeAdmin(TranslationAdmin):
    """The "visit today" questions: groups hold options; an option may hold further groups."""

    list_display = ("__str__", "kind", "parent", "order", "active")
    list_filter = ("kind", "active")
    list_select_related = ("parent",)
    inlines = [VisitFormChildInline]


@admin.register(SalesSettings)
class SalesSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SalesSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ("name", "order")
    list_editable = ("order",)


@admin.register(SalesTarget)
class SalesTargetAdmin(admin.ModelAdmin):
    list_display = ("agent", "month", "new_monthly_revenue", "new_clients")
    list_filter = ("month",)
    autocomplete_fields = ("agent",)


class TermInline(admin.TabularInline):
    model = ContractTerm
    extra = 0
    readonly_fields = (
        "starts_on",
        "pack",
        "monthly_price",
        "posts_per_month",
        "networks",
        "changed_by",
        "created_at",
    )
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class SuspensionInline(admin.TabularInline):
    model = Suspension
    extra = 0
    readonly_fields = ("start_date", "end_date", "reason", "created_by")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """Read-only here: contracts change through their page, which keeps the history."""

    list_display = ("restaurant", "start_date", "end_date", "status", "signed_by")
    list_filter = ("status",)
    search_fields = ("restaurant__name", "restaurant__client_code")
    list_select_related = ("restaurant", "signed_by")
    inlines = [TermInline, SuspensionInline]
    readonly_fields = [field.name for field in Contract._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "restaurant", "month", "amount", "pack_name")
    list_filter = ("month",)
    search_fields = ("number", "restaurant__name", "restaurant__client_code")
    list_select_related = ("restaurant",)
    readonly_fields = [field.name for field in Invoice._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ("restaurant", "agent", "start", "kind", "status", "origin", "sync")
    list_filter = ("status", "kind", "sync")
    search_fields = ("restaurant__name",)
    list_select_related = ("restaurant", "agent")
    raw_id_fields = ("restaurant", "agent")


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ("restaurant", "owner", "stage", "monthly_amount", "expected_close")
    list_filter = ("stage",)
    list_select_related = ("restaurant", "owner")
    raw_id_fields = ("restaurant",)


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(admin.ModelAdmin):
    """Agents' Google connections and their health; the credentials never show."""

    list_display = (
        "user",
        "calendar_id",
        "state",
        "last_sync_at",
        "rate_limited_until",
        "last_error",
    )
    list_filter = ("state",)
    exclude = ("credentials", "sync_token")
    readonly_fields = (
        "user",
        "calendar_id",
        "state",
        "last_error",
        "rate_limited_until",
        "last_sync_at",
        "connected_at",
    )

    def has_add_permission(self, request):
        return False
