"""Alignment assessment pages, named `alignment-<action>` (the navigation marks the People entry by
that prefix)."""

from django.urls import path

from decisions import views_alignment as views

urlpatterns = [
    path("alignment/", views.alignment_heatmap, name="alignment-heatmap"),
    path("alignment/list/", views.alignment_list, name="alignment-list"),
    path("alignment/new/", views.alignment_create, name="alignment-create"),
    path("alignment/<int:pk>/", views.alignment_detail, name="alignment-detail"),
    path("alignment/<int:pk>/edit/", views.alignment_update, name="alignment-update"),
]
