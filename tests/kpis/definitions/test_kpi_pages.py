"""The KPI pages for every role: what they see, which buttons they get, what their forms do,
and bounded query counts."""

import datetime as dt
import re

import pytest

from govern.models import AuditEvent
from kpis.models import Kpi, Measurement, Target
from tests.factories import KpiFactory, KpiResultFactory
from tests.govern.pages.helpers import text
from tests.kpis.definitions.conftest import APR, FEB, JAN, MAR

# role: (list/detail status, Edit+Delete+targets, actual entry)
# fmt: off
ROLES = {
    "pmo":               (200, True,  True),
    "executive":         (200, False, False),
    "lead":              (200, True,  True),
    "other_lead":        (404, False, False),
    "contributor":       (200, False, True),   # owns the KPI
    "other_contributor": (200, False, False),
    "viewer":            (200, False, False),
    "outsider":          (404, False, False),
}
# fmt: on


@pytest.fixture
def results(kpi):
    KpiResultFactory(kpi=kpi, period=JAN, plan=100.0, actual=99.0, variance_pct=-1.0)
    KpiResultFactory(kpi=kpi, period=FEB, plan=110.0, actual=95.0, variance_pct=-13.6, status="red")
    KpiResultFactory(
        kpi=kpi, period=MAR, plan=120.0, actual=None, variance_pct=None, status="pending",
        forecast=90.0, forecast_status="red",
    )  # fmt: skip
    Kpi.objects.filter(pk=kpi.pk).update(status="red", status_period=FEB, forecast_status="red")


@pytest.mark.parametrize("role", list(ROLES))
def test_the_kpi_list_for_each_role(client, people, kpi, results, role):
    # given
    client.force_login(people[role])
    visible = ROLES[role][0] == 200

    # when
    response = client.get("/kpis/")

    # then
    assert response.status_code == 200
    page = text(response)
    assert ("SALES-INTAKE Order intake" in page) is visible
    if visible:
        assert re.search(
            r'class="badge badge-danger kpi-status" data-status="red">Red<',
            response.content.decode(),
        )
    assert ('href="/kpis/new/"' in response.content.decode()) is (
        role in ("pmo", "lead", "other_lead")
    )


@pytest.mark.parametrize("role", list(ROLES))
def test_the_kpi_detail_for_each_role(client, people, kpi, results, role):
    # given
    status, can_change, can_record = ROLES[role]
    client.force_login(people[role])

    # when
    response = client.get(f"/kpis/{kpi.pk}/")

    # then
    assert response.status_code == status
    if status != 200:
        return
    html = response.content.decode()
    page = text(response)
    assert "Order intake" in page
    assert "Grow order intake" in page
    assert "Key-account programme" in page
    assert "amber beyond 5%, red beyond 10%" in page
    assert 'id="kpi-chart-data" type="application/json"' in html
    assert 'src="/static/vendor/plotly/plotly.min.js" defer' in html
    assert (f'href="/kpis/{kpi.pk}/edit/"' in html) is can_change
    assert (f'href="/kpis/{kpi.pk}/delete/"' in html) is can_change
    assert (f'action="/kpis/{kpi.pk}/targets/"' in html) is can_change
    assert (f'action="/kpis/{kpi.pk}/actuals/"' in html) is can_record


def test_the_measurement_table_shows_plan_actual_variance_and_status(client, lead, kpi, results):
    # given
    client.force_login(lead)

    # when
    page = text(client.get(f"/kpis/{kpi.pk}/"))

    # then
    assert "1 Feb 2026 110 95 -13.6% Red 0" in page
    assert "1 Jan 2026 100 99 -1.0% On track 0" in page
    assert "1 Mar 2026 120 ≈ 90 — Not due yet" in page


def test_a_kpi_without_results_says_so_and_loads_no_chart(client, lead, kpi):
    # given
    client.force_login(lead)

    # when
    response = client.get(f"/kpis/{kpi.pk}/")

    # then
    assert "Nothing evaluated yet." in text(response)
    assert "plotly" not in response.content.decode()


def test_the_list_filters_by_status_and_says_when_nothing_matches(client, lead, kpi, results):
    # given
    client.force_login(lead)

    # when
    red = text(client.get("/kpis/?status=red"))
    amber = text(client.get("/kpis/?status=amber"))

    # then
    assert "1 KPI matches these filters" in red
    assert "No KPIs match these filters." in amber


def test_a_lead_sets_targets_with_a_reason(client, lead, kpi, plans):
    # given
    client.force_login(lead)

    # when
    response = client.post(
        f"/kpis/{kpi.pk}/targets/",
        {"targets": "2026-03-01, 125\n2026-04-01;130", "reason": "Q2 re-forecast"},
    )

    # then
    assert response.status_code == 302
    values = dict(Target.objects.filter(kpi=kpi).values_list("period", "value"))
    assert values == {JAN: 100.0, FEB: 110.0, MAR: 125.0, APR: 130.0}
    history = text(client.get(f"/kpis/{kpi.pk}/"))
    assert "Targets 2026-03-01 120.0 → 125.0" in history
    assert "Reason: Q2 re-forecast" in history


