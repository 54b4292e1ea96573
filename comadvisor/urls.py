from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from comadvisor import views
from field import client_views as field_client_views

urlpatterns = [
    path("", include("reports.urls")),
    path("", include("crm.urls")),
    path("", include("sales.urls")),
    path("", include("social.urls")),
    path("field/", include("field.urls")),
    path("field-sw.js", field_client_views.service_worker, name="field_service_worker"),
    path("accounts/", include("accounts.urls")),
    path("language/", account_views.set_language, name="set_language"),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
]
