"""Smoke test of `manage.py bench` on a tiny organisation: every section is measured and printed.
On SQLite it runs with --allow-sqlite; with DATABASE_URL on PostgreSQL it runs as `make bench`
does (COPY as the ingestion reference)."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kpis.models import KpiResult
from tests.factories import KpiFactory

TINY = {
    "profile": "demo",
    "kpis": 50,
    "contracts": 30,
    "sample": 10,
    "ingest_rows": 300,
    "batch": 100,
    "incremental_runs": 3,
    "repeat": 1,
    "ripple_samples": 10,
    "today": "2026-03-16",
    "allow_sqlite": True,
}


@pytest.mark.django_db(transaction=False)
def test_bench_prints_every_figure_with_its_ratio_and_goal_on_a_tiny_organisation():
    # given
    out = io.StringIO()

    # when
    call_command("bench", stdout=out, **TINY)

    # then
    printed = out.getvalue()
    for section in (
        "== Environment ==",
        "== KPI engine figures ==",
        "== Notes ==",
        "== 8. Pages ==",
    ):
        assert section in printed
    rows = {int(m[1]): m[2] for m in re.finditer(r"^\| (\d) \| (.+) \|$", printed, re.M)}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 7]
    for number in range(2, 8):
        assert re.search(r"\| (PASS|MISS)$", rows[number]), rows[number]
    assert "≤ 2× floor" in rows[2]
    assert "≥ 50× faster" in rows[3]
    assert "≥ 30% of COPY" in rows[4]
    assert "≤ 50 ms" in rows[5]
    assert "≤ 2× compare-only" in rows[6]
    assert "≤ 1.5 GB" in rows[7]
    agreement = re.search(r"statuses agree with the engine's on ([\d,]+) of ([\d,]+) rows", printed)
    assert agreement[1] == agreement[2]
    assert "rows written by the sweep: 0" in printed
    assert re.search(r"compare-only: [\d,]+ rows computed, 0 differ", printed)
    assert "COPY" in printed if connection.vendor == "postgresql" else "executemany" in printed
    for page in ("/kpis/", "/exceptions/", "KPI detail (PROC-OTD)", "/readyz"):
        assert page in printed
    assert KpiResult.objects.exists()
    # 9. the ripple over the dependency graph, against the recursive CTE
    assert "== 9. Ripple (dependency graph) ==" in printed
    ripple = {m[1]: m[2] for m in re.finditer(r"^\| (9\.\d) \| (.+) \|$", printed, re.M)}
    assert sorted(ripple) == ["9.1", "9.2", "9.3", "9.4"]
    assert re.search(r"\| ≤ 50 ms p95 \| (PASS|MISS)$", ripple["9.2"]), ripple["9.2"]
    assert re.search(r"\| ≤ 2 s \| (PASS|MISS)$", ripple["9.4"]), ripple["9.4"]
    assert "recursive CTE p50" in ripple["9.2"]
    sets = re.search(r"its set equals the engine's for (\d+) of (\d+) starts", printed)
    assert sets[1] == sets[2] != "0"
    assert re.search(r"again with nothing changed: [\d.]+ m?s, 0 rows written", printed)
    assert "46 contracts" in printed  # the story's 16 and 30 generated, in the environment


@pytest.mark.django_db
def test_bench_refuses_a_database_that_already_holds_kpis():
    # given
    KpiFactory()
    out = io.StringIO()

    # when
    with pytest.raises(CommandError, match="needs an empty database") as refused:
        call_command("bench", stdout=out, **TINY)

    # then
    assert "empty database of its own" in str(refused.value)
    assert out.getvalue() == ""
