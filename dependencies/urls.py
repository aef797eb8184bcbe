"""The contract pages (list, detail, versions, amendments, matrix) and the ripple view. Each area
keeps its own route module."""

from django.urls import include, path

urlpatterns = [
    path("", include("dependencies.urls_contracts")),
    path("", include("dependencies.urls_ripple")),
]
