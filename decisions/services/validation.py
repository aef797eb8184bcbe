"""Input checks the decision services share: field messages collected across the whole input and
raised together, and relations resolved among the rows the actor may see."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


class FieldErrors:
    """Field messages collected across the whole input, raised together."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationError(self.fields)


def visible(actor, model: type[models.Model], value, field: str, errors: FieldErrors):
    """`value` (an instance or an id) among the rows of `model` the actor may see, else a field
    message (a hidden row reads like one that does not exist)."""
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        found = model.objects.restrict(actor).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        errors.add(field, f"No {model._meta.verbose_name} {pk} that you may see.")
    return found
