"""The contingency API."""

urlpatterns: list = []
