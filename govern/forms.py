"""Page forms. They collect input and hand `cleaned_data` to one service; the service stays the
authority: its refusals (ValidationError, ApplicationError) come back here as form errors.

Choice fields only offer rows the user may see (through the selectors) and, for the department of a
new objective or initiative, only departments where the user may create one (`govern.permissions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Case, QuerySet, When

from govern import permissions, selectors
from govern.choices import (
    InitiativeStatus,
    MilestoneStatus,
    NotificationDelivery,
    ObjectiveLevel,
    PlanVersionStatus,
    Role,
)
from govern.errors import ApplicationError, validation_fields
from govern.models import Department, Initiative, Milestone, Objective, Person, PlanVersion

T = TypeVar("T")

END_AFTER_START = "The end date must be after the start date."


class DateInput(forms.DateInput):
    """A native date picker; the value is always ISO so the browser can read it."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PersonChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", "Choose a person")
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Person) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


class ServiceForm(forms.Form):
    """A form whose data goes to a service. `add_service_errors` places the service's refusal on
    the fields it names, and the rest at the top of the form."""

    def add_service_errors(self, exc: ValidationError | ApplicationError) -> None:
        if isinstance(exc, ValidationError):
            fields = validation_fields(exc)
        else:
            fields = exc.fields
        for name, messages in fields.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)
        if isinstance(exc, ApplicationError) and not fields:
            self.add_error(None, exc.message)

    def submit(self, write: Callable[[dict], T]) -> T | None:
        """Run one service with the cleaned data. A refusal becomes form errors and None, and
        `refusal_status` the status the page answers with (400, or 409 for a conflict)."""
        try:
            return write(self.cleaned_data)
        except (ValidationError, ApplicationError) as exc:
            self.add_service_errors(exc)
            self.refusal_status = getattr(exc, "status_code", 400)
            return None


def visible_people(user) -> QuerySet[Person]:
    return selectors.person_list(user=user).prefetch_related(None)


def visible_departments(user) -> QuerySet[Department]:
    return Department.objects.filter(pk__in=selectors.department_list(user=user).values("pk"))


def creatable_departments(user, model, **attrs) -> QuerySet[Department]:
    """The visible departments where `user` may create a `model` (with `attrs`, e.g. a level)."""
    allowed = [
        department.pk
        for department in visible_departments(user)
        if permissions.can_add(user, model, department=department, **attrs)
    ]
    return Department.objects.filter(pk__in=allowed)


def offer_departments(form: forms.Form, departments: QuerySet[Department]) -> None:
    """Offer `departments` in the form's department field, chosen already when there is one."""
    field = form.fields["department"]
    field.queryset = departments.distinct()
    field.empty_label = "Choose a department"
    if not form.is_bound and "department" not in form.initial:
        only = list(field.queryset[:2])
        if len(only) == 1:
            form.initial["department"] = only[0].pk


