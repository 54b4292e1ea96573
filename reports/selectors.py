"""Reads behind the role dashboards."""

from axes.models import AccessAttempt, AccessLog
from django.contrib.auth.models import Group
from django.db.models import Count, Q

from accounts.enums import RoleName
from accounts.models import User
from accounts.roles import ROLES


def dashboard_roles(*, user: User) -> list[RoleName]:
    """The user's declared roles in the table's order (the first is the page's heading)."""
    held = set(user.role_names)
    return [role.name for role in ROLES if str(role.name) in held]


def team_by_role(*, user: User) -> list[dict]:
    """Active users per role, for those who manage users (one query)."""
    if not user.has_perm("accounts.view_user"):
        return []
    groups = Group.objects.annotate(
        active=Count("user", filter=Q(user__is_active=True)),
    ).order_by("name")
    labels = dict(RoleName.choices)
    return [
        {"code": group.name, "label": labels.get(group.name, group.name), "count": group.active}
        for group in groups
    ]


def recent_logins(*, user: User, limit: int = 8) -> list[AccessLog]:
    if not user.has_perm("axes.view_accesslog"):
        return []
    return list(AccessLog.objects.order_by("-attempt_time")[:limit])


def recent_failed_logins(*, user: User, limit: int = 8) -> list[AccessAttempt]:
    if not user.has_perm("axes.view_accessattempt"):
        return []
    return list(AccessAttempt.objects.order_by("-attempt_time")[:limit])
