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
        from dependencies.services import plan_versions
        from govern.signals import plan_version_approved, plan_version_drafted

        # The plan-version lifecycle: a draft copies the contract terms, an approval freezes the
        # previous version's, cancels the dropped contracts and moves the carried ones.
        plan_version_drafted.connect(
            plan_versions.on_plan_version_drafted,
            dispatch_uid="dependencies.plan_versions.drafted",
        )
        plan_version_approved.connect(
            plan_versions.on_plan_version_approved,
            dispatch_uid="dependencies.plan_versions.approved",
        )
