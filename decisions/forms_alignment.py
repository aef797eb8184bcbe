"""Forms of the alignment pages: the heat-map's filters, and recording or correcting an
assessment. They collect input for `decisions.services.alignment`, which stays the authority (its
refusals come back as form errors)."""

from __future__ import annotations

from django import forms

from decisions.selectors_alignment import QUARTERS_DEFAULT, QUARTERS_MAX, QUARTERS_MIN
from govern.forms import DateInput, PersonChoiceField, ServiceForm
from govern.models import Department, Person

SCORE_CHOICES = [
    ("", "Choose a score"),
    (1, "1 — not at all"),
    (2, "2 — weak"),
    (3, "3 — partly"),
    (4, "4 — largely"),
    (5, "5 — fully"),
]
SCORE_HELP = {
    "understanding": "How well do they understand the objectives and what they mean for them?",
    "commitment": "How committed are they to reaching them?",
    "resources": "How adequate are the resources they have for them?",
}


class HeatmapFilterForm(forms.Form):
    """The heat-map's filters: a department and how many quarters to show."""

    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, empty_label="All departments"
    )
    quarters = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=QUARTERS_DEFAULT,
        choices=[(n, f"Last {n} quarters") for n in range(QUARTERS_MIN, QUARTERS_MAX + 1)],
        initial=QUARTERS_DEFAULT,
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


def _score_field(name: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        coerce=int, choices=SCORE_CHOICES, label=name.capitalize(), help_text=SCORE_HELP[name]
    )


class AssessmentForm(ServiceForm):
    leader = PersonChoiceField(
        queryset=Person.objects.none(), help_text="A member of the department."
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), empty_label="Choose a department"
    )
    period = forms.DateField(
        label="Quarter",
        widget=DateInput(),
        help_text="Any day of the quarter assessed; it is stored as the quarter's first day.",
    )
    understanding = _score_field("understanding")
    commitment = _score_field("commitment")
    resources = _score_field("resources")
    resistance_notes = forms.CharField(
        label="Notes on resistance",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What holds them back, in their words or yours. Seen by the PMO, executives "
        "and the leader.",
    )

    def __init__(self, *args, people, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = people
        self.fields["department"].queryset = departments
