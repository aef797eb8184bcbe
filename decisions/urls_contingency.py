"""Contingency plan pages, named `contingency-<action>` (the navigation marks them, under
Decisions, by that prefix). There is no delete: a plan is disabled, with its reason."""

from django.urls import path

from decisions import views_contingency as views

urlpatterns = [
    path("contingency-plans/", views.contingency_list, name="contingency-list"),
    path("contingency-plans/new/", views.contingency_create, name="contingency-create"),
    path("contingency-plans/<int:pk>/", views.contingency_detail, name="contingency-detail"),
    path("contingency-plans/<int:pk>/edit/", views.contingency_update, name="contingency-update"),
    path(
        "contingency-plans/<int:pk>/disable/",
        views.contingency_disable,
        name="contingency-disable",
    ),
    path("contingency-plans/<int:pk>/enable/", views.contingency_enable, name="contingency-enable"),
    path(
        "contingency-plans/kpi/<int:kpi_pk>/",
        views.contingency_kpi_panel,
        name="contingency-kpi-panel",
    ),
]
