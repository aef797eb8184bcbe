"""The hand-written SQL the benchmark compares the engine with.

`variance_select()` is one SELECT computing, for every active KPI and period with a plan in the
current plan version or an actual, what `kpis.engine.variance.compute_variance` computes: plan,
actual, variance, variance %, adverse variance (three directions, percent and absolute
tolerance) and status (on track / amber / red / missing / pending / no plan). It ignores the
forecast. The same SQL runs on PostgreSQL and SQLite: dates are compared with per-frequency
cut-offs computed in Python (a period is missing once its last day is before `today − grace`).

The floor inserts that SELECT into a scratch copy of the results table; the compare-only pass
joins it with the stored results and counts the rows that differ.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from kpis.choices import Direction, Frequency, Status, ToleranceMode
from kpis.models import Kpi, KpiResult, Measurement, Target
from kpis.periods import period_start

FLOOR_TABLE = "bench_floor"
# `round(adverse, 9) > threshold` (the engine's rule) without a numeric cast per row.
EPSILON = "0.0000000005"


def cutoffs(today: dt.date, grace_days: int) -> dict[str, dt.date]:
    """Per frequency, the first period start that is not yet missing: a period is missing when
    its last day + grace < today, i.e. when it starts before this date."""
    day = today - dt.timedelta(days=grace_days)
    # period end < day  ⇔  the period starts before the start of the period containing day − 1
    # for months and quarters; for weeks: start + 6 < day ⇔ start < day − 6.
    return {
        Frequency.WEEKLY: day - dt.timedelta(days=6),
        Frequency.MONTHLY: period_start(day, Frequency.MONTHLY),
        Frequency.QUARTERLY: period_start(day, Frequency.QUARTERLY),
    }


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "kpi": quote(Kpi._meta.db_table),
        "target": quote(Target._meta.db_table),
        "measurement": quote(Measurement._meta.db_table),
        "result": quote(KpiResult._meta.db_table),
    }


def variance_select(*, plan_version_id: int, today: dt.date, grace_days: int) -> tuple[str, list]:
    """(sql, params) of the SELECT described in the module docstring. Columns: kpi_id, period,
    plan, actual, variance, variance_pct, adverse, status."""
    t = _tables()
    cut = cutoffs(today, grace_days)
    higher, lower = Direction.HIGHER_IS_BETTER.value, Direction.LOWER_IS_BETTER.value
    sql = f"""
    SELECT kpi_id, period, plan, actual,
           actual - plan AS variance,
           CASE WHEN plan <> 0 THEN (actual - plan) * 100.0 / abs(plan) END AS variance_pct,
           CASE WHEN plan IS NOT NULL AND actual IS NOT NULL THEN adverse END AS adverse,
           CASE
             WHEN plan IS NULL THEN '{Status.NO_PLAN.value}'
             WHEN actual IS NOT NULL THEN
               CASE WHEN adverse > red + {EPSILON} THEN '{Status.RED.value}'
                    WHEN adverse > amber + {EPSILON} THEN '{Status.AMBER.value}'
                    ELSE '{Status.ON_TRACK.value}' END
             WHEN period < CASE frequency WHEN '{Frequency.WEEKLY.value}' THEN %s
                                          WHEN '{Frequency.MONTHLY.value}' THEN %s
                                          ELSE %s END THEN '{Status.MISSING.value}'
             ELSE '{Status.PENDING.value}'
           END AS status
    FROM (
      SELECT u.*,
             CASE WHEN tolerance_mode = '{ToleranceMode.PERCENT.value}' AND reference > 0
                  THEN units * 100.0 / reference ELSE units END AS adverse
      FROM (
        SELECT b.*,
               CASE direction
                 WHEN '{higher}' THEN plan - actual
                 WHEN '{lower}' THEN actual - plan
                 ELSE CASE WHEN actual < band_low THEN band_low - actual
                           WHEN actual > band_high THEN actual - band_high
                           ELSE 0.0 END
               END AS units,
               CASE WHEN direction IN ('{higher}', '{lower}') THEN abs(plan)
                    WHEN actual < band_low THEN abs(band_low)
                    WHEN actual > band_high THEN abs(band_high)
               END AS reference
        FROM (
          SELECT t.kpi_id, t.period, t.value AS plan, m.value AS actual,
                 k.direction, k.frequency, k.tolerance_mode, k.amber_threshold AS amber,
                 k.red_threshold AS red, k.band_low, k.band_high
          FROM {t["target"]} t
          JOIN {t["kpi"]} k ON k.id = t.kpi_id AND k.is_active
          LEFT JOIN {t["measurement"]} m ON m.kpi_id = t.kpi_id AND m.period = t.period
          WHERE t.plan_version_id = %s
          UNION ALL
          SELECT m.kpi_id, m.period, NULL, m.value,
                 k.direction, k.frequency, k.tolerance_mode, k.amber_threshold,
                 k.red_threshold, k.band_low, k.band_high
          FROM {t["measurement"]} m
          JOIN {t["kpi"]} k ON k.id = m.kpi_id AND k.is_active
          WHERE NOT EXISTS (
            SELECT 1 FROM {t["target"]} t2
            WHERE t2.kpi_id = m.kpi_id AND t2.period = m.period AND t2.plan_version_id = %s
          )
        ) b
      ) u
    ) a
    """
    # psycopg2 sends dates typed (a CASE of untyped text would not compare with a date);
    # SQLite stores dates as ISO text.
    dates = [cut[f] for f in (Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY)]
    if connection.vendor != "postgresql":
        dates = [day.isoformat() for day in dates]
    params = [
        *dates,
        plan_version_id,
        plan_version_id,
    ]
    return sql, params


def create_floor_table() -> None:
    """A scratch copy of the results table: same columns, same unique (kpi, period) index."""
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (LIKE {t['result']} INCLUDING ALL)")
        else:
            cursor.execute(
                f"CREATE TABLE {FLOOR_TABLE} (id integer PRIMARY KEY AUTOINCREMENT, "
                "kpi_id integer NOT NULL, period date NOT NULL, plan real, actual real, "
                "variance real, variance_pct real, adverse real, status varchar(10) NOT NULL, "
                "forecast real, forecast_status varchar(10) NOT NULL, "
                "computed_at datetime NOT NULL)"
            )
            cursor.execute(
                f"CREATE UNIQUE INDEX {FLOOR_TABLE}_key ON {FLOOR_TABLE} (kpi_id, period)"
            )
            cursor.execute(f"CREATE INDEX {FLOOR_TABLE}_kpi ON {FLOOR_TABLE} (kpi_id)")


def drop_table(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def floor_insert(*, plan_version_id: int, today: dt.date, grace_days: int, now) -> int:
    """THE floor: one INSERT … SELECT of the variance into the scratch table. Rows inserted."""
    select, params = variance_select(
        plan_version_id=plan_version_id, today=today, grace_days=grace_days
    )
    columns = "kpi_id, period, plan, actual, variance, variance_pct, adverse, status"
    stamp = connection.ops.adapt_datetimefield_value(now)
    sql = (
        f"INSERT INTO {FLOOR_TABLE} ({columns}, forecast_status, computed_at) "
        f"SELECT {columns}, '', %s FROM ({select}) v"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [stamp, *params])
        return cursor.rowcount


def floor_agreement() -> tuple[int, int]:
    """(floor rows, floor rows whose status equals the engine's stored status)."""
    result = _tables()["result"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), coalesce(sum(CASE WHEN f.status = r.status THEN 1 ELSE 0 END), 0) "
            f"FROM {FLOOR_TABLE} f LEFT JOIN {result} r "
            "ON r.kpi_id = f.kpi_id AND r.period = f.period"
        )
        total, agree = cursor.fetchone()
    return int(total), int(agree)


def compare_only(*, plan_version_id: int, today: dt.date, grace_days: int) -> tuple[int, int]:
    """The compare-only pass: one statement computing the variance and counting, against the
    stored results, the rows that are missing or differ (status, variance or adverse).
    Returns (rows computed, rows differing)."""
    select, params = variance_select(
        plan_version_id=plan_version_id, today=today, grace_days=grace_days
    )
    result = _tables()["result"]

    def differs(column: str) -> str:
        return (
            f"(CASE WHEN r.{column} IS NULL AND v.{column} IS NULL THEN 0 "
            f"WHEN r.{column} IS NULL OR v.{column} IS NULL THEN 1 "
            f"WHEN abs(r.{column} - v.{column}) > 1e-9 THEN 1 ELSE 0 END) = 1"
        )

    sql = (
        "SELECT count(*), coalesce(sum(CASE WHEN r.id IS NULL OR r.status <> v.status "
        f"OR {differs('variance')} OR {differs('adverse')} THEN 1 ELSE 0 END), 0) "
        f"FROM ({select}) v LEFT JOIN {result} r ON r.kpi_id = v.kpi_id AND r.period = v.period"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        total, differing = cursor.fetchone()
    return int(total), int(differing)
