"""The sessions API."""

urlpatterns: list = []
