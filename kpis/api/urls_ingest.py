"""Routes filled in by the KPI work in progress."""

urlpatterns: list = []
