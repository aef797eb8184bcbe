"""`seed_demo`'s KPIs: the hand-written supply-chain story, generated KPIs, idempotency."""

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min
from django.test.utils import CaptureQueriesContext

from govern.choices import AuditAction
from govern.demo import DEFAULT_SEED, PROFILES, demo_blueprint, demo_size
from govern.models import AuditEvent, Membership
from kpis.choices import (
    Direction,
    ExceptionKind,
    Frequency,
    MeasurementSource,
    Status,
    ToleranceMode,
)
from kpis.demo import kpi_blueprint
from kpis.models import (
    Kpi,
    KpiException,
    KpiResult,
    Measurement,
    MeasurementRevision,
    Target,
)
from kpis.periods import is_period_start

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)  # a Friday: the current week starts on 16 November
LAST_WEEK = dt.date(2026, 11, 9)  # the last complete week
LAST_MONTH = dt.date(2026, 10, 1)  # the last complete month
FIRST_WEEK = dt.date(2025, 5, 19)  # 78 weeks before the current one
FIRST_MONTH = dt.date(2025, 5, 1)  # 18 months before the current one
DEMO_DEPARTMENTS = {"SALES", "PROC", "PROD", "LOG", "FIN", "CS", "PMO"}
KPI_MODELS = (Kpi, Target, Measurement, MeasurementRevision, AuditEvent)


def seed(*args: str, today: dt.date = TODAY) -> str:
    out = StringIO()
    call_command("seed_demo", "--today", today.isoformat(), "--no-recompute", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in KPI_MODELS}


def kpi_dump() -> dict[str, list[tuple]]:
    """Everything the seed decides about KPIs, by natural key."""
    return {
        "kpis": sorted(
            Kpi.objects.values_list(
                "code", "name", "description", "department__code", "owner__username", "unit",
                "direction", "frequency", "criticality", "tolerance_mode", "amber_threshold",
                "red_threshold", "band_low", "band_high",
            )
        ),
        "links": sorted(
            Kpi.objects.values_list("code", "objectives__title", "initiatives__name"), key=str
        ),
        "targets": sorted(
            Target.objects.values_list(
                "kpi__code", "plan_version__name", "period", "value", "updated_by__username"
            )
        ),
        "measurements": sorted(
            Measurement.objects.values_list(
                "kpi__code", "period", "value", "source", "entered_by__username", "recorded_at",
                "revision", "note",
            )
        ),
        "revisions": sorted(
            MeasurementRevision.objects.values_list(
                "measurement__kpi__code", "measurement__period", "revision", "value", "source",
                "recorded_at", "superseded_at",
            )
        ),
    }  # fmt: skip


def series(code: str) -> list[tuple[dt.date, float, float | None]]:
    """(period, plan, actual) for every planned period up to the last complete one."""
    kpi = Kpi.objects.get(code=code)
    actuals = dict(kpi.measurements.values_list("period", "value"))
    last = LAST_WEEK if kpi.frequency == Frequency.WEEKLY else LAST_MONTH
    return [
        (period, plan, actuals.get(period))
        for period, plan in kpi.targets.filter(period__lte=last).values_list("period", "value")
    ]


def adverse_pct(code: str) -> list[float]:
    """Per period, how far the actual is worse than the plan, in percent of the plan."""
    direction = Kpi.objects.get(code=code).direction
    sign = -1 if direction == Direction.LOWER_IS_BETTER else 1
    return [
        round(sign * (plan - actual) / abs(plan) * 100, 2)
        for _, plan, actual in series(code)
        if actual is not None
    ]


