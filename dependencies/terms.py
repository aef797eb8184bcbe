"""A contract's terms as data: reading input, validating, snapshotting and comparing them.

One encoding serves the versions, the amendments and the diff: scalars as JSON values (dates as
ISO text), a foreign key as {"id", "label"} (or null), a many-to-many as a list of
{"id", "label"} sorted by id. Labels are copied so history stays readable after renames and
deletions; comparisons look at ids only, so a renamed milestone is not a changed term.

Input (`coerce_terms`) accepts what the pages, the API and scripts naturally hold: model
instances, ids, {"id": …} objects, department and KPI codes, usernames for people, dates as ISO
text. Relations resolve among the objects the acting user may see (plus those the contract already
names), so an id the user may not see reads exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from dependencies.choices import ServiceComparison
from dependencies.models import Contract
from govern import permissions as perms
from govern.choices import PlanVersionStatus
from govern.errors import validation_fields
from govern.models import Department, Initiative, Membership, Milestone, Person, PlanVersion
from kpis.models import Kpi

TERM_FIELDS: tuple[str, ...] = Contract.TERM_FIELDS
M2M_FIELDS: tuple[str, ...] = Contract.TERM_M2M_FIELDS

TERM_LABELS: dict[str, str] = {
    "code": "Code",
    "title": "Title",
    "provider_department": "Provider department",
    "provider_owner": "Provider owner",
    "consumer_department": "Consumer department",
    "consumer_owner": "Consumer owner",
    "deliverable": "Deliverable",
    "acceptance_criteria": "Acceptance criteria",
    "due_date": "Due date",
    "service_kpi": "Service-level KPI",
    "service_comparison": "Service-level comparison",
    "service_threshold": "Service-level threshold",
    "service_level": "Service level (in words)",
    "criticality": "Criticality",
    "provider_milestones": "Provider milestones",
    "provider_initiatives": "Provider initiatives",
    "consumer_initiatives": "Consumer initiatives",
    "consumer_milestones": "Consumer milestones",
    "consumer_kpis": "Consumer KPIs",
    "plan_version": "Plan version",
}

# Relations, the model they point at, and the text key (besides the id) they may be given by.
RELATIONS: dict[str, tuple[type[models.Model], str | None]] = {
    "provider_department": (Department, "code"),
    "provider_owner": (Person, "username"),
    "consumer_department": (Department, "code"),
    "consumer_owner": (Person, "username"),
    "service_kpi": (Kpi, "code"),
    "plan_version": (PlanVersion, None),
    "provider_milestones": (Milestone, None),
    "provider_initiatives": (Initiative, None),
    "consumer_initiatives": (Initiative, None),
    "consumer_milestones": (Milestone, None),
    "consumer_kpis": (Kpi, "code"),
}
TEXT_FIELDS = frozenset(
    {"code", "title", "deliverable", "acceptance_criteria", "service_comparison", "service_level"}
)
NULLABLE = frozenset({"due_date", "service_kpi", "service_threshold"})
REQUIRED = frozenset(
    {"code", "title", "provider_department", "provider_owner", "consumer_department",
     "consumer_owner", "deliverable"}
)  # fmt: skip

# The model's constraint messages (non-field errors) and the field each belongs to.
CONSTRAINT_FIELDS = {
    "The provider and the consumer must be different departments.": "consumer_department",
    "A contract needs a due date, a service-level KPI, or both.": "due_date",
    "A service-level KPI needs a threshold and a comparison (at least / at most).": (
        "service_threshold"
    ),
    "Criticality must be between 1 and 5.": "criticality",
}
# Which department each linked list must belong to, and how to read an item's department.
M2M_SIDE = {
    "provider_milestones": ("provider", "initiative__department_id"),
    "provider_initiatives": ("provider", "department_id"),
    "consumer_initiatives": ("consumer", "department_id"),
    "consumer_milestones": ("consumer", "initiative__department_id"),
    "consumer_kpis": ("consumer", "department_id"),
}
NO_CURRENT_PLAN = (
    "There is no approved plan version yet: approve one, or name the plan version this contract "
    "belongs to."
)


# --- Encoding ---------------------------------------------------------------------------------


def label(obj: models.Model) -> str:
    return str(obj)


def encode(field: str, value: Any) -> Any:
    """One term's Python value (instances for relations) in the stored encoding."""
    if field in M2M_FIELDS:
        return sorted(({"id": o.pk, "label": label(o)} for o in value), key=lambda r: r["id"])
    if field in RELATIONS:
        return None if value is None else {"id": value.pk, "label": label(value)}
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def snapshot(contract: Contract, m2m: Mapping[str, Iterable[models.Model]] | None = None) -> dict:
    """Every term of `contract` in the stored encoding. Many-to-many lists come from `m2m` when
    given (a contract not saved yet, or an amendment applied to a copy), else from the database
    (prefetched lists are used as they are)."""
    terms = {}
    for field in TERM_FIELDS:
        if field in M2M_FIELDS:
            values = m2m[field] if m2m is not None and field in m2m else getattr(contract, field)
            terms[field] = encode(field, values.all() if hasattr(values, "all") else values)
        else:
            terms[field] = encode(field, getattr(contract, field))
    return terms


