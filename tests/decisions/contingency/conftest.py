"""The contingency plans' world: the decision log's organisation (`tests.decisions.log_support`:
Sales with its lead, contributor and viewer, Procurement with its lead, PMO, an executive, an HR
lead who sees neither), with SALES-INTAKE owned by the Sales contributor."""

import pytest
from django.core.cache import cache

from tests.decisions.log_support import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(autouse=True)
def _fresh_chain_status():
    # The decision log's chain status is cached by its last sequence, which restarts per test.
    cache.clear()
    yield
    cache.clear()
