from django.urls import path

from crm import exports, views

app_name = "crm"

urlpatterns = [
    path("restaurants/", views.restaurant_list, name="restaurant_list"),
    path("restaurants/new/", views.restaurant_create, name="restaurant_create"),
    path("restaurants/export/", exports.restaurant_export, name="restaurant_export"),
    path("restaurants/import/", exports.restaurant_import, name="restaurant_import"),
    path("restaurants/reassign/", views.restaurant_reassign, name="restaurant_reassign"),
    path("restaurants/<int:pk>/", views.restaurant_detail, name="restaurant_detail"),
    path("restaurants/<int:pk>/edit/", views.restaurant_edit, name="restaurant_edit"),
    path("restaurants/<int:pk>/archive/", views.restaurant_archive, name="restaurant_archive"),
    path(
        "restaurants/<int:pk>/unarchive/", views.restaurant_unarchive, name="restaurant_unarchive"
    ),
    path("restaurants/<int:pk>/delete/", views.restaurant_delete, name="restaurant_delete"),
    path("restaurants/<int:pk>/assets/", views.restaurant_assets, name="restaurant_assets"),
    path("restaurants/<int:pk>/share/", views.restaurant_share, name="restaurant_share"),
    path("restaurants/<int:pk>/timeline/", views.restaurant_timeline, name="restaurant_timeline"),
    path("restaurants/<int:pk>/history/", views.restaurant_history, name="restaurant_history"),
    path(
        "restaurants/<int:pk>/change-request/",
        views.change_request_create,
        name="change_request_create",
    ),
    path("restaurants/<int:pk>/convert/", views.conversion_create, name="conversion_create"),
    path(
        "restaurants/<int:pk>/contacts/add/",
        views.restaurant_contact_add,
        name="restaurant_contact_add",
    ),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("requests/", views.request_inbox, name="request_inbox"),
    path("requests/changes/<int:pk>/", views.change_request_detail, name="change_request"),
    path("requests/conversions/<int:pk>/", views.conversion_detail, name="conversion_request"),
    path(
        "requests/conversions/<int:pk>/signature.png",
        views.conversion_signature,
        name="conversion_signature",
    ),
]
