from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"
    label = "decisions"
    verbose_name = "Decisions, contingency plans & reviews"
    default_auto_field = "django.db.models.BigAutoField"
