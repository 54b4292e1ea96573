from django.urls import include, path

from field import views

app_name = "field"

urlpatterns = [
    path("api/envelopes", views.api_envelopes, name="api_envelopes"),
    path("api/snapshot", views.api_snapshot, name="api_snapshot"),
    # The offline client's pages and service worker (field/client_urls.py).
    path("", include("field.client_urls")),
]
