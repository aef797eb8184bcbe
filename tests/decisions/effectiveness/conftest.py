import pytest

from tests.decisions.effectiveness.support import seed


@pytest.fixture
def history(department, lead, contributor):
    return seed(department, lead, contributor)
