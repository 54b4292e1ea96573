from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.enums import RoleName


class UserQuerySet(models.QuerySet):
    def visible_to(self, user) -> "UserQuerySet":
        """Every active colleague is visible to staff who manage users; others see themselves."""
        if user.has_perm("accounts.view_user"):
            return self.all()
        if user.is_authenticated:
            return self.filter(pk=user.pk)
        return self.none()

    def with_role(self, role: str) -> "UserQuerySet":
        return self.filter(groups__name=role)


class CrmUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """An employee. Roles are the Django groups they belong to (see accounts.roles)."""

    email = models.EmailField(_("e-mail address"), blank=True)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    invited_at = models.DateTimeField(_("invitation sent at"), null=True, blank=True)

    objects = CrmUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Users log in with their e-mail too, so two accounts may not share one.
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("Another user already has this e-mail address."),
            ),
        ]
        permissions = [
            ("manage_users", _("Can manage users (create, edit, roles, invitations)")),
            ("invite_user", _("Can send invitation e-mails")),
            ("manage_admins", _("Can add, edit and remove administrators")),
        ]

    def __str__(self) -> str:
        return self.get_display_name()

    def get_display_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def role_names(self) -> list[str]:
        """The user's role codes, from prefetched groups when available."""
        return sorted(group.name for group in self.groups.all())

    def has_role(self, role: RoleName | str) -> bool:
        return str(role) in self.role_names
