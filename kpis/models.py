"""KPIs, their target trajectories and measurements, the computed variance per period, the
exceptions raised from it, and spreadsheet import jobs.

Values are stored as double precision (`FloatField`): KPI values are measurements, and the
engine reads a million of them into pandas without per-value Decimal conversion. Non-finite
values (NaN, ±Infinity) are refused at every entry point.
"""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from govern.models import Department, Initiative, Milestone, Objective, Person, PlanVersion
from govern.querysets import RestrictedQuerySet
from kpis.choices import (
    Direction,
    EscalationLevel,
    ExceptionKind,
    ExceptionStatus,
    Frequency,
    ImportFormat,
    ImportStatus,
    MeasurementSource,
    Status,
    ToleranceMode,
    Unit,
)

kpi_code_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$",
    "Use capital letters and digits in dash-separated parts, e.g. PROC-OTD or SALES-EU-INTAKE.",
)


def status_rank() -> models.Case:
    """Management by exception: red first, then amber, missing, on track, not due, no plan.
    The KPI list orders by it, and an index on (status_rank, code) serves that order."""
    return models.Case(
        *(
            models.When(status=status, then=models.Value(rank))
            for rank, status in enumerate(
                [Status.RED, Status.AMBER, Status.MISSING, Status.ON_TRACK, Status.PENDING]
            )
        ),
        default=models.Value(9),
        output_field=models.IntegerField(),
    )


def validate_finite(value: float) -> None:
    if value is not None and not math.isfinite(value):
        raise ValidationError("Enter a finite number (not NaN or infinity).", code="not_finite")


