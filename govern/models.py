"""The core domain: departments, people and their roles, the strategy cascade, plan versions, audit.

Invariants live in the database first (check and unique constraints); `clean()` adds the rules a
constraint cannot express and phrases every refusal for the person who made it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from govern.choices import (
    AuditAction,
    InitiativeStatus,
    MilestoneStatus,
    NotificationDelivery,
    NotificationKind,
    ObjectiveLevel,
    PlanVersionStatus,
    Role,
)
from govern.querysets import AppendOnlyQuerySet, RestrictedQuerySet

code_validator = RegexValidator(
    r"^[A-Z][A-Z0-9-]{1,19}$",
    "Use 2–20 capital letters, digits or dashes, starting with a letter (e.g. PROC or SALES-EU).",
)


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Department(TimeStampedModel):
    code = models.CharField(max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = ("code", "name", "description")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("department-detail", args=[self.pk])


class PersonManager(UserManager.from_queryset(RestrictedQuerySet)):
    pass


class Person(AbstractUser):
    """A person who works in Govern: the Django user with the profile a governance tool needs."""

    job_title = models.CharField(max_length=120, blank=True)
    departments = models.ManyToManyField(
        Department, through="Membership", related_name="people", blank=True
    )
    notification_delivery = models.CharField(
        "email notifications",
        max_length=12,
        choices=NotificationDelivery.choices,
        default=NotificationDelivery.IMMEDIATE,
    )
    # The last day whose digest this person was sent (govern.notifications.digest_send).
    digest_sent_on = models.DateField(null=True, blank=True, editable=False)

    objects = PersonManager()

    audit_fields = (
        "username", "first_name", "last_name", "email", "job_title", "is_active",
        "notification_delivery",
    )  # fmt: skip

    class Meta:
        ordering = ("last_name", "first_name", "username")
        verbose_name = "person"
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        return reverse("person-detail", args=[self.pk])


class Membership(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = ("person", "department", "role")

    class Meta:
        ordering = ("department__name", "person__last_name")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "department"],
                name="membership_one_role_per_department",
                violation_error_message="This person already has a role in this department.",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()}, {self.department}"


class Objective(TimeStampedModel):
    """A strategic (multi-year) or annual goal; annual objectives cascade from strategic ones."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    level = models.CharField(
        max_length=12, choices=ObjectiveLevel.choices, default=ObjectiveLevel.ANNUAL
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="owned_objectives")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="objectives")
    start_date = models.DateField()
    end_date = models.DateField()
    weight = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    # Maintained by the workers (govern.objective_progress_rollup), never computed in a request.
    progress = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    progress_updated_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = (
        "title", "description", "level", "parent", "owner", "department",
        "start_date", "end_date", "weight",
    )  # fmt: skip

    class Meta:
        ordering = ("level", "start_date", "title")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="objective_end_after_start",
                violation_error_message="The end date must be after the start date.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=5),
                name="objective_weight_1_to_5",
                violation_error_message="Weight must be between 1 and 5.",
            ),
            models.CheckConstraint(
                condition=Q(level__in=ObjectiveLevel.values), name="objective_level_valid"
            ),
            models.UniqueConstraint(
                fields=["title"],
                condition=Q(parent__isnull=True),
                name="objective_unique_title_at_top",
                violation_error_message="A top-level objective with this title already exists.",
            ),
            models.UniqueConstraint(
                fields=["parent", "title"],
                name="objective_unique_title_under_parent",
                violation_error_message="This parent already has an objective with this title.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("objective-detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.parent_id:
            if self.pk and self.parent_id == self.pk:
                errors["parent"] = "An objective cannot be its own parent."
            elif self.pk and self.parent_id in self.descendant_ids():
                errors["parent"] = "This parent sits below this objective: the cascade would loop."
            elif self.level == ObjectiveLevel.STRATEGIC and (
                self.parent.level == ObjectiveLevel.ANNUAL
            ):
                errors["parent"] = "A strategic objective cannot cascade from an annual one."
        if errors:
            raise ValidationError(errors)

    def descendant_ids(self) -> set[int]:
        """Ids of every objective below this one (one query per cascade level, not per node)."""
        found: set[int] = set()
        frontier = {self.pk}
        while frontier:
            frontier = (
                set(Objective.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
                - found
            )
            found |= frontier
        return found


class Initiative(TimeStampedModel):
    """A tactical, time-boxed effort owned by one department and one person."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    objectives = models.ManyToManyField(Objective, related_name="initiatives", blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="initiatives")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="owned_initiatives")
    start_date = models.DateField()
    end_date = models.DateField()
    budget = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    fte = models.DecimalField("FTE", max_digits=7, decimal_places=2, default=0)
    status = models.CharField(
        max_length=12, choices=InitiativeStatus.choices, default=InitiativeStatus.PROPOSED
    )

    objects = RestrictedQuerySet.as_manager()

    audit_fields = (
        "name", "description", "objectives", "department", "owner",
        "start_date", "end_date", "budget", "fte", "status",
    )  # fmt: skip

    class Meta:
        ordering = ("department__name", "start_date", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="initiative_end_after_start",
                violation_error_message="The end date must be after the start date.",
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=0),
                name="initiative_budget_not_negative",
                violation_error_message="The budget cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(fte__gte=0),
                name="initiative_fte_not_negative",
                violation_error_message="FTE cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=InitiativeStatus.values), name="initiative_status_valid"
            ),
            models.UniqueConstraint(
                fields=["department", "name"],
                name="initiative_unique_name_in_department",
                violation_error_message="This department already has an initiative with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("initiative-detail", args=[self.pk])


class MilestoneQuerySet(RestrictedQuerySet):
    def with_overdue(self, today: dt.date | None = None) -> MilestoneQuerySet:
        """Annotate `overdue`: due before today and neither done nor cancelled."""
        today = today or timezone.localdate()
        return self.annotate(
            overdue=models.Case(
                models.When(
                    Q(due_date__lt=today)
                    & ~Q(status__in=[MilestoneStatus.DONE, MilestoneStatus.CANCELLED]),
                    then=models.Value(True),
                ),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def overdue(self, today: dt.date | None = None) -> MilestoneQuerySet:
        return self.with_overdue(today).filter(overdue=True)


class Milestone(TimeStampedModel):
    """A dated deliverable of an initiative, with an owner. Overdue is derived, never stored."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="owned_milestones")
    due_date = models.DateField()
    completed_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED
    )

    objects = MilestoneQuerySet.as_manager()

    audit_fields = (
        "initiative", "name", "description", "owner", "due_date", "completed_date", "status",
    )  # fmt: skip

    class Meta:
        ordering = ("due_date", "name")
        constraints = [
            models.CheckConstraint(
                condition=(Q(status=MilestoneStatus.DONE) & Q(completed_date__isnull=False))
                | (~Q(status=MilestoneStatus.DONE) & Q(completed_date__isnull=True)),
                name="milestone_completed_date_iff_done",
                violation_error_message=(
                    "A milestone has a completion date exactly when its status is Done."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=MilestoneStatus.values), name="milestone_status_valid"
            ),
            models.UniqueConstraint(
                fields=["initiative", "name"],
                name="milestone_unique_name_in_initiative",
                violation_error_message="This initiative already has a milestone with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("initiative-detail", args=[self.initiative_id]) + f"#milestone-{self.pk}"

    def is_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.due_date < today and self.status not in (
            MilestoneStatus.DONE,
            MilestoneStatus.CANCELLED,
        )

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.completed_date and self.completed_date > timezone.localdate():
            errors["completed_date"] = "The completion date cannot be in the future."
        if self.status == MilestoneStatus.DONE and not self.completed_date:
            errors["completed_date"] = "Give the date the milestone was completed."
        if self.status != MilestoneStatus.DONE and self.completed_date:
            errors["status"] = "Only a milestone marked Done has a completion date."
        if self.initiative_id and self.due_date and self.due_date < self.initiative.start_date:
            errors["due_date"] = (
                f"The due date is before the initiative starts "
                f"({self.initiative.start_date:%d %b %Y})."
            )
        if errors:
            raise ValidationError(errors)


class PlanVersion(TimeStampedModel):
    """An approved baseline of targets and contracts. Exactly one approved version is current."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=PlanVersionStatus.choices, default=PlanVersionStatus.DRAFT
    )
    created_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="successors",
        help_text="The version this draft was copied from (its targets and contract terms).",
    )
    proposed_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    audit_fields = (
        "name",
        "description",
        "status",
        "proposed_by",
        "proposed_at",
        "approved_by",
        "approved_at",
    )

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=PlanVersionStatus.APPROVED),
                name="plan_version_single_current",
                violation_error_message="Another plan version is already the current one.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=(PlanVersionStatus.DRAFT, PlanVersionStatus.PROPOSED))
                | Q(approved_at__isnull=False),
                name="plan_version_approved_has_date",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PlanVersionStatus.values), name="plan_version_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("planversion-detail", args=[self.pk])

    @property
    def is_current(self) -> bool:
        return self.status == PlanVersionStatus.APPROVED


class AuditEvent(models.Model):
    """One governance action, append-only. Names are copied as text so history outlives
    deletions."""

    occurred_at = models.DateTimeField(default=timezone.now, db_default=Now(), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    subject_name = models.CharField(max_length=255)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes = [
            models.Index(
                fields=["subject_type", "subject_id", "-occurred_at"], name="audit_subject_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_action_display().lower()} {self.subject_name}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("Audit events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only and cannot be deleted.")


class NotificationQuerySet(RestrictedQuerySet):
    """Notifications are written once; only `read_at` changes (through `mark_read`)."""

    def update(self, **kwargs):
        if set(kwargs) - {"read_at"}:
            raise TypeError("Notifications are append-only: only read_at can change.")
        return super().update(**kwargs)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One in-app notice for one person, e.g. "New exception: PROC-OTD is red". Append-only
    apart from `read_at`; the subject is named as text so the notice outlives it."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="A URL path inside Govern.")
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(
                "recipient", "read_at", models.F("created_at").desc(), name="notification_inbox_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and set(kwargs.get("update_fields") or ()) != {"read_at"}:
            raise TypeError("Notifications are append-only: only read_at can change.")
        super().save(*args, **kwargs)

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def summary(self) -> str:
        """The body's first line: what a list shows under the title."""
        return next((line for line in self.body.splitlines() if line.strip()), "")
