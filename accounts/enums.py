from django.db import models
from django.utils.translation import gettext_lazy as _


class RoleName(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    DIRECTION = "direction", _("Direction")
    CLIENT_MANAGER = "client_manager", _("Client manager")
    SALES_AGENT = "sales_agent", _("Sales agent")
    COMMUNITY_MANAGER = "community_manager", _("Community manager")
    REVIEW_MANAGER = "review_manager", _("Review manager")
    ACCOUNTANT = "accountant", _("Accountant")
