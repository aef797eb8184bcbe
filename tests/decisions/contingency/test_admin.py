"""The admin shows contingency plans read-only, with their template inline: they are defined,
changed, disabled and enabled only through the pages and the API (validated and audited)."""

import pytest

from decisions.models import ContingencyPlan
from tests.decisions.contingency.support import defined
from tests.factories import PersonFactory


@pytest.fixture
def admin_client(client, world):
    client.force_login(PersonFactory(is_staff=True, is_superuser=True, username="root"))
    return client


def test_a_plan_is_shown_read_only_with_its_template(admin_client, world):
    # given
    plan = defined(world)

    # when
    listed = admin_client.get("/admin/decisions/contingencyplan/?q=promotion")
    shown = admin_client.get(f"/admin/decisions/contingencyplan/{plan.pk}/change/")

    # then
    html = shown.content.decode()
    assert listed.status_code == shown.status_code == 200
    assert "Early promotion" in listed.content.decode()
    assert "5000.00" in html
    assert 'name="name"' not in html
    assert 'name="_save"' not in html


def test_nothing_is_added_changed_or_deleted_there(admin_client, world):
    # given
    plan = defined(world)

    # when
    added = admin_client.post("/admin/decisions/contingencyplan/add/", {"name": "Sneaky"})
    changed = admin_client.post(
        f"/admin/decisions/contingencyplan/{plan.pk}/change/", {"name": "Renamed"}
    )
    deleted = admin_client.post(
        f"/admin/decisions/contingencyplan/{plan.pk}/delete/", {"post": "yes"}
    )

    # then
    assert (added.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert list(ContingencyPlan.objects.values_list("name", flat=True)) == ["Early promotion"]
