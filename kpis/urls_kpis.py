"""KPI pages: list, detail, create, edit, delete, target trajectory and manual actuals."""

from django.urls import path

from kpis import views_kpis as views

urlpatterns = [
    path("kpis/", views.kpi_list, name="kpi-list"),
    path("kpis/new/", views.kpi_create, name="kpi-create"),
    path("kpis/<int:pk>/", views.kpi_detail, name="kpi-detail"),
    path("kpis/<int:pk>/edit/", views.kpi_update, name="kpi-update"),
    path("kpis/<int:pk>/delete/", views.kpi_delete, name="kpi-delete"),
    path("kpis/<int:pk>/targets/", views.kpi_targets, name="kpi-targets"),
    path("kpis/<int:pk>/actuals/", views.kpi_record, name="kpi-record"),
]
