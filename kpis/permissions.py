"""The KPI app's rows in the permission matrix (govern/permissions.py, docs/permissions.md)."""

from django.db.models import Q

from govern.permissions import VIEW, Scope, register
from kpis.choices import ExceptionKind
from kpis.models import ImportJob, Kpi, KpiException

RECORD = "record"  # enter actuals for a KPI: its owner, its department's leads, the PMO
ACT = "act"  # acknowledge or assign an exception
# Target-gaming signals and alignment exceptions are about people's conduct: only the PMO and the
# executives see them and act on them (docs/exceptions.md, docs/alignment.md).
LEADERSHIP_ONLY_KINDS = (ExceptionKind.GOVERNANCE, ExceptionKind.ALIGNMENT)


def _kpi_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or Q(department_id__in=s.departments)
    if s.is_pmo:
        return True
    in_lead_department = Q(department_id__in=s.lead_departments)
    if action == RECORD:
        return in_lead_department | Q(owner_id=s.user_id, is_active=True)
    return in_lead_department


def _exception_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        # A contract's exception is owned on the provider side and visible to the consumer.
        return s.reads_everything or (
            (
                Q(department_id__in=s.departments)
                | Q(contract__consumer_department_id__in=s.departments)
            )
            & ~Q(kind__in=LEADERSHIP_ONLY_KINDS)
        )
    if action == ACT:
        if s.reads_everything:
            return True
        return (Q(department_id__in=s.lead_departments) | Q(owner_id=s.user_id)) & ~Q(
            kind__in=LEADERSHIP_ONLY_KINDS
        )
    return False  # exceptions are raised and resolved by the engine, never edited


def _import_job_rule(s: Scope, action: str) -> Q | bool:
    if s.is_pmo:
        return True
    return Q(created_by_id=s.user_id)


register(Kpi, _kpi_rule, add_in_department=True)
register(KpiException, _exception_rule)
register(ImportJob, _import_job_rule)
