"""One DRF exception handler: every API error answers {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from govern.errors import ApplicationError, validation_fields


def error_body(code: str, message: str, fields: dict | None = None, **details) -> dict:
    body = {"code": code, "message": message, "fields": fields or {}}
    if details:
        body["details"] = details
    return {"error": body}


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "non_field_errors" if key in ("__all__", "non_field_errors") else str(key)
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    out[f"{name}.{sub}"] = messages
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub, messages in _flatten(item).items():
                        out[f"{name}[{index}].{sub}"] = messages
            else:
                out[name] = [str(m) for m in (value if isinstance(value, list) else [value])]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {"non_field_errors": [str(detail)]}


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError | DjangoValidationError | IntegrityError):
        set_rollback()
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.code, exc.message, exc.fields, **exc.details), status=exc.status_code
        )
    if isinstance(exc, DjangoValidationError):
        fields = validation_fields(exc)
        return Response(
            error_body("invalid", _summary(fields), fields), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, IntegrityError):
        return Response(
            error_body("conflict", "The change clashes with existing data; reload and try again."),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = error_body("invalid", _summary(fields), fields)
    else:
        detail = getattr(exc, "detail", str(exc))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(str(code), str(detail))
    return response


def _summary(fields: dict[str, list[str]]) -> str:
    if list(fields) == ["non_field_errors"]:
        return " ".join(fields["non_field_errors"])
    names = ", ".join(name.replace("_", " ") for name in fields if name != "non_field_errors")
    return f"Please correct: {names}." if names else "The request is not valid."
