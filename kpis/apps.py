from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    label = "kpis"
    verbose_name = "KPIs, measurements & exceptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kpis import permissions  # noqa: F401  (registers the KPI rows of the matrix)
