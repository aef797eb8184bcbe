"""The decision log: decisions against the outcomes (KPIs) they are meant to move, with their
trade-offs, resource reallocations and expected effect, and the tamper-evident hash chain over it.

A decision's content is written once and never changed (the querysets refuse bulk update and
delete; the services offer neither; the admin is read-only). What happens to it later (decided,
superseded, its effectiveness reviewed) is a `LogEntry`. Every entry, the decision's own creation
included, carries a hash over its canonical content and the previous entry's hash, so that
`manage.py verify_audit` can find the first altered row. The rules are in `docs/decisions.md`.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from decisions.choices import (
    DecisionStatus,
    Effectiveness,
    ExpectedEffectKind,
    LogEntryKind,
    ReallocationUnit,
)
from govern.choices import Role
from govern.models import Department, Initiative, Objective, Person
from govern.querysets import AppendOnlyQuerySet, RestrictedQuerySet
from kpis.models import Kpi, KpiException, validate_finite


class DecisionQuerySet(RestrictedQuerySet):
    """Decisions are never deleted, and their content is never bulk-updated: the status and
    effectiveness columns move only through `decisions.services` (which logs each move)."""

    def delete(self):
        raise TypeError("Decisions are append-only: supersede a decision instead of deleting it.")


class Decision(models.Model):
    title = models.CharField(max_length=200)
    context = models.TextField(help_text="The situation that calls for a decision.")
    options_considered = models.TextField(help_text="The options weighed, one per line.")
    chosen_option = models.TextField()
    rationale = models.TextField()
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="decisions")

    # The outcomes it is meant to move: at least one KPI (enforced by the services).
    kpis = models.ManyToManyField(Kpi, related_name="decisions")
    # What it answers, optionally.
    exception = models.ForeignKey(
        KpiException, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    contract = models.ForeignKey(
        "dependencies.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )

    # The trade-off: what is sacrificed (required when the exception asks for a trade-off).
    tradeoff_objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tradeoff_initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tradeoff_statement = models.TextField(blank=True)

    # The expected effect, checked at the review date.
    expected_kpi = models.ForeignKey(
        Kpi, null=True, blank=True, on_delete=models.PROTECT, related_name="expected_by_decisions"
    )
    expected_kind = models.CharField(max_length=10, choices=ExpectedEffectKind.choices, blank=True)
    expected_value = models.FloatField(null=True, blank=True, validators=[validate_finite])
    review_date = models.DateField(null=True, blank=True)

    status = models.CharField(
        max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_by_name = models.CharField(max_length=150)
    decided_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions_taken"
    )
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_by_role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    # Crosses departments (trade-off or reallocation outside `department`): an executive decides.
    cross_department = models.BooleanField(default=False)

    effectiveness = models.CharField(
        max_length=12, choices=Effectiveness.choices, default=Effectiveness.PENDING
    )
    effectiveness_note = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    # The hash of the log entry that wrote this decision (its canonical content is in it).
    hash = models.CharField(max_length=64, editable=False)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["department", "status"], name="decision_department_status"),
            models.Index(fields=["review_date", "effectiveness"], name="decision_review_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DecisionStatus.values), name="decision_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(effectiveness__in=Effectiveness.values),
                name="decision_effectiveness_valid",
            ),
            models.CheckConstraint(
                condition=Q(status=DecisionStatus.PROPOSED)
                | (Q(decided_by_name__gt="") & Q(decided_on__isnull=False)),
                name="decision_decided_has_decider",
                violation_error_message="A decided decision names who decided it and when.",
            ),
            models.CheckConstraint(
                condition=Q(expected_kpi__isnull=True)
                | (
                    Q(expected_value__isnull=False)
                    & Q(review_date__isnull=False)
                    & ~Q(expected_kind="")
                ),
                name="decision_expected_effect_complete",
                violation_error_message=(
                    "An expected effect needs its KPI, what is expected and a review date."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"D-{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("decision-detail", args=[self.pk])


class Reallocation(models.Model):
    """One line of resources moved by a decision: from an initiative or department to another."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="reallocations")
    from_initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    unit = models.CharField(max_length=15, choices=ReallocationUnit.choices)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("decision", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(from_initiative__isnull=False) | Q(from_department__isnull=False),
                name="reallocation_has_source",
                violation_error_message="Say where the resources come from.",
            ),
            models.CheckConstraint(
                condition=Q(to_initiative__isnull=False) | Q(to_department__isnull=False),
                name="reallocation_has_target",
                violation_error_message="Say where the resources go.",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="reallocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.get_unit_display()}"


class LogEntry(models.Model):
    """One link of the decision log's hash chain: `hash = sha256(previous hash + canonical JSON of
    (sequence, kind, decision, actor, occurred_at, payload))`. Written once, never changed."""

    sequence = models.PositiveBigIntegerField(unique=True)
    kind = models.CharField(max_length=24, choices=LogEntryKind.choices)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="log_entries")
    actor = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    occurred_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("sequence",)
        verbose_name_plural = "log entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=LogEntryKind.values), name="log_entry_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_kind_display()}"