def test_the_demo_has_33_kpis_across_the_seven_departments():
    # when
    output = seed()

    # then
    assert dict(Kpi.objects.values_list("department__code").annotate(n=Count("pk")).order_by()) == {
        "CS": 4,
        "FIN": 5,
        "LOG": 5,
        "PMO": 3,
        "PROC": 5,
        "PROD": 6,
        "SALES": 5,
    }
    assert dict(Kpi.objects.values_list("direction").annotate(n=Count("pk")).order_by()) == {
        Direction.HIGHER_IS_BETTER: 18, Direction.LOWER_IS_BETTER: 13, Direction.WITHIN_BAND: 2,
    }  # fmt: skip
    assert dict(Kpi.objects.values_list("frequency").annotate(n=Count("pk")).order_by()) == {
        Frequency.WEEKLY: 15, Frequency.MONTHLY: 18,
    }  # fmt: skip
    assert sorted(
        Kpi.objects.filter(tolerance_mode=ToleranceMode.ABSOLUTE).values_list(
            "code", "amber_threshold", "red_threshold"
        )
    ) == [
        ("FIN-CLOSE-DAYS", 1.0, 2.0), ("LOG-TRANSIT", 0.3, 0.6), ("PROC-ALLOY-COVER", 1.0, 3.0),
        ("PROC-SUPPLIERS", 1.0, 2.0), ("SALES-NEW-ACCTS", 1.0, 3.0),
    ]  # fmt: skip
    assert sorted(
        Kpi.objects.filter(direction=Direction.WITHIN_BAND).values_list(
            "code", "band_low", "band_high"
        )
    ) == [("FIN-INV-DAYS", 55.0, 80.0), ("PROC-ALLOY-COVER", 8.0, 14.0)]
    assert sorted(
        Kpi.objects.filter(
            owner__username__in=["proc.buyer", "prod.planner", "sales.analyst"]
        ).values_list("owner__username", "code")
    ) == [
        ("proc.buyer", "PROC-ALLOY-COVER"), ("proc.buyer", "PROC-OTD"),
        ("prod.planner", "PROD-CHANGEOVER"), ("prod.planner", "PROD-SCHED-ADH"),
        ("prod.planner", "PROD-THRU"), ("sales.analyst", "SALES-FCST-ACC"),
        ("sales.analyst", "SALES-INTAKE"), ("sales.analyst", "SALES-QUOTE-WIN"),
    ]  # fmt: skip
    assert "KPIs: 33 created" in output
    assert "targets: 1,743 created" in output
    assert "measurements: 1,490 created" in output
    assert "measurement revisions: 2 created" in output


def test_every_kpi_is_owned_by_a_member_of_its_department_and_measures_the_plan():
    # when
    seed()

    # then
    memberships = set(Membership.objects.values_list("person_id", "department_id"))
    assert [
        code
        for code, owner, department in Kpi.objects.values_list("code", "owner", "department")
        if (owner, department) not in memberships
    ] == []
    assert Kpi.objects.filter(objectives=None).count() == 0
    otd = Kpi.objects.get(code="PROC-OTD")
    assert sorted(otd.objectives.values_list("title", flat=True)) == [
        "Consolidate casting-alloy suppliers from 14 to 6 partners",
        "On-time-in-full delivery ≥ 95%",
    ]
    assert list(otd.initiatives.values_list("name", flat=True)) == [
        "Casting-alloy supplier consolidation"
    ]


def test_targets_and_actuals_cover_18_months_of_period_starts_in_the_baseline():
    # when
    seed()

    # then
    assert set(Target.objects.values_list("plan_version__name", flat=True)) == {"FY26 baseline"}
    rows = list(Target.objects.values_list("kpi__frequency", "period")) + list(
        Measurement.objects.values_list("kpi__frequency", "period")
    )
    assert [row for row in rows if not is_period_start(row[1], row[0])] == []
    weekly = Target.objects.filter(kpi__code="PROC-OTD")
    assert (weekly.count(), weekly.earliest("period").period, weekly.latest("period").period) == (
        91, FIRST_WEEK, dt.date(2027, 2, 8),
    )  # fmt: skip
    monthly = Target.objects.filter(kpi__code="FIN-DSO")
    assert (monthly.count(), monthly.earliest("period").period) == (21, FIRST_MONTH)
    assert monthly.latest("period").period == dt.date(2027, 1, 1)
    # Actuals stop at the last complete period before today.
    assert Measurement.objects.filter(
        kpi__frequency=Frequency.WEEKLY
    ).latest("period").period == LAST_WEEK  # fmt: skip
    assert Measurement.objects.filter(
        kpi__frequency=Frequency.MONTHLY
    ).latest("period").period == LAST_MONTH  # fmt: skip
    assert Measurement.objects.filter(kpi__code="PROC-OTD").count() == 78
    assert Measurement.objects.filter(kpi__code="FIN-DSO").count() == 18


