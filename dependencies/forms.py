"""Forms of the contract pages. They collect input for `dependencies.services`, which stay the
authority: their refusals come back as form errors, and a stale revision (someone changed the
contract since the page was opened) as one clear message at the top of the form.

Every form carries the contract's `revision` in a hidden field: the optimistic lock the services
check. Choice fields offer only rows the user may see (the services check again).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dependencies import terms
from dependencies.choices import ServiceComparison
from dependencies.models import Contract
from govern.choices import PlanVersionStatus
from govern.errors import ApplicationError
from govern.forms import (
    DateInput,
    PersonChoiceField,
    ServiceForm,
    visible_departments,
    visible_people,
)
from govern.models import Department, Initiative, Milestone, Person, PlanVersion
from kpis.models import Kpi

STALE = "Someone changed this contract since you opened it; reload to see their change."
NO_CHANGE = "Change at least one term: the form shows the terms in force."
COMMENT_TO_REJECT = "Say why you reject it; the comment goes to the other side and the history."
TEXTAREA = {"rows": 3}
MULTIPLE = {"size": 6}


class MilestoneChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Milestone) -> str:
        return f"{obj.initiative.name} — {obj.name}"


class KpiChoiceMixin:
    def label_from_instance(self, obj: Kpi) -> str:
        return f"{obj.code} — {obj.name}"


class KpiChoiceField(KpiChoiceMixin, forms.ModelChoiceField):
    pass


class KpiMultipleChoiceField(KpiChoiceMixin, forms.ModelMultipleChoiceField):
    pass


class RevisionForm(ServiceForm):
    """A form about one contract: carries the revision it was opened at; a stale one is refused
    by the service (409) and shown as `STALE`."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, contract: Contract | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if contract is not None and "revision" not in self.initial:
            self.initial["revision"] = contract.revision

    def add_service_errors(self, exc: ValidationError | ApplicationError) -> None:
        if isinstance(exc, ApplicationError) and exc.code == "stale":
            self.add_error(None, STALE)
            return
        super().add_service_errors(exc)


class CommentForm(RevisionForm):
    """Propose, agree, fulfil: an optional comment kept in the history."""

    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Optional; kept in the contract's history.",
    )