def key(field: str, encoded: Any) -> Any:
    """What a comparison looks at: ids for relations, the value itself otherwise."""
    if field in M2M_FIELDS:
        return tuple(sorted(item["id"] for item in encoded or ()))
    if field in RELATIONS:
        return None if encoded is None else encoded["id"]
    if isinstance(encoded, int | float) and not isinstance(encoded, bool):
        return float(encoded)
    return encoded


def text(field: str, encoded: Any) -> str:
    """An encoded term as a person reads it."""
    if field in M2M_FIELDS:
        return ", ".join(item["label"] for item in encoded or ()) or "—"
    if field in RELATIONS:
        return "—" if encoded is None else encoded["label"]
    if encoded is None or encoded == "":
        return "—"
    if field == "due_date":
        return dt.date.fromisoformat(encoded).strftime("%d %b %Y")
    if field == "service_comparison":
        return ServiceComparison(encoded).label
    if isinstance(encoded, float):
        return f"{encoded:g}"
    return str(encoded)


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict]:
    """One row per term: field, label, both values (encoded and as text), and whether it changed."""
    return [
        {
            "field": field,
            "label": TERM_LABELS[field],
            "a": before.get(field),
            "b": after.get(field),
            "a_text": text(field, before.get(field)),
            "b_text": text(field, after.get(field)),
            "changed": key(field, before.get(field)) != key(field, after.get(field)),
        }
        for field in TERM_FIELDS
    ]


# --- Input ------------------------------------------------------------------------------------


