"""The figures behind an exception: the periods around the one that triggered it."""

import datetime as dt

from kpis.selectors import exception_kpi_results
from tests.factories import KpiExceptionFactory, KpiFactory, KpiResultFactory


def test_the_figures_show_the_triggering_period_and_two_periods_ahead(db):
    # given a monthly KPI computed for a year, red in June, with pending periods after it
    kpi = KpiFactory()
    for month in range(1, 13):
        status = "red" if month == 6 else ("pending" if month > 6 else "on_track")
        KpiResultFactory(kpi=kpi, period=dt.date(2026, month, 1), status=status)
    exception = KpiExceptionFactory(kpi=kpi, period=dt.date(2026, 6, 1))

    # when
    rows = exception_kpi_results(exception=exception, limit=6)

    # then: newest first, two periods ahead, then June and the three months before it
    assert [row.period.month for row in rows] == [8, 7, 6, 5, 4, 3]


def test_without_a_period_the_figures_are_the_latest_periods(db):
    # given
    kpi = KpiFactory()
    for month in range(1, 5):
        KpiResultFactory(kpi=kpi, period=dt.date(2026, month, 1))
    exception = KpiExceptionFactory(kpi=kpi, period=None)

    # when
    rows = exception_kpi_results(exception=exception, limit=3)

    # then
    assert [row.period.month for row in rows] == [4, 3, 2]
