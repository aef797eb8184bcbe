"""The OpenAPI schema is valid, documents every error in the one error shape, generates without a
single warning, and Swagger UI works without network access."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from openapi_spec_validator import validate

from tests.govern.api.support import API

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


@pytest.fixture
def schema(api_client, db):
    return api_client.get(f"{API}schema/", {"format": "json"}).json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_schema_is_valid_openapi_3(schema):
    # when
    validate(schema)

    # then
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["schemas"]["ErrorResponse"] == {
        "type": "object",
        "properties": {"error": {"$ref": "#/components/schemas/Error"}},
        "required": ["error"],
    }


def test_every_error_response_is_the_error_shape(schema):
    # when
    refs = {
        (path, method, code): response["content"]["application/json"]["schema"]
        for path, method, operation in _operations(schema)
        for code, response in operation["responses"].items()
        if code >= "400"
    }

    # then
    assert refs
    assert {ref == ERROR_REF for ref in refs.values()} == {True}


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/v1/departments/", "get", ["200", "400", "401", "403", "404"]),
        ("/api/v1/departments/", "post", ["201", "400", "401", "403", "409"]),
        ("/api/v1/departments/{id}/", "get", ["200", "401", "403", "404"]),
        ("/api/v1/departments/{id}/", "patch", ["200", "400", "401", "403", "404", "409"]),
        ("/api/v1/departments/{id}/", "delete", ["204", "401", "403", "404", "409"]),
        ("/api/v1/milestones/{id}/progress/", "post", ["200", "400", "401", "403", "404", "409"]),
        ("/api/v1/plan-versions/current/", "get", ["200", "401", "403", "404"]),
        ("/api/v1/auth/token/", "post", ["200", "400"]),
    ],
)
def test_operations_document_the_errors_they_can_answer(schema, path, method, codes):
    # when
    documented = sorted(schema["paths"][path][method]["responses"])

    # then
    assert documented == codes


def test_every_endpoint_is_in_the_schema(schema):
    # when: the core domain's paths (the KPI app's are checked in tests/kpis)
    kpi_areas = (
        "/api/v1/kpis/",
        "/api/v1/measurements/",
        "/api/v1/imports/",
        "/api/v1/exceptions/",
        "/api/v1/contracts/",  # checked in tests/dependencies/api/test_contract_api.py
        "/api/v1/ripple/",  # checked in tests/dependencies/api/test_ripple_api.py
        "/api/v1/decisions/",  # checked in tests/decisions/api/test_decision_schema.py
        "/api/v1/metrics/",  # checked in tests/decisions/metrics/test_api.py
        "/api/v1/review-sessions/",  # checked in tests/decisions/sessions/test_session_api.py
        "/api/v1/alignment-assessments/",  # checked in tests/decisions/alignment/test_api.py
        "/api/v1/contingency-plans/",  # checked in tests/decisions/contingency/test_api.py
    )
    paths = sorted(p for p in schema["paths"] if not p.startswith(kpi_areas))

    # then
    entities = ["departments", "initiatives", "memberships", "milestones", "objectives"]
    entities += ["people", "plan-versions"]
    expected = ["/api/v1/audit-events/", "/api/v1/auth/token/", "/api/v1/me/"]
    for entity in entities:
        expected += [f"/api/v1/{entity}/", f"/api/v1/{entity}/{{id}}/"]
        expected += [f"/api/v1/{entity}/{{id}}/history/"]
    expected += ["/api/v1/milestones/{id}/progress/", "/api/v1/objectives/tree/"]
    expected += ["/api/v1/plan-versions/current/", "/api/v1/plan-versions/{id}/approve/"]
    expected += ["/api/v1/plan-versions/{id}/propose/", "/api/v1/plan-versions/{id}/withdraw/"]
    expected += ["/api/v1/plan-versions/{id}/compare/"]
    expected += [f"/api/v1/plan-versions/{{id}}/contracts/{{contract_id}}/{verb}/"
                 for verb in ("drop", "restore")]  # fmt: skip
    expected += ["/api/v1/notifications/", "/api/v1/notifications/{id}/"]
    expected += ["/api/v1/notifications/{id}/read/", "/api/v1/notifications/read-all/"]
    assert paths == sorted(expected)
    assert "delete" not in schema["paths"]["/api/v1/people/{id}/"]


def test_people_never_document_a_readable_password(schema):
    # when
    components = schema["components"]["schemas"]

    # then
    assert "password" not in components["Person"]["properties"]
    assert "password" in components["PersonCreateRequest"]["properties"]
    assert "password" not in components["PatchedPersonRequest"]["properties"]


def test_spectacular_generates_the_schema_without_warnings(tmp_path):
    # given
    GENERATOR_STATS.reset()

    # when
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")

    # then
    assert not GENERATOR_STATS
    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3.")


def test_swagger_ui_renders_from_local_assets_only(api_client, db):
    # when
    response = api_client.get(f"{API}docs/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in assets
    assert all(a.startswith("/static/drf_spectacular_sidecar/") for a in assets), assets
    assert re.findall(r"https?://", html) == []
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
