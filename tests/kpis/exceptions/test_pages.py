"""The exception pages: the ranked list with filters and empty states, the detail with its
figures, lifecycle and forms, and the acknowledge and assign actions."""

import pytest
from django.urls import reverse

from govern.models import AuditEvent
from kpis.models import KpiException
from tests.factories import KpiExceptionFactory, KpiFactory
from tests.govern.pages.helpers import text
from tests.kpis.exceptions.conftest import FEB, MAR, set_results

pytestmark = pytest.mark.django_db
LIST = reverse("exception-list")


def _snapshot():
    return list(KpiException.objects.values()), AuditEvent.objects.count()


def test_the_list_ranks_open_exceptions_by_severity_with_chips(client, world):
    # given
    KpiExceptionFactory(kpi=world.kpi, kind="kpi_amber", severity=7.0, title="Amber one")
    KpiExceptionFactory(kpi=world.kpi, severity=24.0, title="Red one")
    KpiExceptionFactory(
        kpi=KpiFactory(department=world.department), status="resolved", title="Old one"
    )
    client.force_login(world.lead)

    # when
    response = client.get(LIST)

    # then
    assert response.status_code == 200
    page = text(response)
    assert page.index("Red one") < page.index("Amber one")
    assert "Old one" not in page
    assert "2 exceptions" in page
    html = response.content.decode()
    assert (
        '<span class="badge badge-danger exception-kind" data-kind="kpi_red">KPI red</span>' in html
    )
    assert (
        '<span class="badge badge-warning exception-status" data-status="open">Open</span>' in html
    )
    assert 'aria-current="page">Exceptions</a>' in html


def test_the_list_filters_by_kind_and_shows_resolved_ones_on_request(client, world):
    # given
    KpiExceptionFactory(kpi=world.kpi, kind="kpi_amber", title="Amber one")
    KpiExceptionFactory(kpi=world.kpi, title="Red one", status="resolved")
    client.force_login(world.pmo)

    # when
    amber = text(client.get(LIST, {"kind": "kpi_amber"}))
    everything = text(client.get(LIST, {"status": "all"}))
    none = client.get(LIST, {"kind": "missing_data"})

    # then
    assert "Amber one" in amber
    assert "Red one" not in amber
    assert "Amber one" in everything
    assert "Red one" in everything
    assert "No exceptions match these filters." in text(none)


def test_the_list_says_so_when_nothing_is_open(client, world):
    # given
    client.force_login(world.viewer)

    # when
    response = client.get(LIST)

    # then
    assert response.status_code == 200
    assert "No open exceptions." in text(response)


def test_the_detail_shows_the_figures_the_lifecycle_and_the_forms_to_act(client, world):
    # given
    set_results(world.kpi, [(FEB, "amber", 6.0), (MAR, "red", 15.0)])
    exception = KpiExceptionFactory(kpi=world.kpi, period=MAR, detail="Mar 2026: 15% adverse.")
    client.force_login(world.lead)

    # when
    response = client.get(exception.get_absolute_url())

    # then
    assert response.status_code == 200
    page = text(response)
    assert "What triggered it: SALES-INTAKE" in page
    assert "1 Mar 2026 100 85 -15.0% Red" in page
    assert "Mar 2026: 15% adverse." in page
    assert "Acknowledge" in page
    assert "Assign" in page


def test_a_viewer_sees_the_detail_without_the_forms_and_may_not_post(client, world):
    # given
    exception = KpiExceptionFactory(kpi=world.kpi)
    client.force_login(world.viewer)
    before = _snapshot()

    # when
    page = text(client.get(exception.get_absolute_url()))
    refused = client.post(reverse("exception-acknowledge", args=[exception.pk]), {"ack-note": ""})

    # then
    assert "Act on it" not in page
    assert refused.status_code == 403
    assert _snapshot() == before


def test_acknowledging_and_assigning_from_the_page(client, world):
    # given
    exception = KpiExceptionFactory(kpi=world.kpi)
    client.force_login(world.lead)

    # when
    acknowledged = client.post(
        reverse("exception-acknowledge", args=[exception.pk]), {"ack-note": "Seen."}
    )
    assigned = client.post(
        reverse("exception-assign", args=[exception.pk]),
        {"assign-owner": world.viewer.pk, "assign-note": ""},
        follow=True,
    )

    # then
    assert acknowledged.status_code == 302
    exception.refresh_from_db()
    assert (exception.status, exception.owner) == ("acknowledged", world.viewer)
    page = text(assigned)
    assert f"is now owned by {world.viewer}." in page
    assert "acknowledged" in page
    assert "assigned" in page


def test_acknowledging_twice_from_the_page_shows_the_conflict(client, world):
    # given
    exception = KpiExceptionFactory(kpi=world.kpi, status="acknowledged")
    client.force_login(world.owner)
    before = _snapshot()

    # when
    response = client.post(reverse("exception-acknowledge", args=[exception.pk]), {})

    # then
    assert response.status_code == 409
    assert "only an open exception can be acknowledged" in text(response)
    assert _snapshot() == before


@pytest.mark.parametrize("rows", [1, 15])
def test_the_pages_run_a_bounded_number_of_queries(
    client, world, rows, django_assert_max_num_queries
):
    # given
    for _ in range(rows):
        KpiExceptionFactory(kpi=KpiFactory(department=world.department))
    exception = KpiExceptionFactory(kpi=world.kpi)
    client.force_login(world.lead)

    # when / then
    with django_assert_max_num_queries(14):
        assert client.get(LIST).status_code == 200
    with django_assert_max_num_queries(18):
        assert client.get(exception.get_absolute_url()).status_code == 200
