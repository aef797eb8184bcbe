"""Alignment assessment pages, named `alignment-<action>`."""

urlpatterns: list = []
