"""The decision pages' world (`tests.decisions.log_support`): Sales decides, Procurement is the
other department; people in every role. Decisions are built through the services."""

import pytest
from django.core.cache import cache

from tests.decisions.log_support import build_world

# Who sees a Sales decision that touches no other department, and who does not.
ROLES = ("pmo", "executive", "lead", "contributor", "viewer", "other_lead", "outsider")
SEES = {"pmo", "executive", "lead", "contributor", "viewer"}
MAY_LOG = {"pmo", "executive", "lead", "contributor"}


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(autouse=True)
def _fresh_chain_status():
    # The chain's status is cached by its last sequence, which restarts in every test.
    cache.clear()
    yield
    cache.clear()


def login(client, world, role: str):
    client.force_login(getattr(world, role))
    return client


def database_state() -> dict[str, list[dict]]:
    """Every decision row, outcome link, reallocation line, log entry, audit event, notification
    and exception: to prove a refused request wrote nothing at all."""
    from decisions.models import Decision, LogEntry, Reallocation
    from govern.models import AuditEvent, Notification
    from kpis.models import KpiException

    models = [Decision, Decision.kpis.through, Reallocation, LogEntry, AuditEvent, Notification]
    models.append(KpiException)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
