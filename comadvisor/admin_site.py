from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


class CrmAdminSite(admin.AdminSite):
    site_header = _("ComAdvisor CRM administration")
    site_title = _("ComAdvisor CRM")
    index_title = _("Settings and data")

    def password_change(self, request, extra_context=None):
        # Only admins set passwords (their own included); everyone else asks an admin.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().password_change(request, extra_context)
