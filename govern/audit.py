"""Audit as data: typed, append-only event rows written in the same transaction as the change.

`audited_create`, `audited_update` and `audited_delete` are the write path every service uses:
validate with `full_clean()`, save, and record the event with old and new values. Values are copied
as text (names, ISO dates) so the history stays readable after the objects it names are gone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from govern.choices import AuditAction
from govern.errors import ConflictError
from govern.models import AuditEvent

M = TypeVar("M", bound=models.Model)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The audited fields of `instance` as JSON-safe text: foreign keys and many-to-many by name."""
    values: dict[str, Any] = {}
    for name in getattr(instance, "audit_fields", ()):
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = (
                sorted(str(o) for o in getattr(instance, name).all()) if instance.pk else []
            )
        elif field.is_relation:
            values[name] = _plain(getattr(instance, name))
        elif getattr(field, "choices", None):
            values[name] = getattr(instance, name)
        else:
            values[name] = _plain(getattr(instance, name))
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"old": before.get(name), "new": after.get(name)}
        for name in after
        if before.get(name) != after.get(name)
    }


def record(
    *,
    actor,
    action: str,
    instance: models.Model,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=_actor_name(actor),
        action=action,
        subject_type=instance._meta.label_lower,
        subject_id=str(instance.pk),
        subject_name=str(instance)[:255],
        changes=changes or {},
        reason=reason,
    )


def record_deletions(*, actor, instances: Iterable[models.Model], reason: str = "") -> None:
    """One set-based insert for the rows a cascade removes with their parent."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor if actor is not None and actor.pk else None,
            actor_name=_actor_name(actor),
            action=AuditAction.DELETE,
            subject_type=obj._meta.label_lower,
            subject_id=str(obj.pk),
            subject_name=str(obj)[:255],
            changes={name: {"old": value, "new": None} for name, value in snapshot(obj).items()},
            reason=reason,
        )
        for obj in instances
    )


def _actor_name(actor) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return "system"
    return (actor.get_full_name() or actor.get_username())[:150]


def _apply_m2m(instance: models.Model, m2m: Mapping[str, Iterable[models.Model]] | None) -> None:
    for name, values in (m2m or {}).items():
        getattr(instance, name).set(list(values))


@transaction.atomic
def audited_create(
    model: type[M],
    *,
    actor,
    data: Mapping[str, Any],
    m2m: Mapping[str, Iterable[models.Model]] | None = None,
    reason: str = "",
) -> M:
    instance = model(**data)
    instance.full_clean()
    instance.save()
    _apply_m2m(instance, m2m)
    changes = {name: {"old": None, "new": value} for name, value in snapshot(instance).items()}
    record(
        actor=actor, action=AuditAction.CREATE, instance=instance, changes=changes, reason=reason
    )
    return instance


@transaction.atomic
def audited_update(
    instance: M,
    *,
    actor,
    data: Mapping[str, Any],
    m2m: Mapping[str, Iterable[models.Model]] | None = None,
    reason: str = "",
    action: str = AuditAction.UPDATE,
) -> tuple[M, dict[str, dict[str, Any]]]:
    """Apply `data`, validate and save; returns the instance and the changes (empty: a no-op)."""
    before = snapshot(instance)
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    _apply_m2m(instance, m2m)
    changes = diff(before, snapshot(instance))
    if changes:
        record(actor=actor, action=action, instance=instance, changes=changes, reason=reason)
    return instance, changes


@transaction.atomic
def audited_delete(
    instance: models.Model,
    *,
    actor,
    reason: str = "",
    cascade: Iterable[models.Model] = (),
) -> None:
    """Delete and record it; `cascade` names rows removed along with it so they are recorded too."""
    changes = {name: {"old": value, "new": None} for name, value in snapshot(instance).items()}
    cascaded = list(cascade)
    record(
        actor=actor, action=AuditAction.DELETE, instance=instance, changes=changes, reason=reason
    )
    record_deletions(actor=actor, instances=cascaded, reason=f"Deleted with {instance}")
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        blocking = getattr(exc, "protected_objects", None) or exc.restricted_objects
        blockers = sorted({str(o._meta.verbose_name_plural) for o in blocking})
        raise ConflictError(
            f"{instance} cannot be deleted while it still has {', '.join(blockers)}. "
            "Move or remove them first.",
            code="protected",
            details={"blocking": blockers},
        ) from exc
