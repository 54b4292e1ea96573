from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.enums import RoleName
from accounts.forms import UserAddForm
from accounts.models import User
from accounts.roles import ROLES_BY_NAME


def _touches_admin(request, obj) -> bool:
    return (
        obj is not None and obj.is_superuser and not request.user.has_perm("accounts.manage_admins")
    )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserAddForm
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "username",
                    "email",
                    ("first_name", "last_name"),
                    "display_name",
                    "phone",
                    "language",
                    "roles",
                    "send_invitation",
                )
            },
        ),
    )
    list_display = (
        "username",
        "get_display_name",
        "email",
        "roles_display",
        "is_active",
        "last_login",
    )
    list_filter = ("groups", "is_active", "language")
    search_fields = ("username", "email", "first_name", "last_name", "display_name")
    ordering = ("username",)
    readonly_fields = ("last_login", "date_joined", "invited_at", "is_staff", "is_superuser")
    actions = ["send_invitations"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        fieldsets = [
            (None, {"fields": ("username", "password")}),
            (
                _("Personal info"),
                {
                    "fields": (
                        ("first_name", "last_name"),
                        "display_name",
                        "email",
                        "phone",
                        "language",
                    )
                },
            ),
            (_("Roles"), {"fields": ("groups", "is_active", "is_staff", "is_superuser")}),
            (_("Dates"), {"fields": ("last_login", "date_joined", "invited_at")}),
        ]
        if request.user.is_superuser:
            fieldsets.insert(3, (_("Extra permissions"), {"fields": ("user_permissions",)}))
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            allowed = [
                choice
                for choice in RoleName.choices
                if choice[0] != RoleName.ADMIN or request.user.has_perm("accounts.manage_admins")
            ]
            form = super().get_form(request, obj, **kwargs)

            class AddForm(form):
                def __init__(self, *args, **kw):
                    kw.setdefault("role_choices", allowed)
                    super().__init__(*args, **kw)

            return AddForm
        return super().get_form(request, obj, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.has_perm("accounts.manage_admins"):
            kwargs["queryset"] = Group.objects.exclude(name=RoleName.ADMIN)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("Roles"))
    def roles_display(self, obj: User) -> str:
        return ", ".join(
            str(RoleName(name).label) if name in ROLES_BY_NAME else name for name in obj.role_names
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _touches_admin(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _touches_admin(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            services.user_update(user=obj, by=request.user)
        else:
            services.user_register(
                user=obj, roles=form.cleaned_data.get("roles", ()), by=request.user
            )

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
            roles = [group.name for group in form.instance.groups.all()]
            services.user_set_roles(user=form.instance, roles=roles, by=request.user)
        elif form.cleaned_data.get("send_invitation"):
            self._invite(request, form.instance)

    def _invite(self, request, user: User) -> bool:
        try:
            services.user_invite(user=user, by=request.user)
        except (ValidationError, PermissionDenied) as error:
            self.message_user(
                request, "; ".join(getattr(error, "messages", [str(error)])), messages.ERROR
            )
            return False
        return True

    @admin.action(description=_("Send an invitation e-mail"), permissions=["invite"])
    def send_invitations(self, request, queryset):
        sent = sum(1 for user in queryset if self._invite(request, user))
        if sent:
            self.message_user(
                request,
                ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", sent)
                % {"count": sent},
                messages.SUCCESS,
            )

    def has_invite_permission(self, request):
        return request.user.has_perm("accounts.invite_user")


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(BaseGroupAdmin):
    """Roles are groups; the declared ones cannot be deleted, the admin role only by admins."""

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is not None and obj.name == RoleName.ADMIN:
            return allowed and request.user.has_perm("accounts.manage_admins")
        return allowed

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.name in ROLES_BY_NAME:
            return False
        return super().has_delete_permission(request, obj)
