"""Contingency plan pages, named `contingency-<action>`."""

urlpatterns: list = []
