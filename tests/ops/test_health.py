import pytest
from django.db import connection

from tests.conftest import require_service


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_the_database(client):
    # when
    response = client.get("/readyz")

    # then
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["detail"] == connection.vendor


@pytest.mark.django_db
def test_readyz_without_a_broker_says_tasks_run_in_process(client, settings):
    # given
    settings.REDIS_URL = ""

    # when
    body = client.get("/readyz").json()

    # then
    assert body["checks"]["broker"] == {
        "ok": True,
        "detail": "not configured: tasks run in-process",
    }


@pytest.mark.django_db
def test_readyz_is_503_with_the_reason_when_the_broker_is_unreachable(client, settings):
    # given: nothing listens on port 1
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    # when
    response = client.get("/readyz")

    # then
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert "ConnectionError" in body["checks"]["broker"]["error"]


@pytest.mark.django_db
def test_readyz_reaches_the_configured_redis(client, settings):
    # given
    from django.conf import settings as live

    require_service(bool(live.REDIS_URL), "REDIS_URL is not set: no broker to check")

    # when
    response = client.get("/readyz")

    # then
    assert response.status_code == 200
    assert response.json()["checks"]["broker"]["detail"] == "redis"
