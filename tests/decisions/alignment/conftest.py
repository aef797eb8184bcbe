"""The alignment world: Sales (two leads: Tom and Nora) and Procurement (Ingrid), the PMO (Elena
owns the alignment exceptions), an executive and a Sales contributor. Quarters are named relative
to today so that "not in the future" holds whatever day the tests run."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from decisions.engine.alignment import quarter_start
from govern.choices import Role
from tests.factories import person_with_role


def quarters_ago(count: int) -> dt.date:
    """The first day of the quarter `count` quarters before the current one."""
    current = quarter_start(timezone.localdate())
    index = current.year * 4 + (current.month - 1) // 3 - count
    return dt.date(index // 4, 3 * (index % 4) + 1, 1)


@pytest.fixture
def world(department, other_department, pmo, executive, contributor):
    pmo.first_name, pmo.last_name = "Elena", "Novak"
    pmo.save()
    return SimpleNamespace(
        sales=department,
        procurement=other_department,
        tom=person_with_role(
            Role.DEPARTMENT_LEAD, department, first_name="Tom", last_name="Whitfield"
        ),
        nora=person_with_role(
            Role.DEPARTMENT_LEAD, department, first_name="Nora", last_name="Quist"
        ),
        ingrid=person_with_role(
            Role.DEPARTMENT_LEAD, other_department, first_name="Ingrid", last_name="Halvorsen"
        ),
        pmo=pmo,
        executive=executive,
        contributor=contributor,
        current=quarters_ago(0),
        last=quarters_ago(1),
        before_last=quarters_ago(2),
    )


def scores(u: int, c: int, r: int, notes: str = "") -> dict:
    return {"understanding": u, "commitment": c, "resources": r, "resistance_notes": notes}
