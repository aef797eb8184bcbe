"""Audit as data: every governance write leaves an append-only event with old and new values."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from govern import services
from govern.choices import AuditAction, ObjectiveLevel
from govern.errors import ConflictError
from govern.models import AuditEvent, Department, Initiative, Milestone
from tests.factories import InitiativeFactory, MilestoneFactory, ObjectiveFactory


def test_creating_writes_an_event_with_the_new_values(pmo, department):
    # when
    objective = services.objective_create(
        actor=pmo, title="Raise OTIF to 95%", level=ObjectiveLevel.ANNUAL, owner=pmo,
        department=department, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
    )  # fmt: skip

    # then
    event = AuditEvent.objects.for_object(objective).get()
    assert event.action == AuditAction.CREATE
    assert event.actor == pmo
    assert event.subject_type == "govern.objective"
    assert event.subject_name == "Raise OTIF to 95%"
    assert event.changes["title"] == {"old": None, "new": "Raise OTIF to 95%"}
    assert event.changes["department"] == {"old": None, "new": "Sales"}
    assert event.changes["start_date"] == {"old": None, "new": "2026-01-01"}


def test_an_edit_records_only_what_changed_and_a_no_op_records_nothing(pmo):
    # given
    initiative = InitiativeFactory(name="Supplier consolidation")

    # when
    services.initiative_update(
        actor=pmo, initiative=initiative, data={"name": "Supplier consolidation", "fte": "4.00"}
    )
    services.initiative_update(actor=pmo, initiative=initiative, data={"fte": "4.00"})

    # then
    events = list(AuditEvent.objects.for_object(initiative))
    assert len(events) == 1
    assert events[0].changes == {"fte": {"old": "2.50", "new": "4.00"}}


def test_changing_objectives_of_an_initiative_is_recorded_by_name(pmo):
    # given
    initiative = InitiativeFactory()
    growth = ObjectiveFactory(title="Grow mid-market share")

    # when
    services.initiative_update(actor=pmo, initiative=initiative, data={}, objectives=[growth])

    # then
    event = AuditEvent.objects.for_object(initiative).get()
    assert event.changes == {"objectives": {"old": [], "new": ["Grow mid-market share"]}}


def test_history_outlives_the_deleted_object_and_its_cascade(pmo):
    # given
    initiative = InitiativeFactory(name="Pilot VMI")
    milestone = MilestoneFactory(initiative=initiative, name="Sign VMI contract")
    initiative_id, milestone_id = initiative.pk, milestone.pk

    # when
    services.initiative_delete(actor=pmo, initiative=initiative)

    # then
    assert not Initiative.objects.filter(pk=initiative_id).exists()
    assert not Milestone.objects.filter(pk=milestone_id).exists()
    deleted = AuditEvent.objects.filter(action=AuditAction.DELETE)
    assert {(e.subject_type, e.subject_name) for e in deleted} == {
        ("govern.initiative", "Pilot VMI"),
        ("govern.milestone", "Sign VMI contract"),
    }


def test_a_refused_write_leaves_no_event(viewer, department):
    # given
    before = AuditEvent.objects.count()

    # when
    with pytest.raises(PermissionDenied):
        services.department_update(actor=viewer, department=department, data={"name": "Renamed"})

    # then
    department.refresh_from_db()
    assert department.name == "Sales"
    assert AuditEvent.objects.count() == before


def test_an_invalid_write_leaves_no_row_and_no_event(pmo, department):
    # given
    before = AuditEvent.objects.count()

    # when
    with pytest.raises(ValidationError) as excinfo:
        services.initiative_create(
            actor=pmo, name="Backwards", department=department, owner=pmo,
            start_date=dt.date(2026, 6, 1), end_date=dt.date(2026, 1, 1),
        )  # fmt: skip

    # then
    assert "The end date must be after the start date." in str(excinfo.value)
    assert not Initiative.objects.filter(name="Backwards").exists()
    assert AuditEvent.objects.count() == before


def test_deleting_a_department_in_use_is_a_conflict_and_changes_nothing(pmo, department):
    # given
    InitiativeFactory(department=department)
    before = AuditEvent.objects.count()

    # when
    with pytest.raises(ConflictError, match="cannot be deleted while it still has initiatives"):
        services.department_delete(actor=pmo, department=department)

    # then
    assert Department.objects.filter(pk=department.pk).exists()
    assert AuditEvent.objects.count() == before


def test_audit_events_cannot_be_changed_or_deleted(pmo, department):
    # given
    services.department_update(actor=pmo, department=department, data={"name": "Sales EMEA"})
    event = AuditEvent.objects.get()

    # then
    event.reason = "tampered"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.all().update(reason="tampered")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().reason == ""
