"""Routes for the ripple: /api/v1/ripple/?node=<type>:<id or code>&depth=<n>."""

from django.urls import path

from dependencies.api.ripple import RippleView

urlpatterns = [
    path("ripple/", RippleView.as_view(), name="api-ripple"),
]
