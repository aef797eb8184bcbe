"""Writes for contingency plans, and the trigger that turns a plan into a proposed decision.

Defining, changing, disabling and enabling a plan are audited writes by the PMO or a lead of the
KPI's department, validated as a whole (every field's message at once, nothing written on a
refusal); the reallocation template's lines are checked exactly as a decision's
(`decisions.services.log.validate_reallocation_lines`).

`contingency_check` is the trigger, run by the KPI recompute (`decisions.signals`): one query for
the enabled plans of the recomputed KPIs (the whole cost when there are none), one for their
stored results; the pure engine (`decisions.engine.contingency`) says which plans fire now; each
firing plan proposes a decision through `decision_log(..., propose=True)` and tells its owner. A
plan fires once per run, never while a decision it proposed is still proposed, never twice for
the same unresolved exception. The rules are in docs/contingency-plans.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from decisions import permissions as decision_perms
from decisions import selectors_contingency as selectors
from decisions.choices import DecisionStatus, TriggerBasis
from decisions.engine import contingency as engine
from decisions.models import ContingencyPlan, ContingencyReallocation, Decision
from decisions.services.log import decision_log, validate_reallocation_lines
from decisions.services.validation import FieldErrors, visible
from govern.audit import audited_update, diff, record, snapshot
from govern.choices import AuditAction, NotificationKind
from govern.errors import ApplicationError, ConflictError
from govern.models import Person
from govern.notifications import Notice, notify_many
from kpis.choices import Direction, ExceptionKind, ExceptionStatus, Frequency
from kpis.models import Kpi, KpiException

logger = logging.getLogger(__name__)

ACCEPTED = {
    "kpi", "name", "trigger_basis", "threshold_pct", "periods", "response", "owner",
    "reallocations",
}  # fmt: skip
FIELDS = ("kpi", "name", "trigger_basis", "threshold_pct", "periods", "response", "owner")
MIN_THRESHOLD, MAX_THRESHOLD = 0.1, 1000.0
MAX_PERIODS = 24
LINE_FIELDS = ("from_initiative", "from_department", "to_initiative", "to_department")
# The exceptions a plan's proposal answers: the KPI's performance, never its missing data or a
# governance signal.
ANSWERED_KINDS = (ExceptionKind.KPI_RED, ExceptionKind.KPI_AMBER, ExceptionKind.FORECAST_BREACH)
# Above this many recomputed KPIs the plans are loaded whole and matched in Python: an IN list
# of 20,000 ids costs more than the few plans there are.
MAX_IN_IDS = 500
NOUNS = {
    Frequency.WEEKLY: ("week", "weeks"),
    Frequency.MONTHLY: ("month", "months"),
    Frequency.QUARTERLY: ("quarter", "quarters"),
}


# --- In words -------------------------------------------------------------------------------


def _side(kpi: Kpi) -> str:
    return {
        Direction.HIGHER_IS_BETTER: "below plan",
        Direction.LOWER_IS_BETTER: "above plan",
    }.get(kpi.direction, "outside its band")


def count_periods(count: int, frequency: str) -> str:
    """A number of periods in words: 2 months, 1 week."""
    one, many = NOUNS.get(frequency, ("period", "periods"))
    return f"{count} {one if count == 1 else many}"


def period_label(period: dt.date, frequency: str) -> str:
    """A period in words: Jun 2026, Q2 2026, the week of 01 Jun 2026."""
    if frequency == Frequency.WEEKLY:
        return f"the week of {period:%d %b %Y}"
    if frequency == Frequency.QUARTERLY:
        return f"Q{(period.month - 1) // 3 + 1} {period.year}"
    return f"{period:%b %Y}"


def describe_trigger(plan: ContingencyPlan) -> str:
    """The trigger in words: "PROC-OTD is ≥ 8% below plan for 2 consecutive months (actual)"."""
    kpi = plan.kpi
    threshold = f"≥ {plan.threshold_pct:g}% {_side(kpi)}"
    one, many = NOUNS.get(kpi.frequency, ("period", "periods"))
    if plan.trigger_basis == TriggerBasis.FORECAST:
        ahead = one if plan.periods == 1 else f"{plan.periods} {many}"
        return f"{kpi.code} is forecast to be {threshold} for the next {ahead}"
    if plan.periods == 1:
        return f"{kpi.code} is {threshold} in a {one} (actual)"
    return f"{kpi.code} is {threshold} for {plan.periods} consecutive {many} (actual)"


def describe_plan(plan: ContingencyPlan) -> str:
    """The plan in words: If PROC-OTD is ≥ 8% below plan for 2 consecutive months (actual),
    then …"""
    response = plan.response.strip()
    if response[:1].isupper() and not response[1:2].isupper():  # "Expedite", not "PMO"
        response = response[0].lower() + response[1:]
    return f"If {describe_trigger(plan)}, then {response}"


def _number(value: float | None) -> str:
    return "—" if value is None or value != value else f"{value:,.6g}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def describe_window(occasion: selectors.Occasion, kpi: Kpi) -> str:
    """The periods that fired it: "Jun 2026: 83 against a plan of 95 (12.6% adverse); …"."""
    return "; ".join(
        f"{period_label(part.period, kpi.frequency)}: {_number(part.value)} against a plan of "
        f"{_number(part.plan)} ({_pct(part.adverse_pct)} adverse)"
        for part in occasion.window
    )


# --- Validation -------------------------------------------------------------------------------


@dataclass
class _Draft:
    fields: dict[str, Any]
    lines: list[ContingencyReallocation] | None  # None: the template is not being changed


def _threshold(value, errors: FieldErrors) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.add("threshold_pct", f"Enter the threshold as a number of percent; got {value!r}.")
        return None
    if not math.isfinite(number):
        errors.add("threshold_pct", "Enter a finite number (not NaN or infinity).")
        return None
    if not MIN_THRESHOLD <= number <= MAX_THRESHOLD:
        errors.add(
            "threshold_pct",
            f"The threshold is an adverse variance between {MIN_THRESHOLD:g}% and "
            f"{MAX_THRESHOLD:g}% of plan.",
        )
        return None
    return number


def _period_count(value, errors: FieldErrors) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number != int(number):
        errors.add("periods", f"Enter a whole number of periods; got {value!r}.")
        return None
    if not 1 <= number <= MAX_PERIODS:
        errors.add("periods", f"Between 1 and {MAX_PERIODS} consecutive periods.")
        return None
    return int(number)


def _validate(actor, data: Mapping[str, Any], *, plan: ContingencyPlan | None) -> _Draft:
    """Check the whole input (for an update, what is given merged over the stored plan)."""
    errors = FieldErrors()
    unknown = sorted(set(data) - ACCEPTED)
    if unknown:
        errors.add("non_field_errors", f"Unknown fields: {', '.join(unknown)}.")
    given = {name: data[name] for name in FIELDS if name in data}
    merged = {name: getattr(plan, name) for name in FIELDS} if plan is not None else {}
    merged.update(given)
    fields: dict[str, Any] = {}

    if plan is None:
        kpi = visible(actor, Kpi, merged.get("kpi"), "kpi", errors)
        if kpi is None and "kpi" not in errors.fields:
            errors.add("kpi", "Choose the KPI the plan watches.")
        if kpi is not None:
            _ensure_may_define(actor, kpi)
    else:
        kpi = plan.kpi
        asked = given.get("kpi")
        if asked not in (None, "") and str(getattr(asked, "pk", asked)) != str(kpi.pk):
            errors.add(
                "kpi",
                "A plan stays on its KPI: disable it and define a new plan on the other KPI.",
            )
    fields["kpi"] = kpi

    name = str(merged.get("name") or "").strip()
    if not name:
        errors.add("name", "Give the plan a short name.")
    elif len(name) > 200:
        errors.add("name", "At most 200 characters.")
    elif kpi is not None:
        taken = ContingencyPlan.objects.filter(kpi=kpi, name__iexact=name)
        if plan is not None:
            taken = taken.exclude(pk=plan.pk)
        if taken.exists():
            errors.add("name", f"{kpi.code} already has a contingency plan named “{name}”.")
    fields["name"] = name

    basis = str(merged.get("trigger_basis") or TriggerBasis.ACTUAL)
    if basis not in TriggerBasis.values:
        errors.add(
            "trigger_basis",
            "Choose what the plan watches: "
            + " or ".join(f"{v} ({label.lower()})" for v, label in TriggerBasis.choices)
            + ".",
        )
    fields["trigger_basis"] = basis
    fields["threshold_pct"] = _threshold(merged.get("threshold_pct"), errors)
    periods = _period_count(merged.get("periods", 1), errors)
    horizon = settings.GOVERN_FORECAST_HORIZON
    if periods is not None and basis == TriggerBasis.FORECAST and periods > horizon:
        errors.add(
            "periods",
            f"The forecast looks {horizon} period{'s' if horizon != 1 else ''} ahead: a "
            f"forecast trigger can span at most {horizon}.",
        )
    fields["periods"] = periods

    response = str(merged.get("response") or "").strip()
    if not response:
        errors.add("response", "Say what will be done when the plan fires: the agreed response.")
    fields["response"] = response

    owner = visible(actor, Person, merged.get("owner"), "owner", errors)
    if owner is None and "owner" not in errors.fields:
        errors.add("owner", "Name the person who owns the response.")
    elif owner is not None and kpi is not None:
        if not owner.is_active or not decision_perms.may_propose(owner, kpi.department_id):
            errors.add(
                "owner",
                f"{owner} may not record decisions for {kpi.department}: choose one of its "
                "members (not a viewer), its leads, the PMO or an executive, so that the "
                "decision the plan proposes can be recorded in their name.",
            )
    fields["owner"] = owner

    lines = None
    if "reallocations" in data:
        built, messages = validate_reallocation_lines(actor, data.get("reallocations"))
        for field, texts in messages.items():
            for text in texts:
                errors.add(field, text)
        lines = [
            ContingencyReallocation(
                **{name: getattr(line, name) for name in LINE_FIELDS},
                amount=line.amount,
                unit=line.unit,
            )
            for line in built
        ]
    errors.raise_any()
    return _Draft(fields=fields, lines=lines)


def _ensure_may_define(actor, kpi: Kpi) -> None:
    if not selectors.may_define(actor, kpi.department_id):
        raise PermissionDenied(
            f"Only the PMO and the leads of {kpi.department} may define, change or disable "
            f"contingency plans on {kpi.code}."
        )


# --- Writing ----------------------------------------------------------------------------------


def _line_text(line: ContingencyReallocation) -> str:
    source = line.from_initiative or line.from_department
    target = line.to_initiative or line.to_department
    return f"{line.amount} {line.get_unit_display()}: {source} → {target}"


def _state(plan: ContingencyPlan) -> dict[str, Any]:
    """The audited fields and the template's lines, as text."""
    return {
        **snapshot(plan),
        "reallocations": [_line_text(line) for line in plan.reallocations.all()],
    }


