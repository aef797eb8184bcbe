"""The OpenAPI schema: every operation documents the error responses it can answer, all in the one
shape the exception handler writes (`govern.api.errors`), so clients and schemathesis can rely on
it."""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=(
            "Machine-readable reason: invalid, parse_error, not_authenticated, "
            "authentication_failed, permission_denied, not_found, method_not_allowed, conflict, …"
        )
    )
    message = serializers.CharField(help_text="A sentence for the person who made the request.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Messages per input field; "non_field_errors" for the request as a whole.',
    )
    details = serializers.DictField(
        required=False, help_text="Extra facts about a refusal, e.g. what blocks a deletion."
    )


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorSerializer()


ERROR_DESCRIPTIONS = {
    "400": "The request is not valid: see `error.fields` for the messages per field.",
    "401": "No valid credentials were given (session or `Authorization: Token …`).",
    "403": "You may see this but not do this.",
    "404": "Not found, or not visible to you.",
    "409": "The change clashes with the current state (protected relations, an approved plan…).",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, plus the `ErrorResponse` for every error an operation can
    answer. Explicit `@extend_schema(responses=…)` entries win over the defaults added here."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses

    def error_codes(self) -> list[str]:
        codes = []
        has_body = self.method in {"POST", "PUT", "PATCH"}
        is_list = self.method == "GET" and self._is_list_view()
        if has_body or is_list:
            codes.append("400")
        if not self._is_public():
            codes += ["401", "403"]
        if "{" in self.path or is_list:  # a path parameter, or a page number past the end
            codes.append("404")
        if self.method in WRITE_METHODS and not self._is_public():
            codes.append("409")
        return codes

    def _is_public(self) -> bool:
        permission_classes = getattr(self.view, "permission_classes", ())
        return all(issubclass(klass, AllowAny) for klass in permission_classes)