def test_a_wrong_period_start_is_shown_on_the_targets_form(client, lead, kpi):
    # given
    client.force_login(lead)
    before = list(Target.objects.values())

    # when
    response = client.post(
        f"/kpis/{kpi.pk}/targets/", {"targets": "2026-04-15, 130", "reason": "Typo"}
    )

    # then
    assert response.status_code == 400
    assert "2026-04-15 is not a monthly period start; did you mean 2026-04-01?" in text(response)
    assert list(Target.objects.values()) == before


def test_the_owner_may_not_post_targets(client, contributor, kpi):
    # given
    client.force_login(contributor)
    before = list(Target.objects.values())

    # when
    response = client.post(
        f"/kpis/{kpi.pk}/targets/", {"targets": "2026-04-01, 1", "reason": "Mine"}
    )

    # then
    assert response.status_code == 403
    assert list(Target.objects.values()) == before


def test_the_owner_enters_an_actual_by_hand(client, contributor, kpi):
    # given
    client.force_login(contributor)

    # when
    response = client.post(
        f"/kpis/{kpi.pk}/actuals/", {"period": "2026-03-01", "value": "118.5", "note": "CRM"}
    )

    # then
    assert response.status_code == 302
    measurement = Measurement.objects.get(kpi=kpi)
    assert (measurement.period, measurement.value, measurement.source) == (MAR, 118.5, "manual")
    assert measurement.entered_by == contributor


def test_a_manual_actual_for_a_wrong_period_names_the_expected_date(client, contributor, kpi):
    # given
    client.force_login(contributor)

    # when
    response = client.post(f"/kpis/{kpi.pk}/actuals/", {"period": "2026-03-15", "value": "1"})

    # then
    assert response.status_code == 400
    assert "2026-03-15 is not a monthly period start; did you mean 2026-03-01?" in text(response)
    assert not Measurement.objects.exists()


def test_a_viewer_may_not_enter_actuals(client, viewer, kpi):
    # given
    client.force_login(viewer)

    # when
    response = client.post(f"/kpis/{kpi.pk}/actuals/", {"period": "2026-03-01", "value": "1"})

    # then
    assert response.status_code == 403
    assert not Measurement.objects.exists()


def test_a_lead_creates_a_kpi_and_a_bad_tolerance_shows_on_its_field(
    client, lead, department, contributor
):
    # given
    client.force_login(lead)
    data = {
        "code": "sales-nps", "name": "NPS", "department": department.pk, "owner": contributor.pk,
        "unit": "count", "direction": "higher_is_better", "frequency": "quarterly",
        "criticality": "3", "tolerance_mode": "percent", "is_active": "on",
    }  # fmt: skip

    # when
    refused = client.post("/kpis/new/", {**data, "amber_threshold": "9", "red_threshold": "4"})
    created = client.post("/kpis/new/", {**data, "amber_threshold": "4", "red_threshold": "9"})

    # then
    assert refused.status_code == 400
    assert "The red threshold must be above the amber threshold." in text(refused)
    assert created.status_code == 302
    kpi = Kpi.objects.get(code="SALES-NPS")
    assert created["Location"] == f"/kpis/{kpi.pk}/"
    assert AuditEvent.objects.filter(subject_type="kpis.kpi", subject_id=str(kpi.pk)).count() == 1


def test_a_lead_edits_and_deletes_a_kpi(client, lead, kpi):
    # given
    client.force_login(lead)
    form = client.get(f"/kpis/{kpi.pk}/edit/")
    data = {
        key: value for key, value in form.context["form"].initial.items()
        if key not in ("objectives", "initiatives")
    }  # fmt: skip
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items() if v is not None}
    data["is_active"] = "on"

    # when
    edited = client.post(f"/kpis/{kpi.pk}/edit/", {**data, "name": "Order intake (EUR)"})
    deleted = client.post(f"/kpis/{kpi.pk}/delete/")

    # then
    assert edited.status_code == 302
    assert deleted.status_code == 302
    assert deleted["Location"] == "/kpis/"
    assert not Kpi.objects.filter(pk=kpi.pk).exists()


def _more(n, department, owner):
    for _ in range(n):
        other = KpiFactory(department=department, owner=owner)
        KpiResultFactory(kpi=other, period=JAN)


def test_the_list_page_runs_a_bounded_number_of_queries(
    client, lead, department, contributor, django_assert_max_num_queries
):
    # given
    client.force_login(lead)
    counts = []
    for n in (3, 30):
        _more(n, department, contributor)
        # when
        with django_assert_max_num_queries(16) as captured:
            response = client.get("/kpis/")
        # then
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_the_detail_page_runs_a_bounded_number_of_queries(
    client, lead, kpi, django_assert_max_num_queries
):
    # given
    client.force_login(lead)
    counts = []
    for year, n in ((2020, 3), (2022, 30)):
        for i in range(n):
            period = dt.date(year + i // 12, i % 12 + 1, 1)
            KpiResultFactory(kpi=kpi, period=period)
            Measurement.objects.create(kpi=kpi, period=period, value=1.0, source="api")
        # when
        with django_assert_max_num_queries(30) as captured:
            response = client.get(f"/kpis/{kpi.pk}/")
        # then
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
