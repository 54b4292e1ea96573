from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ComadvisorConfig(AppConfig):
    default = True
    name = "comadvisor"
    verbose_name = _("Platform")


class CrmAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "comadvisor.admin_site.CrmAdminSite"
