"""Small helpers shared by the API tests."""

API = "/api/v1/"
VOLATILE = {"created_at", "updated_at", "date_joined", "last_login", "occurred_at"}


def stable(body: dict) -> dict:
    """The response body without the timestamps the server sets."""
    return {key: value for key, value in body.items() if key not in VOLATILE}
