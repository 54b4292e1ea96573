from django.urls import path

from reports import field_views, monthly_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reports/monthly/", monthly_views.monthly_list, name="monthly_list"),
    path("reports/monthly/<int:pk>/", monthly_views.monthly_detail, name="monthly_detail"),
    path(
        "reports/monthly/<int:pk>/preview/", monthly_views.monthly_preview, name="monthly_preview"
    ),
    path("reports/monthly/<int:pk>/pdf/", monthly_views.monthly_pdf, name="monthly_pdf"),
    path("reports/monthly/batches/", monthly_views.monthly_batch_start, name="monthly_batch_start"),
    path("reports/monthly/batches/<int:pk>/", monthly_views.monthly_batch, name="monthly_batch"),
    path("stats/field/", field_views.field_stats_page, name="field_stats"),
    path("stats/field/pdf/", field_views.field_stats_pdf, name="field_stats_pdf"),
]