class ReasonForm(RevisionForm):
    """Cancel, override: a reason is required."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=4000,
        help_text="Kept in the contract's history.",
    )


class WithdrawForm(RevisionForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Optional; kept in the history.",
    )


class RespondForm(RevisionForm):
    """Accept or reject the pending amendment for one's side: the button pressed says which; a
    rejection needs a comment."""

    ACCEPT, REJECT = "accept", "reject"

    decision = forms.ChoiceField(
        choices=[(ACCEPT, "Accept"), (REJECT, "Reject")], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Required to reject; goes to the other side and the history.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.REJECT and not cleaned.get("comment", "").strip():
            self.add_error("comment", COMMENT_TO_REJECT)
        return cleaned


# --- The terms --------------------------------------------------------------------------------


class TermsForm(RevisionForm):
    """Every term of a contract, as the services take them (`dependencies.terms`)."""

    code = forms.CharField(
        max_length=40,
        help_text="A stable code such as PROC-PROD-CASTINGS: capital letters, digits, dashes.",
    )
    title = forms.CharField(max_length=200)
    provider_department = forms.ModelChoiceField(
        queryset=Department.objects.none(), empty_label="Choose a department",
        help_text="The department that delivers.",
    )  # fmt: skip
    provider_owner = PersonChoiceField(
        queryset=Person.objects.none(), help_text="A member of the provider department."
    )
    consumer_department = forms.ModelChoiceField(
        queryset=Department.objects.none(), empty_label="Choose a department",
        help_text="The department that depends on it.",
    )  # fmt: skip
    consumer_owner = PersonChoiceField(
        queryset=Person.objects.none(), help_text="A member of the consumer department."
    )
    deliverable = forms.CharField(
        widget=forms.Textarea(attrs=TEXTAREA), help_text="What the provider delivers."
    )
    acceptance_criteria = forms.CharField(
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
        help_text="How the consumer knows it was delivered as agreed.",
    )
    due_date = forms.DateField(
        widget=DateInput,
        required=False,
        help_text="For a one-off delivery. Give a due date, a service-level KPI, or both.",
    )
    criticality = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        initial=3,
        help_text="1 (minor) to 5 (critical): weighs the ripple's reach.",
    )
    service_kpi = KpiChoiceField(
        label="Service-level KPI",
        queryset=Kpi.objects.none(),
        required=False,
        empty_label="No service level",
        help_text="The KPI that measures a recurring service level.",
    )
    service_comparison = forms.ChoiceField(
        label="Service-level comparison",
        choices=[("", "—"), *ServiceComparison.choices],
        required=False,
        help_text="Must the KPI stay at least or at most at the threshold?",
    )
    service_threshold = forms.FloatField(
        label="Service-level threshold", required=False, help_text="In the KPI's unit."
    )
    service_level = forms.CharField(
        label="Service level in words",
        max_length=200,
        required=False,
        help_text="For example “2,000 castings a week, on-time ≥ 95%”.",
    )
    provider_initiatives = forms.ModelMultipleChoiceField(
        queryset=Initiative.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs=MULTIPLE),
        help_text="The provider's initiatives that produce it (hold Ctrl or ⌘ to pick several).",
    )
    provider_milestones = MilestoneChoiceField(
        queryset=Milestone.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs=MULTIPLE),
        help_text="The provider's milestones that produce it.",
    )
    consumer_initiatives = forms.ModelMultipleChoiceField(
        queryset=Initiative.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs=MULTIPLE),
        help_text="The consumer's initiatives that depend on it.",
    )
    consumer_milestones = MilestoneChoiceField(
        queryset=Milestone.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs=MULTIPLE),
        help_text="The consumer's milestones that depend on it.",
    )
    consumer_kpis = KpiMultipleChoiceField(
        label="Consumer KPIs",
        queryset=Kpi.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs=MULTIPLE),
        help_text="The consumer's KPIs that depend on it.",
    )
    plan_version = forms.ModelChoiceField(
        queryset=PlanVersion.objects.none(),
        required=False,
        empty_label="The current plan",
        help_text="The plan version the contract belongs to.",
    )

    def __init__(self, *args, user, contract: Contract | None = None, **kwargs):
        super().__init__(*args, contract=contract, **kwargs)
        departments = visible_departments(user)
        self.fields["provider_department"].queryset = departments
        self.fields["consumer_department"].queryset = departments
        people = visible_people(user).filter(is_active=True)
        self.fields["provider_owner"].queryset = people
        self.fields["consumer_owner"].queryset = people
        kpis = Kpi.objects.restrict(user).filter(is_active=True).order_by("code")
        self.fields["service_kpi"].queryset = kpis
        self.fields["consumer_kpis"].queryset = kpis
        initiatives = Initiative.objects.restrict(user).order_by("name")
        self.fields["provider_initiatives"].queryset = initiatives
        self.fields["consumer_initiatives"].queryset = initiatives
        milestones = (
            Milestone.objects.restrict(user)
            .select_related("initiative")
            .order_by("initiative__name", "due_date", "name")
        )
        self.fields["provider_milestones"].queryset = milestones
        self.fields["consumer_milestones"].queryset = milestones
        self.fields["plan_version"].queryset = PlanVersion.objects.exclude(
            status=PlanVersionStatus.SUPERSEDED
        )
        if contract is not None:
            # What the contract names now stays choosable, seen or not.
            for name in terms.TERM_FIELDS:
                field = self.fields[name]
                if hasattr(field, "queryset"):
                    field.queryset = _with_current(field.queryset, contract, name)

    GROUPS = (
        ("What is delivered", ("code", "title", "deliverable", "acceptance_criteria",
                               "criticality")),
        ("By when, or at what service level", ("due_date", "service_kpi", "service_comparison",
                                               "service_threshold", "service_level")),
        ("Provider", ("provider_department", "provider_owner", "provider_initiatives",
                      "provider_milestones")),
        ("Consumer", ("consumer_department", "consumer_owner", "consumer_initiatives",
                      "consumer_milestones", "consumer_kpis")),
        ("Plan", ("plan_version",)),
    )  # fmt: skip

    def groups(self) -> list[tuple[str, list]]:
        """The term fields in the fieldsets the page shows."""
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def terms(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in terms.TERM_FIELDS}


def _with_current(queryset, contract: Contract, name: str):
    model = queryset.model
    if name in terms.M2M_FIELDS:
        current = getattr(contract, name).values("pk")
    else:
        current = [getattr(contract, f"{name}_id")]
    return (queryset | model._default_manager.filter(pk__in=current)).distinct()


def initial_terms(contract: Contract) -> dict[str, Any]:
    """The contract's terms as the form's initial values (ids for relations)."""
    initial: dict[str, Any] = {}
    for name in terms.TERM_FIELDS:
        if name in terms.M2M_FIELDS:
            initial[name] = [o.pk for o in getattr(contract, name).all()]
        elif name in terms.RELATIONS:
            initial[name] = getattr(contract, f"{name}_id")
        else:
            initial[name] = getattr(contract, name)
    return initial


class ContractForm(TermsForm):
    """Create a draft (no revision yet) or edit a draft or proposed contract's terms."""

    def __init__(self, *args, contract: Contract | None = None, **kwargs):
        super().__init__(*args, contract=contract, **kwargs)
        if contract is None:
            self.fields["revision"].required = False


class AmendmentForm(TermsForm):
    """Propose an amendment: prefilled with the terms in force; only the terms that differ from
    them become the amendment's changes. A reason is required."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=4000,
        help_text="Why the terms should change; both sides read it before they answer.",
    )

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, contract=contract, **kwargs)
        self.current = terms.snapshot(contract)
        self.fields["plan_version"].empty_label = "—"

    def changes(self) -> dict[str, Any]:
        """The terms whose value differs from the one in force (compared as the services do)."""
        changed = {}
        for name in terms.TERM_FIELDS:
            value = self.cleaned_data.get(name)
            if name == "plan_version" and value is None:
                continue  # "—": the plan version is left as it is
            if terms.key(name, terms.encode(name, value)) != terms.key(name, self.current[name]):
                changed[name] = value
        return changed

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.changes():
            raise ValidationError(NO_CHANGE, code="no_change")
        return cleaned
