"""The offline client's pages (served under /field/); its service worker is served from the root
(comadvisor/urls.py) so that its scope may cover /field/."""

from django.urls import path

from field import client_views

urlpatterns = [
    path("", client_views.shell, name="shell"),
    path("manifest.webmanifest", client_views.manifest, name="manifest"),
]
