import pytest
from django.contrib.auth.models import Group, Permission

from accounts import services
from accounts.enums import RoleName
from accounts.permissions import admin_only_permissions, expand
from accounts.roles import ROLES

pytestmark = pytest.mark.django_db


def test_roles_migration_creates_one_group_per_declared_role():
    assert set(Group.objects.values_list("name", flat=True)) >= {str(r.name) for r in ROLES}


def test_expand_follows_the_hierarchy_transitively():
    assert expand({"accounts.manage_admins"}) == {
        "accounts.manage_admins",
        "accounts.manage_users",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.delete_user",
        "accounts.invite_user",
        "auth.view_group",
    }


def test_high_level_permission_implies_lower_ones_through_has_perm(make_user):
    group = Group.objects.create(name="user managers")
    group.permissions.add(Permission.objects.get(codename="manage_users"))
    user = make_user(roles=["user managers"])

    assert user.has_perm("accounts.manage_users")
    assert user.has_perm("accounts.add_user")
    assert user.has_perm("accounts.delete_user")
    assert user.has_perm("auth.view_group")
    assert user.has_module_perms("accounts")
    assert not user.has_perm("accounts.manage_admins")


def test_admin_role_holds_every_permission(admin_user):
    assert admin_user.is_superuser and admin_user.is_staff
    assert admin_user.has_perm("accounts.manage_admins")
    assert admin_user.has_perm("comadvisor.change_sitesettings")


def test_direction_holds_everything_but_admins_and_settings(direction):
    assert direction.is_staff and not direction.is_superuser
    assert direction.has_perm("accounts.manage_users")
    assert direction.has_perm("accounts.invite_user")
    assert direction.has_perm("django_celery_beat.change_periodictask")
    assert direction.has_perm("comadvisor.view_sitesettings")
    for perm in admin_only_permissions():
        assert not direction.has_perm(perm), perm


def test_admin_only_permissions_cover_settings_models():
    assert {
        "accounts.manage_admins",
        "comadvisor.add_sitesettings",
        "comadvisor.change_sitesettings",
        "comadvisor.delete_sitesettings",
    } <= admin_only_permissions()


def test_backend_refuses_admin_only_permission_granted_to_a_group_by_mistake(direction):
    Group.objects.get(name=RoleName.DIRECTION).permissions.add(
        Permission.objects.get(codename="change_sitesettings")
    )
    direction = type(direction).objects.get(pk=direction.pk)

    assert not direction.has_perm("comadvisor.change_sitesettings")


def test_user_with_several_roles_has_the_union_of_their_permissions(make_user):
    user = make_user(roles=[RoleName.CLIENT_MANAGER, RoleName.DIRECTION])

    assert user.has_perm("accounts.manage_users")
    assert user.is_staff


def test_field_roles_cannot_open_admin(persona):
    for role in (
        RoleName.CLIENT_MANAGER,
        RoleName.SALES_AGENT,
        RoleName.COMMUNITY_MANAGER,
        RoleName.REVIEW_MANAGER,
        RoleName.ACCOUNTANT,
    ):
        assert not persona(role).is_staff, role


def test_roles_sync_only_adds_permissions(direction):
    group = Group.objects.get(name=RoleName.DIRECTION)
    extra = Group.objects.create(name="custom")
    extra.permissions.add(Permission.objects.get(codename="view_user"))
    count = group.permissions.count()

    services.roles_sync()

    assert group.permissions.count() == count
    assert extra.permissions.count() == 1


def test_inactive_user_has_no_permission(direction):
    direction.is_active = False
    direction.save()
    direction = type(direction).objects.get(pk=direction.pk)

    assert not direction.has_perm("accounts.view_user")
