"""The decision log: decisions against the outcomes (KPIs) they are meant to move, with their
trade-offs, resource reallocations and expected effect, and the tamper-evident hash chain over it.

A decision's content is written once and never changed (the querysets refuse bulk update and
delete; the services offer neither; the admin is read-only). What happens to it later (decided,
superseded, its effectiveness reviewed) is a `LogEntry`. Every entry, the decision's own creation
included, carries a hash over its canonical content and the previous entry's hash, so that
`manage.py verify_audit` can find the first altered row. The rules are in `docs/decisions.md`.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from decisions.choices import (
    AgendaItemKind,
    AgendaOutcome,
    DecisionStatus,
    Effectiveness,
    ExpectedEffectKind,
    LogEntryKind,
    ReallocationUnit,
    SessionCadence,
    SessionStatus,
    TriggerBasis,
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
    # Where it came from, optionally: the contingency plan that proposed it, the review session
    # it was logged in.
    contingency_plan = models.ForeignKey(
        "ContingencyPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    review_session = models.ForeignKey(
        "ReviewSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )
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


def _line_constraints(prefix: str) -> list[models.BaseConstraint]:
    """A reallocation line says where the resources come from and go, and moves a positive
    amount (named `<prefix>_has_source`, `_has_target`, `_amount_positive`)."""
    return [
        models.CheckConstraint(
            condition=Q(from_initiative__isnull=False) | Q(from_department__isnull=False),
            name=f"{prefix}_has_source",
            violation_error_message="Say where the resources come from.",
        ),
        models.CheckConstraint(
            condition=Q(to_initiative__isnull=False) | Q(to_department__isnull=False),
            name=f"{prefix}_has_target",
            violation_error_message="Say where the resources go.",
        ),
        models.CheckConstraint(condition=Q(amount__gt=0), name=f"{prefix}_amount_positive"),
    ]


class ReallocationLine(models.Model):
    """Resources moved from an initiative or department to another: a decision's line, or a
    line of a contingency plan's template."""

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

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.amount} {self.get_unit_display()}"


class Reallocation(ReallocationLine):
    """One line of resources moved by a decision: from an initiative or department to another."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="reallocations")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("decision", "id")
        constraints = _line_constraints("reallocation")


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


# --- Contingency plans ----------------------------------------------------------------------------


class ContingencyPlan(models.Model):
    """A pre-agreed response attached to a KPI: "if it misses by `threshold_pct`% (or is forecast
    to) for `periods` consecutive periods, then do `response`, owned by `owner`". When the engine
    sees the trigger it proposes a decision from the plan (docs/contingency-plans.md)."""

    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="contingency_plans")
    name = models.CharField(max_length=200)
    trigger_basis = models.CharField(
        max_length=10, choices=TriggerBasis.choices, default=TriggerBasis.ACTUAL
    )
    threshold_pct = models.FloatField(
        validators=[MinValueValidator(0.1), MaxValueValidator(1000), validate_finite],
        help_text="Adverse variance, in % of plan, at or beyond which a period counts.",
    )
    periods = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="How many consecutive periods must be at or beyond the threshold.",
    )
    response = models.TextField(help_text="The pre-agreed response: what will be done.")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="contingency_plans")
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disabled_reason = models.TextField(blank=True)
    last_triggered_at = models.DateTimeField(null=True, blank=True)
    # The period it last fired at: it fires once per run, so again only when a new run (one
    # that starts firing after this period) reaches the trigger (docs/contingency-plans.md).
    last_triggered_period = models.DateField(null=True, blank=True)
    trigger_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = (
        "kpi",
        "name",
        "trigger_basis",
        "threshold_pct",
        "periods",
        "response",
        "owner",
        "enabled",
    )

    class Meta:
        ordering = ("kpi__code", "name")
        indexes = [models.Index(fields=["kpi", "enabled"], name="contingency_kpi_enabled")]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "name"],
                name="contingency_unique_name_per_kpi",
                violation_error_message="This KPI already has a contingency plan of that name.",
            ),
            models.CheckConstraint(
                condition=Q(threshold_pct__gt=0), name="contingency_threshold_positive"
            ),
            models.CheckConstraint(condition=Q(periods__gte=1), name="contingency_periods_min"),
            models.CheckConstraint(
                condition=Q(trigger_basis__in=TriggerBasis.values),
                name="contingency_basis_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contingency-detail", args=[self.pk])


class ContingencyReallocation(ReallocationLine):
    """One line of the plan's reallocation template, copied onto the decision it proposes."""

    plan = models.ForeignKey(
        ContingencyPlan, on_delete=models.CASCADE, related_name="reallocations"
    )

    class Meta:
        ordering = ("plan", "id")
        constraints = _line_constraints("contingency_line")


