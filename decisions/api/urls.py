"""The decision log API under /api/v1/: the decisions and the decision metrics. Each area keeps
its own route module."""

from django.urls import include, path

urlpatterns = [
    path("", include("decisions.api.urls_decisions")),
    path("", include("decisions.api.urls_metrics")),
    path("", include("decisions.api.urls_contingency")),
    path("", include("decisions.api.urls_sessions")),
    path("", include("decisions.api.urls_alignment")),
]
