"""Forms of the contingency plan pages. They collect a plan for
`decisions.services.contingency`, which stays the authority (who may define one, the threshold and
period rules, who may own it, the reallocation template's lines): its refusals come back as form
errors, a line's messages (`reallocations[2].amount`) on that line, and nothing is written.

The reallocation template is the decision form's formset (`decisions.forms.ReallocationFormSet`):
a blank line is ignored, "Add a line" shows one more without judging the rest.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict

from decisions.choices import TriggerBasis
from decisions.forms import (
    LINE_FIELDS,
    BaseReallocationFormSet,
    LineErrorsMixin,
    ReallocationFormSet,
)
from decisions.models import ContingencyPlan
from dependencies.forms import KpiChoiceField
from govern import permissions as perms
from govern.forms import PersonChoiceField, ServiceForm, visible_departments, visible_people
from govern.models import Initiative, Person
from kpis.models import Kpi

PLAN_FIELDS = ("kpi", "name", "trigger_basis", "threshold_pct", "periods", "response", "owner")


def definable_kpis(user):
    """The active KPIs the user may define contingency plans on (the PMO: all; a lead: their
    departments')."""
    scope = perms.scope_for(user)
    kpis = Kpi.objects.restrict(user).filter(is_active=True).select_related(None)
    if not scope.is_pmo:
        kpis = kpis.filter(department_id__in=scope.lead_departments)
    return kpis.order_by("code")


def may_define_somewhere(user) -> bool:
    scope = perms.scope_for(user)
    return scope.authenticated and (scope.is_pmo or bool(scope.lead_departments))


class ContingencyPlanForm(LineErrorsMixin, ServiceForm):
    """A plan: the KPI it watches, its trigger, the agreed response and its owner, and the
    reallocation template (`self.lines`). Editing a plan leaves its KPI out: a plan stays on its
    KPI."""

    kpi = KpiChoiceField(
        label="KPI",
        queryset=Kpi.objects.none(),
        empty_label="Choose a KPI",
        help_text="The KPI the plan watches; only KPIs of departments you lead.",
    )
    name = forms.CharField(max_length=200, help_text="A short name, unique on the KPI.")
    trigger_basis = forms.ChoiceField(
        label="Watch",
        choices=TriggerBasis.choices,
        initial=TriggerBasis.ACTUAL,
        help_text="The measured actuals, or the engine's forecast of the periods ahead.",
    )
    threshold_pct = forms.FloatField(
        label="Threshold (% of plan)",
        help_text="A period counts when it is at least this much worse than plan, e.g. 8.",
    )
    periods = forms.IntegerField(
        label="Consecutive periods",
        initial=2,
        help_text="How many periods in a row must count (on a forecast: the periods ahead, at "
        f"most {settings.GOVERN_FORECAST_HORIZON}).",
    )
    response = forms.CharField(
        label="Agreed response",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What will be done when it fires: it becomes the proposed decision's chosen "
        "option.",
    )
    owner = PersonChoiceField(
        queryset=Person.objects.none(),
        help_text="Who owns the response: the proposed decision is recorded in their name and "
        "they are notified.",
    )

    def __init__(self, *args, user, editing: ContingencyPlan | None = None, lines=None,
                 add_line: bool = False, **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        if editing is not None:
            del self.fields["kpi"]
        else:
            self.fields["kpi"].queryset = definable_kpis(user)
        self.fields["owner"].queryset = visible_people(user).order_by("last_name", "first_name")
        initiatives = Initiative.objects.restrict(user).order_by("name")
        self.lines = self._lines(initiatives, visible_departments(user), lines, add_line)

    def _lines(self, initiatives, departments, initial, add_line) -> BaseReallocationFormSet:
        """The template's lines: the stored ones to start from; once posted, what was posted,
        every line optional, so that a line cleared on the page is dropped, not refused."""
        data = self.data if self.is_bound else None
        if data is not None:
            data = data.copy()
            data["lines-INITIAL_FORMS"] = "0"
            if add_line:
                key = "lines-TOTAL_FORMS"
                try:
                    data[key] = str(int(data.get(key) or 0) + 1)
                except ValueError:
                    pass  # a tampered count: the formset reports its management form
        return ReallocationFormSet(
            data,
            prefix="lines",
            initial=None if data is not None else initial or None,
            form_kwargs={"initiatives": initiatives, "departments": departments},
        )

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return self.lines.is_valid() and valid

    def hold(self) -> None:
        """Show the posted values again without judging them (the "Add a line" button)."""
        self._errors, self.cleaned_data = ErrorDict(), {}
        self.lines._errors, self.lines._non_form_errors = [], self.lines.error_class()
        for form in self.lines.forms:
            form._errors, form.cleaned_data = ErrorDict(), {}

    def content(self) -> dict[str, Any]:
        """The plan as the services take it, with its reallocation template."""
        data = {name: self.cleaned_data.get(name) for name in PLAN_FIELDS if name in self.fields}
        data["reallocations"] = [form.line() for form in self.lines.filled()]
        return data


class DisableForm(ServiceForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why it should no longer fire; kept in the plan's history.",
        error_messages={"required": "Say why the plan is disabled; it is kept in its history."},
    )


class EnableForm(ServiceForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Optional; kept in the plan's history.",
    )


def initial_plan(plan: ContingencyPlan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "trigger_basis": plan.trigger_basis,
        "threshold_pct": plan.threshold_pct,
        "periods": plan.periods,
        "response": plan.response,
        "owner": plan.owner_id,
    }


def initial_lines(plan: ContingencyPlan) -> list[dict[str, Any]]:
    return [
        {
            name: getattr(line, f"{name}_id" if name not in ("amount", "unit") else name)
            for name in LINE_FIELDS
        }
        for line in plan.reallocations.all()
    ]
