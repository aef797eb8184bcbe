"""One error type for the whole application, mapped to one JSON shape and one page template."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refusal the user can act on: a message, a machine-readable code and per-field messages."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}
        self.details = details or {}


class ConflictError(ApplicationError):
    """The request clashes with the current state (a protected relation, a stale version, …)."""

    status_code = 409
    default_code = "conflict"


def validation_fields(exc) -> dict[str, list[str]]:
    """Django ValidationError → {field: [messages]}; non-field errors under "non_field_errors"."""
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if name == "__all__" else name): [
                message for error in errors for message in error.messages
            ]
            for name, errors in exc.error_dict.items()
        }
    return {"non_field_errors": list(exc.messages)}
