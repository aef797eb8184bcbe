"""Docker cannot run on the CI machines, so the compose file is checked by reading it."""

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_compose_defines_the_whole_stack(compose):
    # then
    assert set(compose["services"]) == {"db", "redis", "web", "worker", "beat"}
    assert compose["services"]["db"]["image"].startswith("postgres:16")
    assert compose["services"]["redis"]["image"].startswith("redis:7")


def test_database_and_redis_have_healthchecks_and_redis_persists(compose):
    # given
    db, redis = compose["services"]["db"], compose["services"]["redis"]

    # then
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "ping" in redis["healthcheck"]["test"]
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_services_wait_for_healthy_db_and_redis(compose, name):
    # given
    service = compose["services"][name]

    # then
    assert service["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert service["environment"]["DATABASE_URL"].startswith("postgres://")
    assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379")


def test_web_migrates_then_serves_the_wsgi_app_with_gunicorn(compose):
    # given
    command = " ".join(_command(compose["services"]["web"]))

    # then
    assert command.index("manage.py migrate") < command.index("gunicorn")
    module, _, attribute = re.search(r"gunicorn (\S+)", command).group(1).partition(":")
    assert (ROOT / Path(*module.split("."))).with_suffix(".py").exists()
    assert attribute == "application"


@pytest.mark.parametrize(("name", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_run_the_project_app(compose, name, subcommand):
    # given
    command = _command(compose["services"][name])

    # then
    assert command[:2] == ["celery", "-A"]
    assert command[2] == "govern"
    assert (ROOT / "govern" / "celery.py").exists()
    assert command[3] == subcommand


def test_exactly_one_beat(compose):
    assert compose["services"]["beat"]["deploy"]["replicas"] == 1


def test_every_executable_the_stack_runs_is_a_declared_dependency(compose):
    # given
    declared = " ".join(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    executables = {_command(compose["services"][name])[0] for name in ("worker", "beat")}
    executables.add("gunicorn")

    # then
    for executable in executables:
        assert re.search(rf"\b{executable}\b", declared, re.IGNORECASE), executable


def test_dockerfile_copies_every_app_the_settings_install():
    # given
    from django.conf import settings

    dockerfile = (ROOT / "Dockerfile").read_text()
    local_apps = {
        app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()
    }

    # then
    for app in local_apps | {"templates", "static", "manage.py"}:
        assert re.search(rf"^COPY .*\b{re.escape(app)}\b", dockerfile, re.MULTILINE), app
