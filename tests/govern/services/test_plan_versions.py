import pytest
from django.core.exceptions import PermissionDenied

from govern import services
from govern.choices import AuditAction, PlanVersionStatus
from govern.errors import ConflictError
from govern.models import AuditEvent, PlanVersion
from tests.factories import PlanVersionFactory


def test_approving_a_proposed_version_supersedes_the_current_version(pmo, executive):
    # given
    current = services.plan_version_create_draft(actor=pmo, name="FY26 baseline")
    services.plan_version_propose(actor=pmo, plan_version=current)
    services.plan_version_approve(actor=executive, plan_version=current)
    draft = services.plan_version_create_draft(actor=pmo, name="FY26 re-forecast Q2")
    services.plan_version_propose(actor=pmo, plan_version=draft)

    # when
    services.plan_version_approve(actor=executive, plan_version=draft, reason="Q2 re-forecast")

    # then
    current.refresh_from_db()
    draft.refresh_from_db()
    assert current.status == PlanVersionStatus.SUPERSEDED
    assert draft.status == PlanVersionStatus.APPROVED
    assert draft.approved_by == executive
    assert draft.based_on == current
    assert list(PlanVersion.objects.filter(status=PlanVersionStatus.APPROVED)) == [draft]
    actions = list(AuditEvent.objects.for_object(current).values_list("action", flat=True))
    assert actions == [
        AuditAction.SUPERSEDE, AuditAction.APPROVE, AuditAction.PROPOSE, AuditAction.CREATE,
    ]  # fmt: skip


def test_an_approved_version_cannot_be_edited(pmo, executive):
    # given
    version = services.plan_version_create_draft(actor=pmo, name="FY26 baseline")
    services.plan_version_propose(actor=pmo, plan_version=version)
    services.plan_version_approve(actor=executive, plan_version=version)
    events_before = AuditEvent.objects.count()

    # when / then
    with pytest.raises(ConflictError, match="only a draft plan version can be edited"):
        services.plan_version_update(actor=pmo, plan_version=version, data={"name": "Other"})
    version.refresh_from_db()
    assert version.name == "FY26 baseline"
    assert AuditEvent.objects.count() == events_before


def test_a_viewer_cannot_approve_a_plan(viewer):
    # given
    version = PlanVersionFactory(name="Draft")

    # when / then
    with pytest.raises(PermissionDenied):
        services.plan_version_approve(actor=viewer, plan_version=version)
    version.refresh_from_db()
    assert version.status == PlanVersionStatus.DRAFT
