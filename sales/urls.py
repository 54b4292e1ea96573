from django.urls import path, re_path

from sales import agenda, kpis, pipeline, views

app_name = "sales"

urlpatterns = [
    path("contracts/", views.contract_list, name="contract_list"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("pipeline/", pipeline.pipeline, name="pipeline"),
    path("sales/kpis/", kpis.kpis, name="kpis"),
    path("pipeline/new/", pipeline.opportunity_create, name="opportunity_create"),
    path("pipeline/<int:pk>/move/", pipeline.opportunity_move, name="opportunity_move"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    re_path(
        r"^contracts/(?P<pk>[0-9]+)/(?P<action>upgrade|suspend|resume|end|renew)/$",
        views.contract_action,
        name="contract_action",
    ),
    path(
        "restaurants/<int:restaurant_pk>/sales/",
        views.restaurant_section,
        name="restaurant_section",
    ),
    path(
        "restaurants/<int:restaurant_pk>/contracts/new/",
        views.contract_create,
        name="contract_create",
    ),
    path("restaurants/<int:restaurant_pk>/visit-today/", agenda.visit_today, name="visit_today"),
    path(
        "restaurants/<int:restaurant_pk>/summary/",
        views.restaurant_summary,
        name="restaurant_summary",
    ),
    path("agenda/", agenda.agenda, name="agenda"),
    path("agenda/events/", agenda.agenda_events, name="agenda_events"),
    path("agenda/visits/", agenda.visit_plan, name="visit_plan"),
    path("visits/", views.visit_list, name="visit_list"),
    path("agenda/visits/<int:pk>/", agenda.visit_detail, name="visit_detail"),
    path("agenda/visits/<int:pk>/move/", agenda.visit_move, name="visit_move"),
    path("agenda/feed/", agenda.feed_regenerate, name="feed_regenerate"),
    path("agenda/feed/<str:token>.ics", agenda.ical_feed, name="ical_feed"),
    path("agenda/google/connect/", agenda.calendar_connect, name="calendar_connect"),
    path("agenda/google/callback/", agenda.calendar_callback, name="calendar_callback"),
    path("agenda/google/disconnect/", agenda.calendar_disconnect, name="calendar_disconnect"),
]
