from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    label = "kpis"
    verbose_name = "KPIs, measurements & exceptions"
    default_auto_field = "django.db.models.BigAutoField"
