"""The KPI pages: KPI list and detail, imports, exceptions. Each area keeps its own route module."""

from django.urls import include, path

urlpatterns = [
    path("", include("kpis.urls_kpis")),
    path("", include("kpis.urls_ingest")),
    path("", include("kpis.urls_exceptions")),
]
