"""Review session pages, named `session-<action>`."""

urlpatterns: list = []