def test_supplier_delivery_drifts_into_red_and_production_follows():
    # when
    seed()

    # then: PROC-OTD holds its plan for the first twelve months, then drifts down into red
    otd = adverse_pct("PROC-OTD")
    assert max(otd[:52]) < 5
    assert [value > 10 for value in otd[-3:]] == [True, True, True]
    assert otd[-1] == 18.52
    # Throughput falls a few weeks later than supplier delivery and ends red.
    thru = adverse_pct("PROD-THRU")
    assert max(thru[:56]) < 10
    first_beyond_5 = {
        code: 52 + next(week for week, value in enumerate(values[52:]) if value > 5)
        for code, values in (("PROC-OTD", otd), ("PROD-THRU", thru))
    }
    assert first_beyond_5["PROD-THRU"] - first_beyond_5["PROC-OTD"] >= 3
    assert min(thru[-3:]) > 10
    # Expedite cost (lower is better) climbs far above plan.
    expedite = adverse_pct("LOG-EXPEDITE")
    assert max(expedite[:52]) < 10
    assert min(expedite[-3:]) > 25


def test_sales_intake_runs_about_15_percent_over_plan():
    # when
    seed()

    # then
    ratios = [actual / plan for _, plan, actual in series("SALES-INTAKE")]
    assert min(ratios) > 1.0
    assert round(sum(ratios) / len(ratios), 2) == 1.15


def test_finance_and_customer_service_stay_green():
    # when
    seed()

    # then: within the amber tolerance of the plan (or inside the band) in every period
    finance = Kpi.objects.filter(department__code__in=["FIN", "CS"]).exclude(code="CS-OTIF")
    outside = {}
    for kpi in finance:
        for period, plan, actual in series(kpi.code):
            if actual is None:
                continue
            if kpi.direction == Direction.WITHIN_BAND:
                bad = not kpi.band_low <= actual <= kpi.band_high
            elif kpi.tolerance_mode == ToleranceMode.ABSOLUTE:
                bad = abs(actual - plan) > kpi.amber_threshold and (
                    (actual < plan) == (kpi.direction == Direction.HIGHER_IS_BETTER)
                )
            else:
                sign = -1 if kpi.direction == Direction.LOWER_IS_BETTER else 1
                bad = sign * (plan - actual) / plan * 100 > kpi.amber_threshold
            if bad:
                outside[(kpi.code, period)] = (plan, actual)
    assert outside == {}
    # Customer OTIF is still green but starting to slip: the early warning.
    otif = adverse_pct("CS-OTIF")
    assert max(otif) < 5
    assert sum(otif[-4:]) / 4 > 2


def test_scrap_was_red_and_is_back_to_green():
    # when
    seed()

    # then
    scrap = adverse_pct("PROD-SCRAP")
    assert min(scrap[40:60]) > 20  # red (beyond 20%) through the porosity problem
    assert max(scrap[-7:]) < 10  # on track for the last seven weeks


def test_a_few_data_points_are_missing_past_the_grace_period():
    # when
    seed()

    # then
    missing = {
        (code, period)
        for code in Kpi.objects.values_list("code", flat=True)
        for period, _, actual in series(code)
        if actual is None
    }
    assert missing == {
        ("LOG-DC-ACCURACY", dt.date(2026, 10, 26)),
        ("LOG-DC-ACCURACY", dt.date(2026, 11, 2)),
        ("LOG-DC-ACCURACY", LAST_WEEK),
        ("CS-COMPLAINTS", dt.date(2026, 6, 1)),
    }


