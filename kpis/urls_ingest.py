"""Import pages: list, upload, the job page with its dry run, progress partial and commit."""

from django.urls import path

from kpis import views_ingest as views

urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("imports/new/", views.import_create, name="import-create"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:pk>/commit/", views.import_commit, name="import-commit"),
]
