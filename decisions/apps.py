from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"
    label = "decisions"
    verbose_name = "Decisions, contingency plans & reviews"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from decisions import (
            permissions,  # noqa: F401  (the decision log's rows of the matrix)
            signals,  # noqa: F401  (contingency plans fire after a KPI recompute)
        )
