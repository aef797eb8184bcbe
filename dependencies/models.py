"""Dependency contracts between departments, their immutable versions and their amendments.

A contract's *terms* (`Contract.TERM_FIELDS`) are what both sides agree to. While the contract is
a draft or proposed, the PMO edits them freely; from `agreed` on they are frozen, and they change
only when an amendment is applied (accepted by both sides, or a PMO override), which writes a new
`ContractVersion`: an immutable snapshot of every term. `Contract.revision` is the optimistic
lock (the ETag): every write to the contract bumps it, and a write based on an older revision is
refused with 409. The rules, the lifecycle and the API are in `docs/contracts.md`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from dependencies.choices import (
    AmendmentStatus,
    ContractStatus,
    Response,
    ServiceComparison,
)
from govern.models import Department, Initiative, Milestone, Person, PlanVersion
from govern.querysets import RestrictedQuerySet
from kpis.models import Kpi, kpi_code_validator, validate_finite


class ContractQuerySet(RestrictedQuerySet):
    def in_force(self):
        return self.filter(
            status__in=[ContractStatus.AGREED, ContractStatus.AT_RISK, ContractStatus.BREACHED]
        )


class Contract(models.Model):
    """An agreement between a provider department and a consumer department."""

    code = models.CharField(
        max_length=40,
        unique=True,
        validators=[kpi_code_validator],
        help_text="A stable code such as PROC-PROD-CASTINGS, used by the API and imports.",
    )
    title = models.CharField(max_length=200)
    provider_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="provided_contracts"
    )
    provider_owner = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="provided_contracts"
    )
    consumer_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="consumed_contracts"
    )
    consumer_owner = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="consumed_contracts"
    )
    deliverable = models.TextField(help_text="What the provider delivers.")
    acceptance_criteria = models.TextField(
        blank=True, help_text="How the consumer knows it was delivered as agreed."
    )
    # Either a one-off delivery by a due date, or a recurring service level on a KPI (or both).
    due_date = models.DateField(null=True, blank=True)
    service_kpi = models.ForeignKey(
        Kpi,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_contracts",
        help_text="The KPI that measures the recurring service level.",
    )
    service_comparison = models.CharField(
        max_length=3, choices=ServiceComparison.choices, blank=True
    )
    service_threshold = models.FloatField(
        null=True,
        blank=True,
        validators=[validate_finite],
        help_text="The service level, in the KPI's unit (e.g. on-time ≥ 95).",
    )
    service_level = models.CharField(
        max_length=200, blank=True, help_text="In words, e.g. “2,000 castings a week”."
    )
    criticality = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    provider_milestones = models.ManyToManyField(
        Milestone, blank=True, related_name="produced_contracts"
    )
    provider_initiatives = models.ManyToManyField(
        Initiative, blank=True, related_name="produced_contracts"
    )
    consumer_initiatives = models.ManyToManyField(
        Initiative, blank=True, related_name="dependent_contracts"
    )
    consumer_milestones = models.ManyToManyField(
        Milestone, blank=True, related_name="dependent_contracts"
    )
    consumer_kpis = models.ManyToManyField(Kpi, blank=True, related_name="dependent_contracts")
    plan_version = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, related_name="contracts"
    )

    status = models.CharField(
        max_length=10, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    # Agreement: each side's owner (or a lead of the side's department) agrees to the proposal.
    provider_agreed_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider_agreed_at = models.DateTimeField(null=True, blank=True)
    consumer_agreed_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consumer_agreed_at = models.DateTimeField(null=True, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The number of the latest `ContractVersion` (0 before agreement).
    version_number = models.PositiveIntegerField(default=0)
    # The optimistic lock: bumped by every write; the API's ETag is "<revision>".
    revision = models.PositiveIntegerField(default=1)

    # Maintained by the health monitor (`dependencies.services.health`), never in a request.
    health_reason = models.TextField(blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    red_streak = models.PositiveSmallIntegerField(default=0)

    created_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContractQuerySet.as_manager()

    # What both sides agree to: frozen from `agreed` on, snapshotted by every version.
    TERM_FIELDS = (
        "code", "title", "provider_department", "provider_owner", "consumer_department",
        "consumer_owner", "deliverable", "acceptance_criteria", "due_date", "service_kpi",
        "service_comparison", "service_threshold", "service_level", "criticality",
        "provider_milestones", "provider_initiatives", "consumer_initiatives",
        "consumer_milestones", "consumer_kpis", "plan_version",
    )  # fmt: skip
    TERM_M2M_FIELDS = (
        "provider_milestones", "provider_initiatives", "consumer_initiatives",
        "consumer_milestones", "consumer_kpis",
    )  # fmt: skip
    audit_fields = (*TERM_FIELDS, "status")

    class Meta:
        ordering = ("code",)
        indexes = [
            models.Index(fields=["status"], name="contract_status_idx"),
            models.Index(
                fields=["provider_department", "status"], name="contract_provider_status_idx"
            ),
            models.Index(
                fields=["consumer_department", "status"], name="contract_consumer_status_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(provider_department=F("consumer_department")),
                name="contract_provider_is_not_consumer",
                violation_error_message=(
                    "The provider and the consumer must be different departments."
                ),
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=False) | Q(service_kpi__isnull=False),
                name="contract_has_due_date_or_service_level",
                violation_error_message=(
                    "A contract needs a due date, a service-level KPI, or both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(service_kpi__isnull=True)
                | (Q(service_threshold__isnull=False) & ~Q(service_comparison="")),
                name="contract_service_kpi_has_threshold",
                violation_error_message=(
                    "A service-level KPI needs a threshold and a comparison (at least / at most)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(criticality__gte=1, criticality__lte=5),
                name="contract_criticality_1_to_5",
                violation_error_message="Criticality must be between 1 and 5.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ContractStatus.values), name="contract_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contract-detail", args=[self.pk])

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'

    @property
    def is_negotiating(self) -> bool:
        return self.status in (ContractStatus.DRAFT, ContractStatus.PROPOSED)

    @property
    def is_in_force(self) -> bool:
        return self.status in (
            ContractStatus.AGREED,
            ContractStatus.AT_RISK,
            ContractStatus.BREACHED,
        )

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if (
            self.provider_department_id
            and self.consumer_department_id
            and self.provider_department_id == self.consumer_department_id
        ):
            errors["consumer_department"] = (
                "The consumer must be a different department from the provider."
            )
        if self.due_date is None and self.service_kpi_id is None:
            errors["due_date"] = "Give a due date, a service-level KPI, or both."
        if self.service_kpi_id is not None:
            if self.service_threshold is None:
                errors["service_threshold"] = "A service-level KPI needs a threshold."
            if not self.service_comparison:
                errors["service_comparison"] = "Say whether the KPI must stay at least or at most"
                errors["service_comparison"] += " at the threshold."
        elif self.service_threshold is not None or self.service_comparison:
            errors["service_kpi"] = "A service-level threshold needs the KPI that measures it."
        if errors:
            raise ValidationError(errors)


class ContractVersion(models.Model):
    """An immutable snapshot of a contract's terms: version 1 at agreement, one more per applied
    amendment. Never updated or deleted."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # {term: value}: scalars as JSON values, foreign keys as {"id", "label"}, many-to-many as a
    # sorted list of {"id", "label"}: labels copied so history survives renames and deletions.
    terms = models.JSONField()
    author = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    amendment = models.OneToOneField(
        "Amendment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applied_version",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ("contract", "number")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "number"], name="contract_version_unique_number"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="contract_version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} v{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("contract-versions", args=[self.contract_id]) + f"#v{self.number}"


