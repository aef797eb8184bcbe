"""Routes for the decision metrics: /api/v1/metrics/decision-latency/."""

from django.urls import path

from decisions.api.metrics import DecisionLatencyView

urlpatterns = [
    path(
        "metrics/decision-latency/",
        DecisionLatencyView.as_view(),
        name="api-metrics-decision-latency",
    ),
]