def _write_lines(plan: ContingencyPlan, lines: list[ContingencyReallocation]) -> None:
    plan.reallocations.all().delete()
    for line in lines:
        line.plan = plan
        line.full_clean()
    ContingencyReallocation.objects.bulk_create(lines)


def _locked(plan: ContingencyPlan) -> ContingencyPlan:
    found = (
        ContingencyPlan.objects.select_for_update(of=("self",))
        .select_related("kpi", "kpi__department", "owner")
        .filter(pk=plan.pk)
        .first()
    )
    if found is None:
        raise ConflictError(f"Contingency plan {plan.pk} no longer exists.", code="gone")
    return found


@transaction.atomic
def contingency_plan_create(*, actor: Person, data: Mapping[str, Any]) -> ContingencyPlan:
    """Define a plan. `data`: kpi, name, trigger_basis (`actual` or `forecast`, default actual),
    threshold_pct (adverse variance in % of plan, 0.1–1000), periods (consecutive periods,
    1–24; at most the forecast horizon on the forecast basis; default 1), response, owner (who
    may record decisions for the KPI's department) and reallocations (the template: lines as a
    decision takes them). Relations as instances or ids among the rows the actor may see. The
    PMO and the leads of the KPI's department only (403)."""
    draft = _validate(actor, data, plan=None)
    plan = ContingencyPlan(**draft.fields, created_by=actor)
    plan.full_clean()
    plan.save(force_insert=True)
    _write_lines(plan, draft.lines or [])
    record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=plan,
        changes={name: {"old": None, "new": value} for name, value in _state(plan).items()},
    )
    return plan


