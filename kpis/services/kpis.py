"""Writes for KPI definitions: create, update, delete. Audited like `govern.services`; a change
to how a KPI is judged (direction, tolerance, band, activity) bumps `inputs_changed_at` and asks
the workers to recompute it once the transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from govern import permissions as perms
from govern.audit import audited_create, audited_delete, audited_update
from govern.errors import ConflictError, validation_fields
from govern.models import Department, Initiative, Objective, Person
from kpis.choices import Direction, Frequency, ToleranceMode, Unit
from kpis.models import Kpi, Measurement, Target

KPI_FIELDS = (
    "code", "name", "description", "department", "owner", "unit", "direction", "frequency",
    "criticality", "tolerance_mode", "amber_threshold", "red_threshold", "band_low", "band_high",
    "is_active",
)  # fmt: skip

# Fields that change how the KPI's periods are judged: a change means a recompute.
JUDGEMENT_FIELDS = frozenset(
    {
        "direction", "tolerance_mode", "amber_threshold", "red_threshold", "band_low",
        "band_high", "is_active",
    }
)  # fmt: skip

# Constraint messages (non-field errors from `validate_constraints`) and the field they belong to.
CONSTRAINT_FIELDS = {
    "The amber threshold must be below the red threshold.": "red_threshold",
    "A within-band KPI needs a band: a low and a high value, low below high.": "band_high",
    "Criticality must be between 1 and 5.": "criticality",
}


def _code_taken_message(code: str) -> str:
    return f"A KPI with the code {code} already exists; KPI codes are unique."


def _clean_code(code: str) -> str:
    return (code or "").strip().upper()


def _ensure_code_free(code: str, *, exclude_pk: int | None = None) -> None:
    taken = Kpi.objects.filter(code__iexact=code)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"code": _code_taken_message(code)})


def _with_field_errors(exc: ValidationError) -> ValidationError:
    """The model's rules as field errors: constraint messages go on the field they are about."""
    fields = validation_fields(exc)
    general = fields.pop("non_field_errors", [])
    for message in general:
        target = CONSTRAINT_FIELDS.get(message, "__all__")
        fields.setdefault(target, []).append(message)
    return ValidationError(fields)


def _schedule_recompute(kpi: Kpi) -> None:
    from kpis.tasks import kpi_recompute

    Kpi.objects.filter(pk=kpi.pk).update(inputs_changed_at=timezone.now())
    kpi_recompute.delay_on_commit(kpi_ids=[kpi.pk])


@transaction.atomic
def kpi_create(
    *,
    actor: Person,
    code: str,
    name: str,
    department: Department,
    owner: Person,
    description: str = "",
    unit: str = Unit.UNITS,
    direction: str = Direction.HIGHER_IS_BETTER,
    frequency: str = Frequency.MONTHLY,
    criticality: int = 3,
    tolerance_mode: str = ToleranceMode.PERCENT,
    amber_threshold: float = 5.0,
    red_threshold: float = 10.0,
    band_low: float | None = None,
    band_high: float | None = None,
    is_active: bool = True,
    objectives: Iterable[Objective] = (),
    initiatives: Iterable[Initiative] = (),
) -> Kpi:
    perms.ensure_can_add(actor, Kpi, department=department)
    code = _clean_code(code)
    _ensure_code_free(code)
    data = {
        "code": code, "name": name, "description": description, "department": department,
        "owner": owner, "unit": unit, "direction": direction, "frequency": frequency,
        "criticality": criticality, "tolerance_mode": tolerance_mode,
        "amber_threshold": amber_threshold, "red_threshold": red_threshold, "band_low": band_low,
        "band_high": band_high, "is_active": is_active,
    }  # fmt: skip
    try:
        kpi = audited_create(
            Kpi,
            actor=actor,
            data=data,
            m2m={"objectives": list(objectives), "initiatives": list(initiatives)},
        )
    except ValidationError as exc:
        raise _with_field_errors(exc) from exc
    return kpi


@transaction.atomic
def kpi_update(
    *,
    actor: Person,
    kpi: Kpi,
    data: dict,
    objectives: Iterable[Objective] | None = None,
    initiatives: Iterable[Initiative] | None = None,
) -> Kpi:
    perms.ensure_allowed(actor, perms.CHANGE, kpi)
    data = {key: value for key, value in data.items() if key in KPI_FIELDS}
    if "code" in data:
        data["code"] = _clean_code(data["code"])
        if data["code"] != kpi.code:
            _ensure_code_free(data["code"], exclude_pk=kpi.pk)
    if "department" in data and data["department"] != kpi.department:
        perms.ensure_can_add(actor, Kpi, department=data["department"])
    if data.get("frequency", kpi.frequency) != kpi.frequency and (
        Target.objects.filter(kpi=kpi).exists() or Measurement.objects.filter(kpi=kpi).exists()
    ):
        raise ValidationError(
            {
                "frequency": (
                    "The frequency cannot change once the KPI has targets or measurements: "
                    "their periods would no longer be period starts. Create a new KPI instead."
                )
            }
        )
    m2m = {}
    if objectives is not None:
        m2m["objectives"] = list(objectives)
    if initiatives is not None:
        m2m["initiatives"] = list(initiatives)
    try:
        kpi, changes = audited_update(kpi, actor=actor, data=data, m2m=m2m or None)
    except ValidationError as exc:
        raise _with_field_errors(exc) from exc
    if changes.keys() & JUDGEMENT_FIELDS:
        _schedule_recompute(kpi)
    return kpi


@transaction.atomic
def kpi_delete(*, actor: Person, kpi: Kpi) -> None:
    """Delete a KPI that has no measurements yet (with its targets and computed results). A KPI
    with actuals keeps its history: deactivate it instead."""
    perms.ensure_allowed(actor, perms.DELETE, kpi)
    measured = Measurement.objects.filter(kpi=kpi).count()
    if measured:
        raise ConflictError(
            f"{kpi.code} has {measured} measurement{'s' if measured != 1 else ''}; a measured "
            "KPI keeps its history. Deactivate it instead.",
            code="protected",
            details={"blocking": ["measurements"]},
        )
    audited_delete(kpi, actor=actor)
