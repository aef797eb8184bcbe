from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    label = "kpis"
    verbose_name = "KPIs, measurements & exceptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from govern.signals import (
            plan_version_approved,
            plan_version_discarded,
            plan_version_drafted,
        )
        from kpis import permissions  # noqa: F401  (registers the KPI rows of the matrix)
        from kpis.services import plan_versions
        from kpis.services.governance import on_plan_version_approved

        # Targets eased in two successive versions or while red: a target-gaming signal.
        plan_version_approved.connect(
            on_plan_version_approved, dispatch_uid="kpis.governance.targets_eased"
        )
        # The plan-version lifecycle: copy targets into a draft, recompute on approval, delete a
        # discarded draft's targets.
        plan_version_drafted.connect(
            plan_versions.on_plan_version_drafted, dispatch_uid="kpis.plan_versions.drafted"
        )
        plan_version_approved.connect(
            plan_versions.on_plan_version_approved, dispatch_uid="kpis.plan_versions.approved"
        )
        plan_version_discarded.connect(
            plan_versions.on_plan_version_discarded, dispatch_uid="kpis.plan_versions.discarded"
        )
