from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from accounts.permissions import admin_only_permissions, expand


class RoleBackend(ModelBackend):
    """Login with username or e-mail; permissions expanded through the hierarchy.

    Non-admins never hold an admin-only permission, even if a group grants it by mistake: this is
    where "direction may do what admins do, except admins and settings" is enforced.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        User = get_user_model()
        identifier = username.strip()
        lookup = Q(username__iexact=identifier)
        if "@" in identifier:
            lookup |= Q(email__iexact=identifier)
        candidates = list(User._default_manager.filter(lookup)[:2])
        if len(candidates) != 1:
            # Run the hasher anyway so response time does not reveal whether the user exists.
            User().set_password(password)
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_role_perm_cache"):
            perms = expand(super().get_all_permissions(user_obj))
            if not user_obj.is_superuser:
                perms -= admin_only_permissions()
            user_obj._role_perm_cache = perms
        return user_obj._role_perm_cache
