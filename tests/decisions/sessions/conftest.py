import pytest
from django.core.cache import cache

from tests.decisions.log_support import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(autouse=True)
def _fresh_chain_status():
    # The decision chain's status is cached by its last sequence, which restarts in every test.
    cache.clear()
    yield
    cache.clear()