def test_actuals_come_from_imports_and_the_api_entered_by_the_owner_with_two_corrections():
    # when
    seed()

    # then
    assert set(Measurement.objects.values_list("source", flat=True)) == {
        MeasurementSource.IMPORT, MeasurementSource.API,
    }  # fmt: skip
    assert (
        Measurement.objects.exclude(entered_by=F("kpi__owner")).count(),
        Measurement.objects.filter(entered_by=None).count(),
    ) == (0, 0)
    revised = Measurement.objects.filter(revision=2).order_by("kpi__code")
    assert [
        (m.kpi.code, m.period, m.value, m.source, m.revisions.get().value, m.revisions.get().source)
        for m in revised
    ] == [
        ("FIN-DSO", dt.date(2026, 9, 1), 48.7, MeasurementSource.API, 51.6,
         MeasurementSource.IMPORT),
        ("SALES-INTAKE", dt.date(2026, 10, 5), 2827.0, MeasurementSource.API, 2544.0,
         MeasurementSource.API),
    ]  # fmt: skip
    assert list(MeasurementRevision.objects.values_list("revision", flat=True)) == [1, 1]


def test_each_kpi_is_created_through_the_audit_trail():
    # when
    seed()

    # then
    events = AuditEvent.objects.filter(subject_type="kpis.kpi")
    assert events.count() == 33
    assert set(events.values_list("action", "actor__username", "reason")) == {
        (AuditAction.CREATE, "pmo", "Demo organisation")
    }
    otd = events.get(subject_id=str(Kpi.objects.get(code="PROC-OTD").pk))
    assert otd.subject_name == "PROC-OTD — Supplier on-time delivery"
    assert otd.changes["owner"] == {"old": None, "new": "Daniel Osei"}
    assert otd.changes["initiatives"] == {
        "old": None, "new": ["Casting-alloy supplier consolidation"],
    }  # fmt: skip


def test_every_seeded_kpi_passes_the_models_own_validation():
    # given
    seed("--departments", "8", "--kpis", "120")

    # when
    invalid = {}
    for kpi in Kpi.objects.all():
        try:
            kpi.full_clean()
        except ValidationError as exc:
            invalid[kpi.code] = exc.message_dict

    # then
    assert invalid == {}


def test_a_second_run_changes_nothing():
    # given
    seed("--departments", "2", "--kpis", "30")
    before, dump = counts(), kpi_dump()

    # when
    output = seed("--departments", "2", "--kpis", "30")

    # then
    assert counts() == before
    assert kpi_dump() == dump
    assert "Demo organisation already present; nothing changed." in output


def test_seeding_again_weeks_later_keeps_the_history_where_it_was():
    # given
    seed()
    before, dump = counts(), kpi_dump()

    # when
    output = seed(today=TODAY + dt.timedelta(days=1))
    seed(today=dt.date(2026, 11, 21))

    # then
    assert counts() == before
    assert kpi_dump() == dump
    assert "Demo organisation already present; nothing changed." in output


def test_a_run_only_adds_the_missing_rows_and_leaves_entered_values_alone():
    # given
    seed()
    otd = Kpi.objects.get(code="PROC-OTD")
    Target.objects.filter(kpi=otd, period__gte=dt.date(2026, 10, 1)).delete()
    Measurement.objects.filter(kpi=otd, period=LAST_WEEK).delete()
    Measurement.objects.filter(kpi=otd, period=dt.date(2026, 11, 2)).update(value=99.0)
    Kpi.objects.filter(code="FIN-DSO").delete()
    before = counts()

    # when
    output = seed()

    # then
    assert "KPIs: 1 created" in output
    assert Target.objects.filter(kpi=otd).count() == 91
    assert Measurement.objects.get(kpi=otd, period=LAST_WEEK).value == 76.1
    assert Measurement.objects.get(kpi=otd, period=dt.date(2026, 11, 2)).value == 99.0
    assert counts() == {
        "Kpi": before["Kpi"] + 1, "Target": before["Target"] + 19 + 21,
        "Measurement": before["Measurement"] + 1 + 18, "MeasurementRevision": 2,
        "AuditEvent": before["AuditEvent"] + 1,
    }  # fmt: skip


