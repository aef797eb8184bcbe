"""The decision log's part of the OpenAPI schema: its paths, no update or delete documented, and
the errors each operation can answer (the schema as a whole is checked in
tests/govern/api/test_schema.py)."""

import pytest

SCHEMA = "/api/v1/schema/"


@pytest.fixture
def schema(api_client, db):
    return api_client.get(SCHEMA, {"format": "json"}).json()


def test_the_decision_paths_are_in_the_schema(schema):
    # when
    paths = {path: sorted(item) for path, item in schema["paths"].items() if "/decisions/" in path}

    # then
    assert paths == {
        "/api/v1/decisions/": ["get", "post"],
        "/api/v1/decisions/verify/": ["get"],
        "/api/v1/decisions/{id}/": ["get"],
        "/api/v1/decisions/{id}/decide/": ["post"],
        "/api/v1/decisions/{id}/history/": ["get"],
        "/api/v1/decisions/{id}/log/": ["get"],
        "/api/v1/decisions/{id}/supersede/": ["post"],
    }


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/v1/decisions/", "get", ["200", "400", "401", "403", "404"]),
        ("/api/v1/decisions/", "post", ["201", "400", "401", "403", "409"]),
        ("/api/v1/decisions/{id}/decide/", "post", ["200", "400", "401", "403", "404", "409"]),
        ("/api/v1/decisions/{id}/supersede/", "post", ["201", "400", "401", "403", "404", "409"]),
        ("/api/v1/decisions/verify/", "get", ["200", "401", "403"]),
    ],
)
def test_decision_operations_document_their_errors(schema, path, method, codes):
    # when
    documented = sorted(schema["paths"][path][method]["responses"])

    # then
    assert documented == codes
