import pytest

from tests.decisions.log_support import build_world


@pytest.fixture
def world(db):
    return build_world()
