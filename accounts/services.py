"""Every write on users and roles."""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.enums import RoleName
from accounts.models import User
from accounts.permissions import admin_only_permissions
from accounts.roles import EVERYTHING, ROLES, ROLES_BY_NAME
from comadvisor.emails import email_send
from comadvisor.models import SiteSettings


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """One-time: the token hashes the password and last login, which accepting it changes."""

    key_salt = "accounts.services.InvitationTokenGenerator"


invitation_tokens = InvitationTokenGenerator()


def roles_sync(*, using: str = "default") -> None:
    """Create the declared role groups and grant them their declared permissions (never revoke)."""
    reserved = admin_only_permissions()
    all_perms = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role in ROLES:
        group, _created = Group.objects.using(using).get_or_create(name=str(role.name))
        wanted: set[str] = set()
        for perm in role.permissions:
            if perm == EVERYTHING:
                wanted |= set(all_perms) - reserved
            elif perm in all_perms:
                wanted.add(perm)
        if wanted:
            group.permissions.add(*(all_perms[perm] for perm in wanted))


def _assert_may_manage(*, by: User, target: User | None, roles: Iterable[str] = ()) -> None:
    if not by.has_perm("accounts.manage_users"):
        raise PermissionDenied(_("You may not manage users."))
    touches_admin = (target is not None and target.is_superuser) or str(RoleName.ADMIN) in roles
    if touches_admin and not by.has_perm("accounts.manage_admins"):
        raise PermissionDenied(_("Only administrators may add, edit or remove administrators."))


def user_sync_role_flags(*, user: User) -> User:
    """Derive is_staff and is_superuser from the user's roles (the admin role is the superuser)."""
    specs = [ROLES_BY_NAME.get(name) for name in user.groups.values_list("name", flat=True)]
    user.is_staff = any(spec and spec.staff for spec in specs)
    user.is_superuser = any(spec and spec.superuser for spec in specs)
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@transaction.atomic
def user_create(
    *,
    by: User | None,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    display_name: str = "",
    phone: str = "",
    language: str = settings.LANGUAGE_CODE,
    roles: Iterable[str] = (),
    password: str | None = None,
) -> User:
    """Create a user with `roles`. Without a password they log in after accepting an invitation.

    `by` is None only for the demo seed and management commands run by the operator.
    """
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        display_name=display_name,
        phone=phone,
        language=language,
    )
    if password is not None:
        user.set_password(password)
    return user_register(user=user, roles=roles, by=by)


@transaction.atomic
def user_register(*, user: User, roles: Iterable[str], by: User | None) -> User:
    """Save the new, unsaved `user` (built by a form) with `roles`."""
    roles = [str(role) for role in roles]
    if by is not None:
        _assert_may_manage(by=by, target=None, roles=roles)
    if not user.password:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user_set_roles(user=user, roles=roles, by=by)


def user_update(*, user: User, by: User) -> User:
    """Save an existing user edited in a form (roles go through user_set_roles)."""
    # Rights are checked against the stored row: the form may not make an admin editable.
    _assert_may_manage(by=by, target=User.objects.get(pk=user.pk))
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_set_roles(*, user: User, roles: Iterable[str], by: User | None) -> User:
    roles = sorted({str(role) for role in roles})
    groups = list(Group.objects.filter(name__in=roles))
    missing = set(roles) - {group.name for group in groups}
    if missing:
        raise ValidationError(_("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(missing))})
    if by is not None:
        _assert_may_manage(by=by, target=user, roles=roles)
    user.groups.set(groups)
    return user_sync_role_flags(user=user)


def user_set_language(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language."))
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def user_set_password(*, user: User, password: str, by: User) -> User:
    """Admins (and direction, for non-admins) set a password; users have no page of their own."""
    _assert_may_manage(by=by, target=user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def invitation_url(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_tokens.make_token(user)
    path = reverse("accounts:invitation", kwargs={"uidb64": uid, "token": token})
    return f"{settings.SITE_URL}{path}"


def user_invite(*, user: User, by: User | None) -> User:
    """E-mail `user` a one-time link to choose their password, in their language."""
    if by is not None:
        _assert_may_manage(by=by, target=user)
        if not by.has_perm("accounts.invite_user"):
            raise PermissionDenied(_("You may not send invitations."))
    if not user.email:
        raise ValidationError(_("%(user)s has no e-mail address.") % {"user": user})
    if not user.is_active:
        raise ValidationError(_("%(user)s is inactive.") % {"user": user})
    email_send(
        key="accounts-invitation",
        to=[user.email],
        language=user.language,
        context={
            "name": user.get_display_name(),
            "username": user.username,
            "company": SiteSettings.load().company_name,
            "url": invitation_url(user=user),
            "days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600),
        },
    )
    user.invited_at = timezone.now()
    user.save(update_fields=["invited_at"])
    return user


def user_accept_invitation(*, user: User, password: str) -> User:
    """Set the invited user's password; the token stops working because the hash changed."""
    user.set_password(password)
    user.save(update_fields=["password"])
    return user
