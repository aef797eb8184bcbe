"""The alignment API."""

urlpatterns: list = []
