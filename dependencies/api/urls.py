"""The contracts API under /api/v1/: contracts, their versions and amendments; the ripple.
Each area keeps its own route module."""

from django.urls import include, path

urlpatterns = [
    path("", include("dependencies.api.urls_contracts")),
    path("", include("dependencies.api.urls_ripple")),
]