def test_the_same_seed_builds_the_same_kpis():
    # given
    with transaction.atomic():
        seed("--departments", "3", "--kpis", "40", "--seed", "7")
        first = kpi_dump()
        transaction.set_rollback(True)
    assert counts() == dict.fromkeys(counts(), 0)

    # when
    seed("--departments", "3", "--kpis", "40", "--seed", "7")

    # then
    assert kpi_dump() == first


def test_another_seed_changes_only_the_generated_history():
    # given
    with transaction.atomic():
        seed("--departments", "3", "--kpis", "40", "--seed", "7")
        first = kpi_dump()
        transaction.set_rollback(True)

    # when
    seed("--departments", "3", "--kpis", "40", "--seed", "8")

    # then
    second = kpi_dump()
    demo = {row[0] for row in first["kpis"] if row[3] in DEMO_DEPARTMENTS}
    assert [r for r in second["measurements"] if r[0] in demo] == [
        r for r in first["measurements"] if r[0] in demo
    ]
    assert second["measurements"] != first["measurements"]


def test_the_kpis_option_adds_weekly_kpis_with_52_periods_in_the_generated_departments():
    # when
    output = seed("--departments", "3", "--kpis", "50")

    # then
    generated = Kpi.objects.exclude(department__code__in=DEMO_DEPARTMENTS)
    assert generated.count() == 50
    assert Kpi.objects.count() == 83
    assert dict(generated.values_list("department__code").annotate(n=Count("pk")).order_by()) == {
        "PROD-P01": 17, "SALES-R01": 17, "LOG-H01": 16,
    }  # fmt: skip
    assert set(generated.values_list("frequency", flat=True)) == {Frequency.WEEKLY}
    assert sorted(generated.values_list("code", flat=True))[:3] == [
        "LOG-H01-ACCURACY-01", "LOG-H01-ACCURACY-02", "LOG-H01-ACCURACY-03",
    ]  # fmt: skip
    assert Kpi.objects.get(code="PROD-P01-OEE-01").name == "OEE, Plant 1 Production #1"
    per_kpi = set(
        generated.annotate(
            n_targets=Count("targets", distinct=True),
            n_actuals=Count("measurements", distinct=True),
        ).values_list("n_targets", "n_actuals")
    )
    assert per_kpi == {(52, 52)}
    assert Target.objects.filter(kpi__in=generated).aggregate(
        first=Min("period"), last=Max("period")
    ) == {"first": dt.date(2025, 11, 17), "last": LAST_WEEK}
    memberships = set(Membership.objects.values_list("person_id", "department_id"))
    assert {(k.owner_id, k.department_id) for k in generated} <= memberships
    assert generated.filter(objectives=None).count() == 0
    assert "KPIs: 83 created" in output
    assert "targets: 4,343 created" in output


def test_generated_kpis_go_to_the_named_departments_when_there_are_no_others():
    # when
    seed("--kpis", "14")

    # then
    generated = Kpi.objects.filter(code__regex=r"-\d\d$")
    assert dict(generated.values_list("department__code").annotate(n=Count("pk")).order_by()) == (
        dict.fromkeys(sorted(DEMO_DEPARTMENTS), 2)
    )


