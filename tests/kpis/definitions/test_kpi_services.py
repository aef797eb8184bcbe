"""KPI definitions: create, update and delete through the services, audited, validated, and
recomputed when how the KPI is judged changes."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from govern.choices import AuditAction
from govern.errors import ConflictError
from govern.models import AuditEvent
from kpis.models import Kpi, Target
from kpis.services.kpis import kpi_create, kpi_delete, kpi_update
from tests.factories import KpiFactory, MeasurementFactory
from tests.kpis.definitions.conftest import JAN


def _create(actor, department, owner, **extra):
    data = {
        "code": "sales-nps", "name": "Net promoter score", "department": department,
        "owner": owner, "unit": "count", "direction": "higher_is_better",
        "frequency": "quarterly", "amber_threshold": 5.0, "red_threshold": 10.0,
    }  # fmt: skip
    return kpi_create(actor=actor, **{**data, **extra})


def test_create_records_the_kpi_and_its_audit_event(lead, department, contributor):
    # when
    kpi = _create(lead, department, contributor, criticality=4)

    # then
    assert Kpi.objects.get(pk=kpi.pk).code == "SALES-NPS"
    event = AuditEvent.objects.get(subject_type="kpis.kpi", subject_id=str(kpi.pk))
    assert event.action == AuditAction.CREATE
    assert event.actor == lead
    assert event.changes["code"] == {"old": None, "new": "SALES-NPS"}
    assert event.changes["criticality"] == {"old": None, "new": 4}


def test_create_refuses_a_taken_code_with_a_clear_message(lead, department, contributor, kpi):
    # given
    events = AuditEvent.objects.count()

    # when
    with pytest.raises(ValidationError) as caught:
        _create(lead, department, contributor, code="sales-intake")

    # then
    assert caught.value.message_dict == {
        "code": ["A KPI with the code SALES-INTAKE already exists; KPI codes are unique."]
    }
    assert Kpi.objects.count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(
            {"amber_threshold": 10.0, "red_threshold": 10.0},
            {"red_threshold": ["The red threshold must be above the amber threshold."]},
            id="amber-equals-red",
        ),
        pytest.param(
            {"amber_threshold": 12.0, "red_threshold": 8.0},
            {"red_threshold": ["The red threshold must be above the amber threshold."]},
            id="amber-above-red",
        ),
        pytest.param(
            {"direction": "within_band"},
            {
                "band_low": ["A within-band KPI needs the low end of its band."],
                "band_high": ["A within-band KPI needs the high end of its band."],
            },
            id="band-missing",
        ),
        pytest.param(
            {"direction": "within_band", "band_low": 5.0, "band_high": 2.0},
            {"band_high": ["The high end of the band must be above the low end."]},
            id="band-inverted",
        ),
        pytest.param(
            {"band_low": 1.0, "band_high": 2.0},
            {"direction": ["Only a within-band KPI has a band; clear the band or change it."]},
            id="band-on-a-directional-kpi",
        ),
        pytest.param(
            {"amber_threshold": float("nan")},
            {"amber_threshold": ["Enter a finite number (not NaN or infinity)."]},
            id="not-finite",
        ),
    ],
)
def test_create_refuses_bad_tolerance_with_field_errors(
    lead, department, contributor, extra, expected
):
    # given
    events = AuditEvent.objects.count()

    # when
    with pytest.raises(ValidationError) as caught:
        _create(lead, department, contributor, **extra)

    # then
    assert caught.value.message_dict == expected
    assert not Kpi.objects.exists()
    assert AuditEvent.objects.count() == events


def test_create_a_band_kpi(lead, department, contributor):
    # when
    kpi = _create(
        lead, department, contributor, code="PROD-TEMP", direction="within_band",
        band_low=18.0, band_high=22.0, tolerance_mode="absolute", amber_threshold=0.5,
        red_threshold=1.5,
    )  # fmt: skip

    # then
    stored = Kpi.objects.get(pk=kpi.pk)
    assert (stored.band_low, stored.band_high) == (18.0, 22.0)


def test_create_is_refused_outside_the_departments_the_actor_leads(
    other_lead, department, contributor
):
    # when
    with pytest.raises(PermissionDenied) as caught:
        _create(other_lead, department, contributor)

    # then
    assert str(caught.value) == "You may not create a KPI in Sales."
    assert not Kpi.objects.exists()
    assert not AuditEvent.objects.exists()


def test_changing_the_tolerance_is_audited_and_queues_one_recompute(
    lead, kpi, django_capture_on_commit_callbacks, monkeypatch
):
    # given
    queued = []
    monkeypatch.setattr("kpis.tasks.kpi_recompute.delay", lambda **kwargs: queued.append(kwargs))
    before = Kpi.objects.get(pk=kpi.pk).inputs_changed_at

    # when
    with django_capture_on_commit_callbacks(execute=True):
        kpi_update(actor=lead, kpi=kpi, data={"amber_threshold": 3.0, "red_threshold": 6.0})

    # then
    stored = Kpi.objects.get(pk=kpi.pk)
    assert (stored.amber_threshold, stored.red_threshold) == (3.0, 6.0)
    assert stored.inputs_changed_at > before
    assert queued == [{"kpi_ids": [kpi.pk]}]
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, subject_id=str(kpi.pk))
    assert event.changes == {
        "amber_threshold": {"old": 5.0, "new": 3.0},
        "red_threshold": {"old": 10.0, "new": 6.0},
    }


def test_renaming_does_not_queue_a_recompute(lead, kpi, django_capture_on_commit_callbacks):
    # given
    before = Kpi.objects.get(pk=kpi.pk).inputs_changed_at

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        kpi_update(actor=lead, kpi=kpi, data={"name": "Order intake (EUR)"})

    # then
    assert callbacks == []
    stored = Kpi.objects.get(pk=kpi.pk)
    assert stored.name == "Order intake (EUR)"
    assert stored.inputs_changed_at == before


def test_update_refuses_amber_above_red_and_writes_nothing(
    lead, kpi, django_capture_on_commit_callbacks
):
    # given
    events = AuditEvent.objects.count()

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ValidationError) as caught:
            kpi_update(actor=lead, kpi=kpi, data={"amber_threshold": 20.0})

    # then
    assert caught.value.message_dict == {
        "red_threshold": ["The red threshold must be above the amber threshold."]
    }
    assert Kpi.objects.get(pk=kpi.pk).amber_threshold == 5.0
    assert AuditEvent.objects.count() == events
    assert callbacks == []


def test_the_frequency_of_a_kpi_with_targets_cannot_change(lead, kpi):
    # when
    with pytest.raises(ValidationError) as caught:
        kpi_update(actor=lead, kpi=kpi, data={"frequency": "weekly"})

    # then
    assert list(caught.value.message_dict) == ["frequency"]
    assert Kpi.objects.get(pk=kpi.pk).frequency == "monthly"


def test_the_owner_may_not_change_the_definition(contributor, kpi):
    # when
    with pytest.raises(PermissionDenied):
        kpi_update(actor=contributor, kpi=kpi, data={"name": "Mine now"})

    # then
    assert Kpi.objects.get(pk=kpi.pk).name == "Order intake"


def test_delete_removes_the_kpi_and_its_targets_and_records_it(lead, kpi):
    # when
    kpi_delete(actor=lead, kpi=kpi)

    # then
    assert not Kpi.objects.filter(pk=kpi.pk).exists()
    assert not Target.objects.exists()
    event = AuditEvent.objects.get(action=AuditAction.DELETE)
    assert event.subject_name == "SALES-INTAKE — Order intake"


def test_a_measured_kpi_cannot_be_deleted(lead, kpi):
    # given
    MeasurementFactory(kpi=kpi, period=JAN, value=98.0)
    events = AuditEvent.objects.count()

    # when
    with pytest.raises(ConflictError) as caught:
        kpi_delete(actor=lead, kpi=kpi)

    # then
    assert caught.value.message == (
        "SALES-INTAKE has 1 measurement; a measured KPI keeps its history. Deactivate it instead."
    )
    assert Kpi.objects.filter(pk=kpi.pk).exists()
    assert AuditEvent.objects.count() == events


def test_kpi_factory_codes_pass_the_model_validator(db):
    # A guard for the other tests: factory codes are valid codes.
    KpiFactory().full_clean()
