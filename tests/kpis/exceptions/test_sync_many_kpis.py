"""exception_sync over several KPIs at once: each KPI's exceptions follow its own results (its
latest status, its streak back on track, its next forecast), whatever order the KPIs' ids and
codes sort in."""

import pytest
from django.utils import timezone

from kpis.models import KpiException
from kpis.services.exceptions import exception_sync
from tests.factories import KpiFactory
from tests.kpis.exceptions.conftest import APR, FEB, JAN, MAR, set_results

pytestmark = pytest.mark.django_db


def _sync(kpi_ids, capture):
    with capture(execute=True):
        return exception_sync(kpi_ids=kpi_ids, today=timezone.localdate())


def _exceptions(kpi):
    return list(
        KpiException.objects.filter(kpi=kpi)
        .order_by("pk")
        .values_list("kind", "status", "period", "green_streak")
    )


def test_one_sync_of_several_kpis_gives_each_the_exceptions_of_its_own_results(
    world, django_capture_on_commit_callbacks
):
    # given five KPIs created in the opposite order to their codes; two were red before
    owner = {"department": world.department, "owner": world.owner}
    recovered, holding, turned_red, warned, quiet = (
        KpiFactory(code=code, **owner)
        for code in ("E-RECOVERED", "D-HOLD", "C-RED", "B-WARN", "A-QUIET")
    )
    set_results(recovered, [(JAN, "red", 12.0)])
    set_results(holding, [(FEB, "red", 12.0)])
    assert _sync([recovered.pk, holding.pk], django_capture_on_commit_callbacks) == (2, 0)
    set_results(recovered, [(JAN, "red", 12.0), (FEB, "on_track", 0.0), (MAR, "on_track", 1.0)])
    set_results(holding, [(FEB, "red", 12.0), (MAR, "on_track", 0.0)])
    set_results(turned_red, [(JAN, "on_track", 0.0), (FEB, "on_track", 0.0), (MAR, "red", 15.0)])
    set_results(warned, [(MAR, "on_track", 2.0), (APR, "pending", 0.0, 80.0, "red")])
    set_results(quiet, [(MAR, "on_track", 0.0)])
    ids = [recovered.pk, holding.pk, turned_red.pk, warned.pk, quiet.pk]

    # when
    result = _sync(ids, django_capture_on_commit_callbacks)

    # then
    assert result == (2, 1)
    assert _exceptions(recovered) == [("kpi_red", "resolved", JAN, 2)]
    assert _exceptions(holding) == [("kpi_red", "open", FEB, 1)]
    assert _exceptions(turned_red) == [("kpi_red", "open", MAR, 0)]
    assert _exceptions(warned) == [("forecast_breach", "open", APR, 1)]
    assert _exceptions(quiet) == []
    assert _sync(None, django_capture_on_commit_callbacks) == (0, 0)