class DateRangeMixin:
    """Says which field is wrong when the dates are the wrong way round (the service would refuse
    the whole form with the same words)."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", END_AFTER_START)
        return cleaned


# --- Departments ------------------------------------------------------------------------------


class DepartmentForm(ServiceForm):
    code = forms.CharField(
        max_length=20, help_text="2–20 capital letters, digits or dashes, e.g. PROC or SALES-EU."
    )
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


# --- People and memberships -------------------------------------------------------------------


class PersonForm(ServiceForm):
    username = forms.CharField(max_length=150, help_text="Used to sign in.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    job_title = forms.CharField(max_length=120, required=False)
    is_active = forms.BooleanField(
        label="Active",
        required=False,
        help_text="Inactive people cannot sign in; their history is kept.",
    )


class PersonCreateForm(PersonForm):
    is_active = None
    password = forms.CharField(
        label="Initial password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to create the person without a password (they cannot sign in yet).",
    )
    password_again = forms.CharField(
        label="Initial password, again",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and password != again:
            self.add_error("password_again", "The two passwords do not match.")
        elif password:
            candidate = Person(
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class MembershipForm(ServiceForm):
    department = forms.ModelChoiceField(queryset=Department.objects.none())
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        offer_departments(self, visible_departments(user))


class MembershipRoleForm(ServiceForm):
    role = forms.ChoiceField(choices=Role.choices)


# --- Objectives -------------------------------------------------------------------------------


class ObjectiveForm(DateRangeMixin, ServiceForm):
    title = forms.CharField(max_length=200)
    level = forms.ChoiceField(choices=ObjectiveLevel.choices)
    parent = forms.ModelChoiceField(
        queryset=Objective.objects.none(),
        required=False,
        empty_label="None: top of the cascade",
        help_text="The objective this one cascades from.",
    )
    department = forms.ModelChoiceField(queryset=Department.objects.none())
    owner = PersonChoiceField(queryset=Person.objects.none())
    weight = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        initial=3,
        help_text="1 (minor) to 5 (critical).",
    )
    start_date = forms.DateField(widget=DateInput)
    end_date = forms.DateField(widget=DateInput)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, user, instance: Objective | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        levels = [
            (value, label)
            for value, label in ObjectiveLevel.choices
            if creatable_departments(user, Objective, level=value).exists()
            or (instance is not None and instance.level == value)
        ]
        self.fields["level"].choices = levels
        departments = Department.objects.none()
        for value, _ in levels:
            departments |= creatable_departments(user, Objective, level=value)
        if instance is not None:
            departments |= Department.objects.filter(pk=instance.department_id)
        offer_departments(self, departments)
        parents = selectors.objective_list(user=user).select_related(None)
        if instance is not None:
            parents = parents.exclude(pk__in={instance.pk, *instance.descendant_ids()})
        self.fields["parent"].queryset = parents
        self.fields["owner"].queryset = visible_people(user)


# --- Initiatives and milestones ---------------------------------------------------------------


class InitiativeForm(DateRangeMixin, ServiceForm):
    name = forms.CharField(max_length=200)
    department = forms.ModelChoiceField(queryset=Department.objects.none())
    owner = PersonChoiceField(queryset=Person.objects.none())
    status = forms.ChoiceField(choices=InitiativeStatus.choices, initial=InitiativeStatus.PROPOSED)
    start_date = forms.DateField(widget=DateInput)
    end_date = forms.DateField(widget=DateInput)
    budget = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, initial=0)
    fte = forms.DecimalField(
        label="FTE", min_value=0, max_digits=7, decimal_places=2, initial=0,
        help_text="Full-time equivalents committed.",
    )  # fmt: skip
    objectives = forms.ModelMultipleChoiceField(
        queryset=Objective.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="The objectives this initiative serves (hold Ctrl or ⌘ to pick several).",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, user, instance: Initiative | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        departments = creatable_departments(user, Initiative)
        if instance is not None:
            departments |= Department.objects.filter(pk=instance.department_id)
        offer_departments(self, departments)
        self.fields["owner"].queryset = visible_people(user)
        self.fields["objectives"].queryset = selectors.objective_list(user=user).select_related(
            None
        )


class MilestoneForm(ServiceForm):
    name = forms.CharField(max_length=200)
    owner = PersonChoiceField(queryset=Person.objects.none())
    due_date = forms.DateField(widget=DateInput)
    status = forms.ChoiceField(choices=MilestoneStatus.choices, initial=MilestoneStatus.PLANNED)
    completed_date = forms.DateField(
        widget=DateInput, required=False, help_text="Only for a milestone that is Done."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = visible_people(user)


class MilestoneProgressForm(ServiceForm):
    status = forms.ChoiceField(choices=MilestoneStatus.choices)
    completed_date = forms.DateField(
        widget=DateInput,
        required=False,
        help_text="When it was done; today if left empty.",
    )

    def __init__(self, *args, milestone: Milestone | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if milestone is not None:
            self.auto_id = f"id_progress_{milestone.pk}_%s"


# --- Plan versions ----------------------------------------------------------------------------


class PlanVersionForm(ServiceForm):
    name = forms.CharField(max_length=100, help_text="For example FY26 baseline.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)


class PlanVersionApproveForm(ServiceForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this version becomes the plan; kept in its history.",
    )


class PlanVersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PlanVersion) -> str:
        state = "current" if obj.is_current else obj.get_status_display().lower()
        return f"{obj.name} · {state}"


def plan_versions_by_recency():
    """Every plan version, the current one first, then the newest."""
    return PlanVersion.objects.order_by(
        Case(When(status=PlanVersionStatus.APPROVED, then=0), default=1), "-created_at", "-pk"
    )


class PlanVersionDraftForm(ServiceForm):
    name = forms.CharField(max_length=100, help_text="For example FY26 Q3 re-forecast.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    based_on = PlanVersionChoiceField(
        queryset=PlanVersion.objects.none(),
        required=False,
        label="Copy from",
        empty_label="The current plan",
        help_text="The draft starts with the targets and contract terms of this version.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on"].queryset = plan_versions_by_recency().filter(
            status__in=(PlanVersionStatus.APPROVED, PlanVersionStatus.SUPERSEDED)
        )


class PlanVersionProposeForm(ServiceForm):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="For the executives: what changes and why. Kept in the plan's history.",
    )


class PlanVersionWithdrawForm(ServiceForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it goes back to draft; kept in the plan's history.",
    )


class PlanContractForm(ServiceForm):
    reason = forms.CharField(max_length=500, required=False)


class PlanCompareForm(forms.Form):
    """Two plan versions to compare: `a` the older (left), `b` the newer (right); `kpi`, when
    given, narrows the targets to that KPI's, period by period (kept out of the picker)."""

    a = PlanVersionChoiceField(
        queryset=PlanVersion.objects.none(), label="Compare", empty_label=None
    )
    b = PlanVersionChoiceField(queryset=PlanVersion.objects.none(), label="with", empty_label=None)
    kpi = forms.IntegerField(
        label="KPI",
        required=False,
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={"invalid": "Give a KPI id, e.g. kpi=12.", "min_value": "Give a KPI id."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("a", "b"):
            self.fields[name].queryset = plan_versions_by_recency()
            self.fields[name].error_messages["invalid_choice"] = (
                "There is no plan version with this id."
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("a") is not None and cleaned.get("a") == cleaned.get("b"):
            self.add_error("b", "Choose two different plan versions.")
        return cleaned


class NotificationSettingsForm(ServiceForm):
    notification_delivery = forms.ChoiceField(
        label="Email notifications",
        choices=NotificationDelivery.choices,
        help_text=(
            "Every notification is always listed under the bell in Govern; this chooses the "
            "emails. The daily digest arrives in the morning with the previous day's."
        ),
    )