def test_generated_kpis_show_a_mix_of_on_plan_and_drifting_kpis():
    # when
    seed("--departments", "16", "--kpis", "400")

    # then: judged on the last week, most are within 5% and some drift beyond 10%
    generated = {"period": LAST_WEEK, "kpi__code__regex": r"-\d\d$"}
    plans = dict(Target.objects.filter(**generated).values_list("kpi__code", "value"))
    actuals = dict(Measurement.objects.filter(**generated).values_list("kpi__code", "value"))
    assert len(plans) == len(actuals) == 400
    gaps = [abs(actuals[code] - plan) / abs(plan) for code, plan in plans.items()]
    assert 0.6 < sum(g <= 0.05 for g in gaps) / 400 < 0.9
    assert 0.05 < sum(g > 0.10 for g in gaps) / 400 < 0.25


def test_at_profile_l_a_few_generated_kpis_drift_adverse():
    # given profile L's blueprint (pure: nothing is written)
    size = demo_size("L")
    org = demo_blueprint(size=size, today=TODAY, seed=DEFAULT_SEED)

    # when
    generated = kpi_blueprint(org, kpis=size.kpis, seed=DEFAULT_SEED).generated

    # then 8% drift adverse by 10–24% (about 1,500 KPI exceptions once recomputed) and 15% run
    # ahead of plan by 3–8%; the rest hold their plan
    adverse = -generated["drift"][generated["drift"] < 0]
    ahead = generated["drift"][generated["drift"] > 0]
    assert (len(generated), len(adverse), len(ahead)) == (20_000, 1_617, 2_995)
    assert 0.10 <= adverse.min() < adverse.max() <= 0.24
    assert 0.03 <= ahead.min() < ahead.max() <= 0.08


def test_profiles_m_and_l_carry_their_kpi_counts():
    # then: 52 weekly targets and actuals for each generated KPI
    assert (PROFILES["M"].kpis, PROFILES["L"].kpis) == (2_000, 20_000)
    assert PROFILES["demo"].kpis == 0


def test_a_larger_build_needs_a_bounded_number_of_queries():
    # given: what the demo's own organisation costs (its 16 contracts go through the services)
    with transaction.atomic(), CaptureQueriesContext(connection) as demo:
        seed()
        transaction.set_rollback(True)

    # when
    with CaptureQueriesContext(connection) as queries:
        seed("--departments", "4", "--kpis", "400")

    # then: 400 KPIs, ~21,000 targets and actuals, in batches (per row would be thousands)
    assert Kpi.objects.count() == 433
    assert Measurement.objects.count() == 1490 + 400 * 52
    assert len(queries) - len(demo) < 80


def test_after_seeding_the_exceptions_tell_the_supply_chain_story():
    # when
    out = StringIO()
    call_command("seed_demo", "--today", TODAY.isoformat(), stdout=out)

    # then: Procurement's supplier delivery drifted red, Production and Logistics followed,
    # a Logistics KPI lacks data; Sales runs over plan; Finance and Customer Service are green
    open_exceptions = set(KpiException.objects.open().values_list("kpi__code", "kind"))
    assert {
        ("PROC-OTD", ExceptionKind.KPI_RED),
        ("PROD-THRU", ExceptionKind.KPI_RED),
        ("LOG-EXPEDITE", ExceptionKind.KPI_RED),
        ("LOG-DC-ACCURACY", ExceptionKind.MISSING_DATA),
    } <= open_exceptions
    overdue = KpiException.objects.open().filter(kind=ExceptionKind.MILESTONE_OVERDUE)
    assert "Award decisions signed off by the steering committee" in {
        e.milestone.name for e in overdue
    }
    statuses = dict(Kpi.objects.values_list("code", "status"))
    assert statuses["SALES-INTAKE"] == Status.ON_TRACK
    assert {
        code: status
        for code, status in statuses.items()
        if code.startswith(("FIN-", "CS-")) and status != Status.ON_TRACK
    } == {}
    assert not {code for code, _ in open_exceptions if code and code.startswith(("FIN-", "CS-"))}
    assert "KPI results: 33 KPIs recomputed" in out.getvalue()


def test_no_recompute_leaves_results_for_the_workers():
    # when
    seed()

    # then
    assert not KpiResult.objects.exists()
    assert not KpiException.objects.exists()
