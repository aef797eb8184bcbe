"""The KPI API under /api/v1/: definitions, series and targets; measurements and imports;
exceptions. Each area keeps its own route module."""

from django.urls import include, path

urlpatterns = [
    path("", include("kpis.api.urls_kpis")),
    path("", include("kpis.api.urls_ingest")),
    path("", include("kpis.api.urls_exceptions")),
]