@transaction.atomic
def contingency_plan_update(
    *, actor: Person, plan: ContingencyPlan, data: Mapping[str, Any]
) -> ContingencyPlan:
    """Change what is given of a plan (the fields of `contingency_plan_create` but the KPI; the
    template is replaced when `reallocations` is given). Audited when something changes."""
    locked = _locked(plan)
    _ensure_may_define(actor, locked.kpi)
    draft = _validate(actor, data, plan=locked)
    before = _state(locked)
    for name, value in draft.fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    if draft.lines is not None:
        _write_lines(locked, draft.lines)
    changes = diff(before, _state(locked))
    if changes:
        record(actor=actor, action=AuditAction.UPDATE, instance=locked, changes=changes)
    return locked


@transaction.atomic
def contingency_plan_disable(
    *, actor: Person, plan: ContingencyPlan, reason: str
) -> ContingencyPlan:
    """Stop the plan from firing, with the reason (required; kept in its history). Its past
    decisions stay as they are. 409 when it is disabled already."""
    locked = _locked(plan)
    _ensure_may_define(actor, locked.kpi)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why the plan is disabled; it is kept in its history."}
        )
    if not locked.enabled:
        raise ConflictError(
            f"“{locked}” is disabled already (since {locked.disabled_at:%d %b %Y}).",
            code="already_disabled",
        )
    data = {
        "enabled": False,
        "disabled_at": timezone.now(),
        "disabled_by": actor,
        "disabled_reason": reason,
    }
    return audited_update(locked, actor=actor, data=data, reason=reason)[0]


