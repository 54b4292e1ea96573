"""The declarative table of roles and of the permission hierarchy.

Roles are Django groups. The data migration creates one group per row of ROLES; after every
`migrate`, `roles_sync()` grants each group the permissions its row declares (only adding, so what
admins tune in admin is kept). Admins may create further roles in admin.

IMPLIES is the permission hierarchy: holding a key implies every permission it lists, transitively.
It is expanded by accounts.backends.RoleBackend, so `user.has_perm`, the template `perms` and the
admin all see the implied permissions. Later apps add their rows here.
"""

from dataclasses import dataclass

from accounts.enums import RoleName

EVERYTHING = "*"


@dataclass(frozen=True)
class Role:
    name: RoleName
    # Staff roles may open Django admin.
    staff: bool = False
    # The admin role is the superuser flag: every permission, other admins and settings included.
    superuser: bool = False
    # High-level permissions ("app_label.codename"); EVERYTHING = all but the admin-only ones.
    permissions: tuple[str, ...] = ()


ROLES: tuple[Role, ...] = (
    Role(RoleName.ADMIN, staff=True, superuser=True),
    Role(RoleName.DIRECTION, staff=True, permissions=(EVERYTHING,)),
    Role(
        RoleName.CLIENT_MANAGER,
        permissions=(
            "accounts.view_user",
            "crm.manage_restaurant",
            "crm.manage_contact",
            "crm.assign_restaurant",
            "crm.import_restaurants",
            "crm.add_changerequest",
            "crm.add_conversionrequest",
            "sales.manage_contract",
            "sales.view_all_visits",
            "sales.view_all_opportunities",
            "social.view_socialaccount",
            "social.view_post",
            "social.view_review",
            "reports.view_monthlyreport",
        ),
    ),
    Role(
        RoleName.SALES_AGENT,
        permissions=(
            "crm.view_zone_restaurants",
            "crm.add_restaurant",
            "crm.edit_own_prospects",
            "crm.add_contact",
            "crm.change_contact",
            "crm.add_activity",
            "crm.add_changerequest",
            "crm.add_conversionrequest",
            "crm.export_restaurants",
            "sales.add_contract",
            "sales.add_visit",
            "sales.change_visit",
            "sales.add_opportunity",
            "sales.change_opportunity",
            "social.view_socialaccount",
            "field.use_field_kit",
        ),
    ),
    Role(
        RoleName.COMMUNITY_MANAGER,
        permissions=(
            "crm.view_assigned_restaurants",
            "crm.view_contact",
            "crm.add_activity",
            "crm.add_changerequest",
            "social.manage_socialaccount",
            "social.manage_post",
            "social.view_review",
            "social.view_connector_health",
            "reports.manage_monthlyreport",
        ),
    ),
    Role(
        RoleName.REVIEW_MANAGER,
        permissions=(
            "crm.view_assigned_restaurants",
            "crm.view_contact",
            "crm.add_activity",
            "social.view_socialaccount",
            "social.reply_review",
        ),
    ),
    Role(
        RoleName.ACCOUNTANT,
        permissions=(
            "crm.view_client_restaurants",
            "crm.view_contact",
            "crm.decide_changerequest",
            "crm.decide_conversionrequest",
            "crm.export_restaurants",
            "sales.view_contract",
            "sales.view_invoice",
        ),
    ),
)

ROLES_BY_NAME: dict[str, Role] = {str(role.name): role for role in ROLES}

IMPLIES: dict[str, tuple[str, ...]] = {
    "accounts.manage_admins": ("accounts.manage_users",),
    "accounts.manage_users": (
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.delete_user",
        "accounts.invite_user",
        "auth.view_group",
    ),
    "auth.change_group": ("auth.view_group",),
    "accounts.change_user": ("accounts.view_user",),
    "crm.manage_restaurant": (
        "crm.view_all_restaurants",
        "crm.view_restaurant",
        "crm.add_restaurant",
        "crm.change_restaurant",
        "crm.delete_restaurant",
        "crm.archive_restaurant",
        "crm.export_restaurants",
        "crm.add_activity",
        "crm.view_activity",
    ),
    "crm.view_all_restaurants": ("crm.view_restaurant", "crm.view_activity"),
    "crm.view_client_restaurants": ("crm.view_restaurant", "crm.view_activity"),
    "crm.view_zone_restaurants": ("crm.view_restaurant", "crm.view_activity"),
    "crm.view_assigned_restaurants": ("crm.view_restaurant", "crm.view_activity"),
    # Field statistics (/stats/field/) have no model: their two permissions are implied by the
    # agent's own-prospects right (their own figures) and by seeing every agent's targets.
    "crm.edit_own_prospects": ("crm.add_restaurant", "reports.view_own_field_stats"),
    "sales.view_salestarget": ("reports.view_all_field_stats",),
    "crm.manage_contact": (
        "crm.view_contact",
        "crm.add_contact",
        "crm.change_contact",
        "crm.delete_contact",
    ),
    "crm.change_contact": ("crm.view_contact",),
    "crm.add_contact": ("crm.view_contact",),
    "crm.decide_changerequest": ("crm.view_changerequest",),
    "crm.decide_conversionrequest": ("crm.view_conversionrequest",),
    "crm.unarchive_restaurant": ("crm.archive_restaurant",),
    "sales.manage_contract": (
        "sales.view_contract",
        "sales.add_contract",
        "sales.change_contract",
        "sales.view_invoice",
    ),
    "sales.add_contract": ("sales.view_contract",),
    "sales.add_visit": ("sales.view_visit",),
    "sales.change_visit": ("sales.view_visit",),
    "sales.view_all_visits": ("sales.view_visit", "sales.add_visit", "sales.change_visit"),
    "sales.add_opportunity": ("sales.view_opportunity",),
    "social.manage_socialaccount": (
        "social.view_socialaccount",
        "social.add_socialaccount",
        "social.change_socialaccount",
        "social.view_connector_health",
    ),
    "social.manage_post": (
        "social.view_post",
        "social.add_post",
        "social.change_post",
        "social.delete_post",
        "social.view_socialaccount",
    ),
    "social.reply_review": ("social.view_review",),
    "reports.manage_monthlyreport": (
        "reports.view_monthlyreport",
        "reports.change_monthlyreport",
    ),
    "social.view_all_reviews": ("social.view_review",),
    # Admins and direction (who hold everything) fix, retry and discard field envelopes.
    "field.manage_envelope": (
        "field.view_envelope",
        "field.change_envelope",
        "field.view_journalentry",
        "field.view_device",
        "field.view_nameclash",
        "field.view_dropfile",
        "field.view_snapshot",
    ),
    "sales.view_all_opportunities": (
        "sales.view_opportunity",
        "sales.add_opportunity",
        "sales.change_opportunity",
    ),
}

# Permissions only admins hold, whatever groups say. Models subclassing
# comadvisor.models.SettingsModel add their add/change/delete permissions to this set
# (accounts.permissions.admin_only_permissions).
ADMIN_ONLY: frozenset[str] = frozenset({"accounts.manage_admins", "crm.unarchive_restaurant"})
