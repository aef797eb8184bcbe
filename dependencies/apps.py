from django.apps import AppConfig


class DependenciesConfig(AppConfig):
    name = "dependencies"
    label = "dependencies"
    verbose_name = "Dependency contracts & ripple analysis"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dependencies import (
            graph,  # noqa: F401  (keeps the cached dependency graph in sync)
            permissions,  # noqa: F401  (the contracts' rows of the matrix)
            signals,  # noqa: F401  (contract health follows the KPI engine)
        )
