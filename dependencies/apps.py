from django.apps import AppConfig


class DependenciesConfig(AppConfig):
    name = "dependencies"
    label = "dependencies"
    verbose_name = "Dependency contracts & ripple analysis"
    default_auto_field = "django.db.models.BigAutoField"