class Amendment(models.Model):
    """A proposed change to an agreed contract's terms: accepted by both sides (or applied by a
    PMO override) it becomes the next version; rejected by either side, nothing changes."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="amendments")
    number = models.PositiveIntegerField()
    base_version = models.PositiveIntegerField(help_text="The version this amendment changes.")
    # {term: new value} in the same encoding as `ContractVersion.terms` (ids for relations).
    changes = models.JSONField()
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING
    )
    proposed_by = models.ForeignKey(
        Person, null=True, on_delete=models.SET_NULL, related_name="proposed_amendments"
    )
    proposed_by_name = models.CharField(max_length=150)
    proposed_at = models.DateTimeField(default=timezone.now)

    provider_response = models.CharField(max_length=10, choices=Response.choices, blank=True)
    provider_responder = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider_comment = models.TextField(blank=True)
    provider_responded_at = models.DateTimeField(null=True, blank=True)
    consumer_response = models.CharField(max_length=10, choices=Response.choices, blank=True)
    consumer_responder = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consumer_comment = models.TextField(blank=True)
    consumer_responded_at = models.DateTimeField(null=True, blank=True)

    override_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = ("status", "changes", "reason")

    class Meta:
        ordering = ("contract", "-number")
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="amendment_unique_number"),
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status=AmendmentStatus.PENDING),
                name="amendment_one_pending_per_contract",
                violation_error_message=(
                    "This contract already has a pending amendment; it must be accepted, "
                    "rejected or withdrawn before another is proposed."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=AmendmentStatus.values), name="amendment_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=AmendmentStatus.OVERRIDDEN) | ~Q(override_reason=""),
                name="amendment_override_has_reason",
                violation_error_message="A PMO override needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} amendment {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("contract-detail", args=[self.contract_id]) + f"#amendment-{self.number}"


class PlanContract(models.Model):
    """A contract's terms as one plan version holds them: copied from the live contract when a
    draft plan version is made from the current one, and frozen for the outgoing version when the
    next is approved, so any two versions compare (added, changed, removed) however the contracts
    move on. `included` False: the PMO has dropped the contract from the draft
    (docs/plan-versions.md)."""

    plan_version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="contract_terms"
    )
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="plan_terms")
    # The contract version the terms were copied from (0: not yet agreed, no version).
    version_number = models.PositiveIntegerField(default=0)
    terms = models.JSONField()
    included = models.BooleanField(default=True)
    copied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("plan_version", "contract__code")
        constraints = [
            models.UniqueConstraint(
                fields=["plan_version", "contract"], name="plan_contract_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_version} · {self.contract.code}"
