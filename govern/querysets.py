"""Querysets shared by every governed model: `restrict(user, action)` scopes rows to what a user may
see or change. The rules themselves live in one place, `govern.permissions`."""

from __future__ import annotations

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        from govern.permissions import restrict

        return restrict(self, user, action)


class AppendOnlyQuerySet(RestrictedQuerySet):
    """Bulk update and delete are refused: history rows are written once and never changed."""

    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only and cannot be updated.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only and cannot be deleted.")

    def for_object(self, obj) -> AppendOnlyQuerySet:
        return self.filter(subject_type=obj._meta.label_lower, subject_id=str(obj.pk))
