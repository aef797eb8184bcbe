"""Shared fixtures. Services that need Redis or a live worker are detected here: tests that need
them skip with a reason on the embedded default and fail instead when GOVERN_REQUIRE_SERVICES=1."""

import pytest
from rest_framework.test import APIClient

from govern.choices import Role
from tests.factories import DepartmentFactory, PersonFactory, person_with_role
from tests.support import REQUIRE_SERVICES, live_worker, require_service

__all__ = ["REQUIRE_SERVICES", "live_worker", "require_service"]


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def department(db):
    return DepartmentFactory(code="SALES", name="Sales")


@pytest.fixture
def other_department(db):
    return DepartmentFactory(code="PROC", name="Procurement")


@pytest.fixture
def pmo(db):
    return person_with_role(Role.PMO, DepartmentFactory(code="PMO", name="PMO / OpEx"))


@pytest.fixture
def executive(db):
    return person_with_role(Role.EXECUTIVE, DepartmentFactory(code="EXEC", name="Executive"))


@pytest.fixture
def lead(department):
    return person_with_role(Role.DEPARTMENT_LEAD, department)


@pytest.fixture
def contributor(department):
    return person_with_role(Role.CONTRIBUTOR, department)


@pytest.fixture
def viewer(department):
    return person_with_role(Role.VIEWER, department)


@pytest.fixture
def outsider(db):
    """Logged in, but a member of no department."""
    return PersonFactory()