@transaction.atomic
def contingency_plan_enable(
    *, actor: Person, plan: ContingencyPlan, reason: str = ""
) -> ContingencyPlan:
    """Arm a disabled plan again (the reason is optional). It fires at the next check that sees
    a new run reach its trigger (a run it fired for already does not fire it again). 409 when it
    is enabled already."""
    locked = _locked(plan)
    _ensure_may_define(actor, locked.kpi)
    if locked.enabled:
        raise ConflictError(f"“{locked}” is enabled already.", code="already_enabled")
    data = {"enabled": True, "disabled_at": None, "disabled_by": None, "disabled_reason": ""}
    return audited_update(locked, actor=actor, data=data, reason=(reason or "").strip())[0]


# --- The trigger ------------------------------------------------------------------------------


def _enabled_plans(kpi_ids: Iterable[int] | None) -> list[ContingencyPlan]:
    """The enabled plans of these active KPIs (all when None): one query."""
    queryset = ContingencyPlan.objects.filter(enabled=True, kpi__is_active=True).select_related(
        "kpi"
    )
    if kpi_ids is None:
        return list(queryset)
    wanted = set(kpi_ids)
    if not wanted:
        return []
    if len(wanted) <= MAX_IN_IDS:
        return list(queryset.filter(kpi_id__in=sorted(wanted)))
    return [plan for plan in queryset if plan.kpi_id in wanted]


def contingency_check(
    *, kpi_ids: Iterable[int] | None, today: dt.date | None = None
) -> list[Decision]:
    """Fire the enabled plans of these KPIs (all when None) whose trigger the engine sees at
    the KPI's latest period, each proposing a decision; returns the decisions proposed.
    Idempotent: a second run over the same results proposes nothing (see the module
    docstring). Runs inside the caller's transaction (the recompute's)."""
    today = today or timezone.localdate()
    plans = _enabled_plans(kpi_ids)
    if not plans:
        return []
    results, kpis = selectors.contingency_results_frame(kpi_ids={plan.kpi_id for plan in plans})
    if results.empty:
        return []
    fired = engine.firing(
        results, kpis, selectors.plan_frame(plans), today=today, **selectors.engine_settings()
    )
    if fired.empty:
        return []
    with transaction.atomic():
        return _fire(fired)


