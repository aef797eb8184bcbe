import pytest

from tests.dependencies.contract_support import build_world


@pytest.fixture
def world(db):
    return build_world()