def coerce_terms(
    raw: Mapping[str, Any],
    *,
    user,
    contract: Contract | None = None,
    strict: bool = False,
    scoped: bool = True,
) -> tuple[dict[str, Any], dict[str, list[models.Model]]]:
    """Read term values as the model holds them: (fields, many-to-many lists). Keys that are not
    terms are ignored, or refused when `strict`. Relations resolve among what `user` may see
    (and what `contract` names now); `scoped=False` resolves among all rows (applying a stored
    amendment, whose ids were checked when it was proposed). Every problem is reported at once,
    per field."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    m2m: dict[str, list[models.Model]] = {}
    for name, value in raw.items():
        if name not in TERM_FIELDS:
            if strict:
                errors[name] = [f"{name} is not a contract term; the terms are: {_term_list()}."]
            continue
        try:
            if name in M2M_FIELDS:
                m2m[name] = _related_list(name, value, user=user, contract=contract, scoped=scoped)
            elif name in RELATIONS:
                fields[name] = _related_one(
                    name, value, user=user, contract=contract, scoped=scoped
                )
            else:
                fields[name] = _scalar(name, value)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    return fields, m2m


def _term_list() -> str:
    return ", ".join(TERM_FIELDS)


def _scalar(name: str, value: Any) -> Any:
    if value is None and name in NULLABLE:
        return None
    if name in TEXT_FIELDS:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValidationError("Enter text.")
        value = value.strip()
        return value.upper() if name == "code" else value
    if name == "due_date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and value.strip() == "":
            return None
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise ValidationError(f"{value!r} is not a date; use YYYY-MM-DD.") from exc
    if name == "service_threshold":
        if isinstance(value, bool):
            raise ValidationError("Enter a number.")
        if isinstance(value, str) and value.strip() == "":
            return None
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{value!r} is not a number.") from exc
        if not math.isfinite(number):
            raise ValidationError("Enter a finite number (not NaN or infinity).")
        return number
    if name == "criticality":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValidationError("Enter a whole number from 1 to 5.")
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError("Enter a whole number from 1 to 5.") from exc
    raise ValidationError(f"{name} cannot be set.")


def _candidates(name: str, *, user, contract: Contract | None, scoped: bool) -> models.QuerySet:
    """Objects `name` may point at: those the user may see, and those the contract names now."""
    model, _ = RELATIONS[name]
    if not scoped:
        return model._default_manager.all()
    visible = perms.restrict(model._default_manager.all(), user, perms.VIEW)
    if contract is None or contract.pk is None:
        return visible
    if name in M2M_FIELDS:
        current = getattr(contract, name).values("pk")
    else:
        current_id = getattr(contract, f"{name}_id")
        if current_id is None:
            return visible
        current = [current_id]
    return visible | model._default_manager.filter(pk__in=current)


def _reference(name: str, value: Any) -> tuple[str, Any]:
    """("pk", id) or (text field, text) for one raw reference; ValidationError when neither."""
    model, text_key = RELATIONS[name]
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, bool):
        raise ValidationError(f"{value!r} is not a {model._meta.verbose_name} id.")
    if isinstance(value, int):
        return "pk", value
    if isinstance(value, str):
        value = value.strip()
        if value.isdigit():
            return "pk", int(value)
        if text_key and value:
            return f"{text_key}__iexact", value
    what = f"an id or a {text_key}" if text_key else "an id"
    raise ValidationError(f"Give the {model._meta.verbose_name} as {what}; got {value!r}.")


def _related_one(name: str, value: Any, *, user, contract: Contract | None, scoped: bool):
    model, _ = RELATIONS[name]
    if value is None or value == "":
        if name in NULLABLE or name == "plan_version":
            return None
        raise ValidationError("This term is required.")
    if isinstance(value, models.Model):
        if not isinstance(value, model):
            raise ValidationError(f"Expected a {model._meta.verbose_name}.")
        return value
    lookup, wanted = _reference(name, value)
    candidates = _candidates(name, user=user, contract=contract, scoped=scoped)
    found = candidates.filter(**{lookup: wanted}).first()
    if found is None:
        raise ValidationError(f"No {model._meta.verbose_name} {wanted!s} that you can see.")
    return found


def _related_list(name: str, values: Any, *, user, contract: Contract | None, scoped: bool):
    model, _ = RELATIONS[name]
    if values is None:
        return []
    if isinstance(values, str | Mapping) or not isinstance(values, Iterable):
        raise ValidationError(f"Give a list of {model._meta.verbose_name_plural}.")
    values = list(values)
    instances = [v for v in values if isinstance(v, model)]
    wrong = [v for v in values if isinstance(v, models.Model) and not isinstance(v, model)]
    if wrong:
        raise ValidationError(f"Expected {model._meta.verbose_name_plural} only.")
    references = [_reference(name, v) for v in values if not isinstance(v, models.Model)]
    if references:
        candidates = _candidates(name, user=user, contract=contract, scoped=scoped)
        related = ("initiative",) if model is Milestone else ()
        for lookup, wanted in references:
            found = candidates.select_related(*related).filter(**{lookup: wanted}).first()
            if found is None:
                raise ValidationError(f"No {model._meta.verbose_name} {wanted!s} that you can see.")
            instances.append(found)
    unique = {o.pk: o for o in instances}
    return sorted(unique.values(), key=lambda o: o.pk)


# --- Validation -------------------------------------------------------------------------------


def validate(
    contract: Contract,
    m2m: Mapping[str, list[models.Model]],
    *,
    changed: Iterable[str] | None = None,
) -> None:
    """The rules every set of terms obeys, on create, on an edit and on an amendment (applied to
    a copy): the model's own validation (`full_clean`: required fields, unique code, provider ≠
    consumer, a due date or a service level, a threshold and comparison with a service KPI,
    criticality 1–5), each owner an active member of their side's department, each linked item
    in the right department, and a plan version that is not superseded. `changed` names the terms
    being set (None: all); the plan-version check applies only when it is set. `m2m` holds every
    linked list. All problems are raised at once as field errors."""
    errors: dict[str, list[str]] = {}
    try:
        contract.full_clean(exclude=["plan_version"] if contract.plan_version_id is None else None)
    except ValidationError as exc:
        errors = _with_field_errors(exc)
    if contract.plan_version_id is None:
        errors.setdefault("plan_version", []).append(NO_CURRENT_PLAN)
    elif (changed is None or "plan_version" in changed) and (
        contract.plan_version.status == PlanVersionStatus.SUPERSEDED
    ):
        errors.setdefault("plan_version", []).append(
            f"{contract.plan_version} is superseded; a contract belongs to the current plan "
            "or a draft one."
        )
    for side in ("provider", "consumer"):
        message = _owner_problem(contract, side)
        if message:
            errors.setdefault(f"{side}_owner", []).append(message)
    for name, (side, _) in M2M_SIDE.items():
        department_id = getattr(contract, f"{side}_department_id")
        if department_id is None:
            continue
        outside = [o for o in m2m.get(name, ()) if _department_of(o) != department_id]
        if outside:
            department = getattr(contract, f"{side}_department")
            names = ", ".join(str(o) for o in outside)
            errors.setdefault(name, []).append(
                f"Only the {side}'s ({department}) can be linked here; not: {names}."
            )
    if errors:
        raise ValidationError(errors)


def _with_field_errors(exc: ValidationError) -> dict[str, list[str]]:
    fields = validation_fields(exc)
    for message in fields.pop("non_field_errors", []):
        target = CONSTRAINT_FIELDS.get(message, "__all__")
        if message not in fields.get(target, []) and not (target != "__all__" and target in fields):
            fields.setdefault(target, []).append(message)
    return fields


def _department_of(obj: models.Model) -> int | None:
    if isinstance(obj, Milestone):
        return obj.initiative.department_id
    return obj.department_id


def _owner_problem(contract: Contract, side: str) -> str:
    owner_id = getattr(contract, f"{side}_owner_id")
    department_id = getattr(contract, f"{side}_department_id")
    if owner_id is None or department_id is None:
        return ""
    owner = getattr(contract, f"{side}_owner")
    department = getattr(contract, f"{side}_department")
    if not owner.is_active:
        return f"{owner} is deactivated; the {side} owner must be an active person."
    if not Membership.objects.filter(person_id=owner_id, department_id=department_id).exists():
        return f"{owner} is not a member of {department}; the {side} owner must be."
    return ""