# --- Review sessions ------------------------------------------------------------------------------


class ReviewSession(models.Model):
    """A review whose agenda is generated from the exceptions (docs/review-sessions.md)."""

    title = models.CharField(max_length=200)
    cadence = models.CharField(max_length=20, choices=SessionCadence.choices)
    scheduled_for = models.DateTimeField()
    departments = models.ManyToManyField(
        Department,
        blank=True,
        related_name="review_sessions",
        help_text="The scope; none means the whole organisation.",
    )
    attendees = models.ManyToManyField(Person, blank=True, related_name="review_sessions")
    chair = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agenda_share = models.FloatField(
        default=0.2,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text="The share of open exceptions, worst first, that make the agenda.",
    )
    status = models.CharField(
        max_length=12, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    agenda_generated_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    minutes_summary = models.TextField(blank=True)
    created_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = ("title", "cadence", "scheduled_for", "status", "agenda_share", "chair")

    class Meta:
        ordering = ("-scheduled_for", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="review_session_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(agenda_share__gt=0) & Q(agenda_share__lte=1),
                name="review_session_share_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("session-detail", args=[self.pk])


class AgendaItem(models.Model):
    """One item of a session's generated agenda, and what the session made of it."""

    session = models.ForeignKey(
        ReviewSession, on_delete=models.CASCADE, related_name="agenda_items"
    )
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=AgendaItemKind.choices)
    exception = models.ForeignKey(
        KpiException, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.ForeignKey(
        Decision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The decision due for its effectiveness review.",
    )
    contract = models.ForeignKey(
        "dependencies.Contract",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A snapshot of what was on the agenda, kept however the subject changes later.
    title = models.CharField(max_length=255)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    severity = models.FloatField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=AgendaOutcome.choices, default=AgendaOutcome.PENDING
    )
    note = models.TextField(blank=True)
    action_owner = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deferred_to = models.DateField(null=True, blank=True)
    outcome_decision = models.ForeignKey(
        Decision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agenda_items",
        help_text="The decision logged for this item in the session.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("session", "position")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "position"], name="agenda_item_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AgendaItemKind.values), name="agenda_item_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=AgendaOutcome.values), name="agenda_item_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


# --- Alignment assessments ------------------------------------------------------------------------


SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class AlignmentAssessment(models.Model):
    """How aligned one leader of a department is, in one period (a quarter): scores 1–5."""

    period = models.DateField(help_text="The first day of the quarter assessed.")
    leader = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="alignment_assessments"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="alignment_assessments"
    )
    understanding = models.PositiveSmallIntegerField(
        validators=SCORE_VALIDATORS, help_text="Understanding of the objectives, 1–5."
    )
    commitment = models.PositiveSmallIntegerField(
        validators=SCORE_VALIDATORS, help_text="Commitment to them, 1–5."
    )
    resources = models.PositiveSmallIntegerField(
        validators=SCORE_VALIDATORS, help_text="Adequacy of the resources, 1–5."
    )
    resistance_notes = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = (
        "period",
        "leader",
        "department",
        "understanding",
        "commitment",
        "resources",
        "resistance_notes",
    )

    class Meta:
        ordering = ("-period", "department__name", "leader__last_name")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "leader", "department"],
                name="alignment_one_per_leader_period",
                violation_error_message=(
                    "This leader already has an assessment for this department and quarter."
                ),
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 1}) & Q(**{f"{name}__lte": 5}),
                    name=f"alignment_{name}_range",
                )
                for name in ("understanding", "commitment", "resources")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.leader} · {self.department} · {self.period:%Y-%m}"

    @property
    def score(self) -> float:
        """The mean of the three scores."""
        return round((self.understanding + self.commitment + self.resources) / 3, 2)
