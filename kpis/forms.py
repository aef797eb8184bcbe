"""Page forms for KPI definitions, target trajectories and manual actuals. They collect input and
hand it to one service; the service's refusals come back as form errors (`govern.forms`)."""

from __future__ import annotations

import datetime as dt
import math
import re

from django import forms

from govern import selectors
from govern.choices import PlanVersionStatus
from govern.forms import (
    DateInput,
    PersonChoiceField,
    ServiceForm,
    creatable_departments,
    offer_departments,
    visible_people,
)
from govern.models import Department, Initiative, Objective, Person, PlanVersion
from kpis.choices import Direction, Frequency, ToleranceMode, Unit
from kpis.models import Kpi

LINE = re.compile(r"^\s*(\S+?)\s*[,;\t ]\s*(\S+)\s*$")


class KpiForm(ServiceForm):
    code = forms.CharField(
        max_length=40,
        help_text="Stable and unique, used by imports and the API: e.g. PROC-OTD.",
    )
    name = forms.CharField(max_length=200)
    department = forms.ModelChoiceField(queryset=Department.objects.none())
    owner = PersonChoiceField(queryset=Person.objects.none())
    unit = forms.ChoiceField(choices=Unit.choices, initial=Unit.UNITS)
    direction = forms.ChoiceField(choices=Direction.choices, initial=Direction.HIGHER_IS_BETTER)
    frequency = forms.ChoiceField(choices=Frequency.choices, initial=Frequency.MONTHLY)
    criticality = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        initial=3,
        help_text="1 (minor) to 5 (critical); weighs the severity of its exceptions.",
    )
    tolerance_mode = forms.ChoiceField(
        choices=ToleranceMode.choices, initial=ToleranceMode.PERCENT, label="Tolerance in"
    )
    amber_threshold = forms.FloatField(
        min_value=0, initial=5.0, help_text="Adverse variance beyond which a period is amber."
    )
    red_threshold = forms.FloatField(
        min_value=0, initial=10.0, help_text="Beyond this it is red; above the amber threshold."
    )
    band_low = forms.FloatField(required=False, help_text="Within-band KPIs only.")
    band_high = forms.FloatField(required=False, help_text="Within-band KPIs only.")
    objectives = forms.ModelMultipleChoiceField(
        queryset=Objective.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="The objectives this KPI measures.",
    )
    initiatives = forms.ModelMultipleChoiceField(
        queryset=Initiative.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="The initiatives this KPI tracks.",
    )
    is_active = forms.BooleanField(
        label="Active",
        required=False,
        initial=True,
        help_text="Inactive KPIs take no new actuals and are not evaluated.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, instance: Kpi | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        departments = creatable_departments(user, Kpi)
        if instance is not None:
            departments |= Department.objects.filter(pk=instance.department_id)
        offer_departments(self, departments)
        self.fields["owner"].queryset = visible_people(user)
        self.fields["objectives"].queryset = selectors.objective_list(user=user).select_related(
            None
        )
        self.fields["initiatives"].queryset = (
            selectors.initiative_list(user=user).select_related(None).prefetch_related(None)
        )

    def clean(self):
        cleaned = super().clean()
        for name in ("amber_threshold", "red_threshold", "band_low", "band_high"):
            value = cleaned.get(name)
            if value is not None and not math.isfinite(value):
                self.add_error(name, "Enter a finite number.")
        return cleaned


def parse_trajectory(text: str) -> tuple[dict[str, str], list[str]]:
    """Lines of `period value` (comma, semicolon, tab or space between; as pasted from a
    spreadsheet) → {period: value} and the lines that could not be read."""
    values: dict[str, str] = {}
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = LINE.match(line)
        if match is None:
            errors.append(f"Line {number}: write a period and a value, e.g. 2026-04-01, 95.")
            continue
        period, value = match.groups()
        if period in values:
            errors.append(f"Line {number}: {period} is given twice.")
            continue
        values[period] = value
    return values, errors


class TargetsForm(ServiceForm):
    plan_version = forms.ModelChoiceField(
        queryset=PlanVersion.objects.none(),
        required=False,
        empty_label="The current plan",
        help_text="Targets go into the current plan unless you choose a draft.",
    )
    targets = forms.CharField(
        label="Targets",
        widget=forms.Textarea(attrs={"rows": 10, "class": "mono", "spellcheck": "false"}),
        help_text="One period per line: its start date and the target, e.g. 2026-04-01, 95. "
        "Periods you leave out keep their targets.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the targets change; kept in the KPI's history.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Drafts are offered; any version is accepted, so that the service refuses a proposed or
        # superseded one with its own message (on this field) rather than "not a valid choice".
        field = self.fields["plan_version"]
        field.queryset = PlanVersion.objects.all()
        drafts = PlanVersion.objects.filter(status=PlanVersionStatus.DRAFT).order_by("-created_at")
        field.widget.choices = [("", field.empty_label), *((v.pk, v.name) for v in drafts)]

    def clean_targets(self):
        values, errors = parse_trajectory(self.cleaned_data["targets"])
        if errors:
            raise forms.ValidationError(errors)
        if not values:
            raise forms.ValidationError("Give at least one period and its target value.")
        return values


class MeasurementForm(ServiceForm):
    period = forms.DateField(
        widget=DateInput, help_text="The start of the period (a Monday, or the 1st of the month)."
    )
    value = forms.FloatField(label="Actual")
    note = forms.CharField(
        required=False, max_length=500, widget=forms.TextInput(attrs={"placeholder": "Optional"})
    )

    def clean_value(self):
        value = self.cleaned_data["value"]
        if not math.isfinite(value):
            raise forms.ValidationError("Enter a finite number.")
        return value


def trajectory_text(targets) -> str:
    return "\n".join(f"{t.period.isoformat()}, {t.value:.12g}" for t in targets)


def default_period(kpi: Kpi, today: dt.date) -> dt.date:
    from kpis.periods import period_start, shift

    return shift(period_start(today, kpi.frequency), kpi.frequency, -1)