def _fire(fired: pd.DataFrame) -> list[Decision]:
    occasions = dict(zip(fired["plan_id"].tolist(), selectors.occasions_of(fired), strict=True))
    plans = list(
        ContingencyPlan.objects.select_for_update(of=("self",))
        .select_related("kpi", "kpi__department", "owner", "created_by")
        .prefetch_related(selectors.template_lines())
        .filter(pk__in=list(occasions), enabled=True)
        .order_by("pk")
    )
    # Once per run: not again while the run it fired for goes on.
    plans = [
        plan
        for plan in plans
        if plan.last_triggered_period is None
        or occasions[plan.pk].since > plan.last_triggered_period
    ]
    if not plans:
        return []
    worst = _worst_open_exceptions({plan.kpi_id for plan in plans})
    taken = Decision.objects.filter(contingency_plan__in=plans).filter(
        Q(status=DecisionStatus.PROPOSED) | Q(exception__in=list(worst.values()))
    )
    still_open, answered = set(), set()
    for plan_id, status, exception_id in taken.values_list(
        "contingency_plan_id", "status", "exception_id"
    ):
        if status == DecisionStatus.PROPOSED:
            still_open.add(plan_id)
        if exception_id is not None:
            answered.add((plan_id, exception_id))
    proposed, notices = [], []
    for plan in plans:
        exception = worst.get(plan.kpi_id)
        if plan.pk in still_open or (exception and (plan.pk, exception.pk) in answered):
            continue
        decision = _propose(plan, occasions[plan.pk], exception)
        if decision is not None:
            proposed.append(decision)
            notices.append(_owner_notice(plan, occasions[plan.pk], decision))
    if notices:
        notify_many(notices)
    return proposed


def _worst_open_exceptions(kpi_ids: set[int]) -> dict[int, KpiException]:
    """Per KPI, its unresolved performance exception of the highest severity: one query."""
    worst: dict[int, KpiException] = {}
    for exception in (
        KpiException.objects.filter(kpi_id__in=sorted(kpi_ids), kind__in=ANSWERED_KINDS)
        .exclude(status=ExceptionStatus.RESOLVED)
        .order_by("kpi_id", "-severity", "opened_at", "pk")
    ):
        worst.setdefault(exception.kpi_id, exception)
    return worst


def _proposal(
    plan: ContingencyPlan, occasion: selectors.Occasion, exception: KpiException | None
) -> dict[str, Any]:
    """The decision a firing plan proposes (`decision_log`'s data)."""
    kpi = plan.kpi
    at = period_label(occasion.period, kpi.frequency)
    lines = [
        {
            **{name: getattr(line, f"{name}_id") for name in LINE_FIELDS},
            "amount": line.amount,
            "unit": line.unit,
        }
        for line in plan.reallocations.all()
    ]
    if plan.trigger_basis == TriggerBasis.FORECAST:
        seen = (
            f"{kpi.code} ({kpi.name}) is forecast, from the actuals up to {at}, to be "
            f"≥ {plan.threshold_pct:g}% {_side(kpi)} for the next "
            f"{count_periods(plan.periods, kpi.frequency)}: {describe_window(occasion, kpi)}."
        )
    else:
        seen = (
            f"{kpi.code} ({kpi.name}) has been ≥ {plan.threshold_pct:g}% {_side(kpi)} for "
            f"{count_periods(occasion.run_length, kpi.frequency)} in a row up to {at} (the plan "
            f"fires at {plan.periods}): {describe_window(occasion, kpi)}."
        )
    data: dict[str, Any] = {
        "title": f"Contingency: {plan.name}"[:200],
        "department": kpi.department_id,
        "kpis": [kpi.pk],
        "contingency_plan": plan.pk,
        "chosen_option": plan.response,
        "options_considered": (
            f"Apply the pre-agreed response of contingency plan “{plan.name}”\n"
            "Decide otherwise: log a different decision on the KPI"
        ),
        "rationale": (
            f"Agreed in advance in contingency plan “{plan.name}” (owner {plan.owner}): "
            f"{describe_plan(plan)}"
        ),
        "reallocations": lines,
    }
    notes = [seen, f"The contingency plan “{plan.name}” fired at {at}."]
    if exception is not None and exception.tradeoff_required:
        source = next((line for line in plan.reallocations.all() if line.from_initiative), None)
        if source is None:
            notes.append(
                f"The exception “{exception.title}” needs a trade-off decision and the plan "
                "names no initiative it takes resources from, so this proposal does not answer "
                "it: log the trade-off decision on the exception."
            )
            exception = None
        else:
            data["tradeoff_initiative"] = source.from_initiative_id
            data["tradeoff_statement"] = (
                f"The plan's reallocation template takes {source.amount:,} "
                f"({source.get_unit_display()}) from {source.from_initiative}."
            )
    if exception is not None:
        data["exception"] = exception.pk
        notes.append(f"It answers the exception “{exception.title}”.")
    data["context"] = "\n".join(notes)
    return data


