"""Page middleware: an ApplicationError that escapes a page view becomes a clear message on the one
error template, with the error's own status (400, 409, …), never a 500. The API maps the same
errors to JSON in `govern.api.errors`, so API paths are left to it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from govern.errors import ApplicationError


def render_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(
        request,
        "errors/application_error.html",
        {"message": exc.message, "fields": exc.fields, "status": exc.status_code},
        status=exc.status_code,
    )


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError) or request.path_info.startswith("/api/"):
            return None
        return render_application_error(request, exception)
