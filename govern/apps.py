from django.apps import AppConfig


class GovernConfig(AppConfig):
    name = "govern"
    label = "govern"
    verbose_name = "Govern: organisation & strategy"
    default_auto_field = "django.db.models.BigAutoField"