def _proposers(plan: ContingencyPlan) -> list[Person]:
    """Who the decision is proposed by: the owner; when the owner may not record it (no longer
    a member who may, or unable to see what the template names), the plan's author."""
    people = [plan.owner, plan.created_by]
    return [p for i, p in enumerate(people) if p is not None and p not in people[:i]]


def _propose(
    plan: ContingencyPlan, occasion: selectors.Occasion, exception: KpiException | None
) -> Decision | None:
    data = _proposal(plan, occasion, exception)
    refusals = []
    for actor in _proposers(plan):
        try:
            with transaction.atomic():
                decision = decision_log(actor=actor, data=data, propose=True)
        except (ValidationError, PermissionDenied, ApplicationError) as exc:
            refusals.append(f"{actor}: {exc}")
            continue
        _mark_triggered(plan, occasion, decision)
        return decision
    logger.warning(
        "Contingency plan %s fired at %s but no decision could be proposed (%s).",
        plan.pk,
        occasion.period.isoformat(),
        "; ".join(refusals) or "nobody to propose it",
    )
    return None


def _mark_triggered(
    plan: ContingencyPlan, occasion: selectors.Occasion, decision: Decision
) -> None:
    before = {
        "trigger_count": plan.trigger_count,
        "last_triggered_period": plan.last_triggered_period,
    }
    plan.last_triggered_at = timezone.now()
    plan.last_triggered_period = occasion.period
    plan.trigger_count += 1
    plan.save(update_fields=["last_triggered_at", "last_triggered_period", "trigger_count"])
    record(
        actor=None,
        action=AuditAction.PROPOSE,
        instance=plan,
        changes={
            "trigger_count": {"old": before["trigger_count"], "new": plan.trigger_count},
            "last_triggered_period": {
                "old": before["last_triggered_period"]
                and before["last_triggered_period"].isoformat(),
                "new": occasion.period.isoformat(),
            },
            "decision": {"old": None, "new": str(decision)},
        },
        reason=(
            f"Fired at {period_label(occasion.period, plan.kpi.frequency)}: proposed {decision}."
        ),
    )


def _owner_notice(
    plan: ContingencyPlan, occasion: selectors.Occasion, decision: Decision
) -> Notice:
    kpi = plan.kpi
    return Notice(
        recipients=[plan.owner_id],
        kind=NotificationKind.DECISION_PROPOSED,
        title=f"Contingency plan triggered: {plan.name} ({kpi.code})",
        body=(
            f"{describe_trigger(plan)}: it fired at "
            f"{period_label(occasion.period, kpi.frequency)} "
            f"({describe_window(occasion, kpi)}).\n"
            f"{decision} proposes your agreed response: {plan.response.strip()}\n"
            f"Proposed by {decision.proposed_by_name}; "
            + (
                "it crosses departments, so an executive decides it."
                if decision.cross_department
                else f"a lead of {kpi.department}, the PMO or an executive decides it."
            )
        ),
        link=reverse("decision-detail", args=[decision.pk]),
        subject=decision,
    )