class Kpi(models.Model):
    """A measured outcome with an owner, a direction, a frequency and tolerance bands."""

    code = models.CharField(max_length=40, unique=True, validators=[kpi_code_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="kpis")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="owned_kpis")
    unit = models.CharField(max_length=12, choices=Unit.choices, default=Unit.UNITS)
    direction = models.CharField(
        max_length=20, choices=Direction.choices, default=Direction.HIGHER_IS_BETTER
    )
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    criticality = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    objectives = models.ManyToManyField(Objective, related_name="kpis", blank=True)
    initiatives = models.ManyToManyField(Initiative, related_name="kpis", blank=True)
    tolerance_mode = models.CharField(
        max_length=10, choices=ToleranceMode.choices, default=ToleranceMode.PERCENT
    )
    amber_threshold = models.FloatField(
        default=5.0, validators=[MinValueValidator(0.0), validate_finite]
    )
    red_threshold = models.FloatField(
        default=10.0, validators=[MinValueValidator(0.0), validate_finite]
    )
    band_low = models.FloatField(null=True, blank=True, validators=[validate_finite])
    band_high = models.FloatField(null=True, blank=True, validators=[validate_finite])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Maintained by the recompute service, never in a request: the latest evaluated period.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NO_PLAN)
    status_period = models.DateField(null=True, blank=True)
    forecast_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write to the KPI's inputs (targets, measurements, tolerance). The
    # reconciliation job recomputes KPIs whose inputs changed after their last computation.
    inputs_changed_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = (
        "code", "name", "description", "department", "owner", "unit", "direction", "frequency",
        "criticality", "objectives", "initiatives", "tolerance_mode", "amber_threshold",
        "red_threshold", "band_low", "band_high", "is_active",
    )  # fmt: skip

    class Meta:
        ordering = ("code",)
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"
        indexes = [
            models.Index(fields=["department", "status"], name="kpi_department_status_idx"),
            models.Index(fields=["inputs_changed_at"], name="kpi_inputs_changed_idx"),
            models.Index(status_rank(), "code", name="kpi_status_rank_code_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(criticality__gte=1, criticality__lte=5),
                name="kpi_criticality_1_to_5",
                violation_error_message="Criticality must be between 1 and 5.",
            ),
            models.CheckConstraint(
                condition=Q(amber_threshold__gte=0) & Q(red_threshold__gt=F("amber_threshold")),
                name="kpi_amber_below_red",
                violation_error_message="The amber threshold must be below the red threshold.",
            ),
            models.CheckConstraint(
                condition=~Q(direction=Direction.WITHIN_BAND)
                | (
                    Q(band_low__isnull=False, band_high__isnull=False)
                    & Q(band_high__gt=F("band_low"))
                ),
                name="kpi_band_has_low_below_high",
                violation_error_message=(
                    "A within-band KPI needs a band: a low and a high value, low below high."
                ),
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="kpi_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="kpi_frequency_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("kpi-detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if (
            self.amber_threshold is not None
            and self.red_threshold is not None
            and self.amber_threshold >= self.red_threshold
        ):
            errors["red_threshold"] = "The red threshold must be above the amber threshold."
        if self.direction == Direction.WITHIN_BAND:
            if self.band_low is None:
                errors["band_low"] = "A within-band KPI needs the low end of its band."
            if self.band_high is None:
                errors["band_high"] = "A within-band KPI needs the high end of its band."
            if (
                self.band_low is not None
                and self.band_high is not None
                and self.band_low >= self.band_high
            ):
                errors["band_high"] = "The high end of the band must be above the low end."
        elif self.band_low is not None or self.band_high is not None:
            errors["direction"] = "Only a within-band KPI has a band; clear the band or change it."
        if errors:
            raise ValidationError(errors)


class Target(models.Model):
    """The planned value of a KPI for one period, in one plan version."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="targets")
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="targets")
    period = models.DateField()
    value = models.FloatField(validators=[validate_finite])
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("kpi", "period")
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "plan_version", "period"],
                name="target_one_per_kpi_plan_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi.code} {self.period:%Y-%m-%d}: {self.value:g}"


class Measurement(models.Model):
    """The actual value of a KPI for one period. A changed value keeps the previous one as a
    revision; the row holds the current value and its revision number."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="measurements")
    period = models.DateField()
    value = models.FloatField(validators=[validate_finite])
    source = models.CharField(max_length=10, choices=MeasurementSource.choices)
    entered_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("kpi", "period")
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period"],
                name="measurement_one_per_kpi_period",
                violation_error_message="This KPI already has a measurement for this period.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period:%Y-%m-%d}: {self.value:g}"


class MeasurementRevision(models.Model):
    """A superseded value of a measurement: corrections are kept, never overwritten silently."""

    measurement = models.ForeignKey(Measurement, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    value = models.FloatField()
    source = models.CharField(max_length=10, choices=MeasurementSource.choices)
    entered_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField()
    superseded_at = models.DateTimeField(default=timezone.now)
    superseded_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("measurement", "-revision")
        constraints = [
            models.UniqueConstraint(
                fields=["measurement", "revision"], name="measurement_revision_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Revision {self.revision} of measurement {self.measurement_id}: {self.value:g}"


class KpiResult(models.Model):
    """The computed variance of a KPI for one period against the current plan, and the forecast
    for periods still to come. Written only by the recompute service; pages read it."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="results")
    period = models.DateField()
    plan = models.FloatField(null=True, blank=True)
    actual = models.FloatField(null=True, blank=True)
    variance = models.FloatField(null=True, blank=True)  # actual − plan
    variance_pct = models.FloatField(null=True, blank=True)  # of |plan|; null when plan is 0
    # Positive = worse, whatever the direction; in percent or in units by the tolerance mode.
    adverse = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    forecast = models.FloatField(null=True, blank=True)
    forecast_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("kpi", "period")
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period"], name="kpi_result_one_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period:%Y-%m-%d}: {self.get_status_display()}"


class KpiExceptionQuerySet(RestrictedQuerySet):
    def open(self):
        return self.exclude(status=ExceptionStatus.RESOLVED)


class KpiException(models.Model):
    """Something that deserves a decision. One unresolved exception per subject and kind."""

    kind = models.CharField(max_length=20, choices=ExceptionKind.choices)
    status = models.CharField(
        max_length=15, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN
    )
    # The subject as "kpi:<id>" / "milestone:<id>" / "contract:<id>" (the subject's node key in
    # the dependency graph): the natural key of "one open per subject".
    subject_key = models.CharField(max_length=60)
    kpi = models.ForeignKey(
        Kpi, null=True, blank=True, on_delete=models.CASCADE, related_name="exceptions"
    )
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="exceptions"
    )
    contract = models.ForeignKey(
        "dependencies.Contract",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exceptions",
    )
    # The leader an `alignment` exception is about ("person:<id>").
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="kpi_exceptions"
    )
    owner = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_exceptions"
    )
    title = models.CharField(max_length=255)
    detail = models.TextField(blank=True)
    period = models.DateField(null=True, blank=True)
    # severity = severity_base × (1 + reach factor): the syncs write the base from the subject's
    # state, the ripple sync the reach (docs/exceptions.md, docs/ripple.md).
    severity = models.FloatField(default=0.0)
    severity_base = models.FloatField(default=0.0)
    # The ripple: how far trouble here travels downstream in the dependency graph.
    reach = models.FloatField(default=0.0)
    reach_departments = models.PositiveSmallIntegerField(default=0)  # other departments touched
    reach_objectives = models.PositiveIntegerField(default=0)
    tradeoff_required = models.BooleanField(
        default=False,
        help_text="The ripple crosses into another department: a trade-off decision is needed.",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    decision_deadline = models.DateTimeField()
    escalation_level = models.PositiveSmallIntegerField(
        choices=EscalationLevel.choices, default=EscalationLevel.OWNER
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    green_streak = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = KpiExceptionQuerySet.as_manager()

    audit_fields = ("kind", "status", "owner", "severity", "escalation_level", "title")

    class Meta:
        ordering = ("-severity", "opened_at")
        verbose_name = "exception"
        indexes = [
            models.Index(fields=["status", "-severity"], name="exception_status_severity_idx"),
            models.Index(fields=["department", "status"], name="exception_department_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key", "kind"],
                condition=~Q(status=ExceptionStatus.RESOLVED),
                name="exception_one_open_per_subject_kind",
            ),
            models.CheckConstraint(
                condition=Q(kpi__isnull=False)
                | Q(milestone__isnull=False)
                | Q(contract__isnull=False)
                | Q(person__isnull=False),
                name="exception_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ExceptionKind.values), name="exception_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ExceptionStatus.values), name="exception_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("exception-detail", args=[self.pk])


class ImportJob(models.Model):
    """One spreadsheet upload: checked in a dry run, then written all or nothing by a worker.
    The file is kept in the database so any worker on any machine can read it."""

    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="import_jobs")
    created_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    format = models.CharField(max_length=5, choices=ImportFormat.choices, blank=True)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row", "column", "message"}], capped
    preview = models.JSONField(default=list, blank=True)  # a sample of what would change
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Import of {self.filename}"

    def get_absolute_url(self) -> str:
        return reverse("import-detail", args=[self.pk])

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
