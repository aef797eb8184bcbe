"""Forms of the exception pages. They collect input for `kpis.services.exceptions`, which stays
the authority (its refusals come back as form errors)."""

from __future__ import annotations

from django import forms

from govern.choices import Role
from govern.forms import PersonChoiceField, ServiceForm
from govern.models import Person
from kpis.models import KpiException
from kpis.permissions import LEADERSHIP_ONLY_KINDS

NOTE_WIDGET = forms.Textarea(attrs={"rows": 2})


class ExceptionAcknowledgeForm(ServiceForm):
    note = forms.CharField(
        widget=NOTE_WIDGET,
        required=False,
        max_length=2000,
        help_text="What you are doing about it; kept in the history.",
    )


class ExceptionAssignForm(ServiceForm):
    owner = PersonChoiceField(
        queryset=Person.objects.none(), help_text="Members of the department."
    )
    note = forms.CharField(
        widget=NOTE_WIDGET, required=False, max_length=2000, help_text="Kept in the history."
    )

    def __init__(self, *args, exception: KpiException, **kwargs):
        super().__init__(*args, **kwargs)
        if exception.kind in LEADERSHIP_ONLY_KINDS:  # only the PMO and executives see it
            people = Person.objects.filter(
                memberships__role__in=[Role.PMO, Role.EXECUTIVE], is_active=True
            )
            self.fields["owner"].help_text = "The PMO and executives."
        else:
            people = Person.objects.filter(
                memberships__department_id=exception.department_id, is_active=True
            )
        self.fields["owner"].queryset = people.distinct().order_by(
            "last_name", "first_name", "username"
        )


class ExceptionResolveForm(ServiceForm):
    """Resolve a target-gaming signal or an alignment exception by hand (PMO, executives)."""

    note = forms.CharField(
        widget=NOTE_WIDGET,
        max_length=2000,
        help_text="Why it is resolved (what was found, what was agreed); kept in the history.",
    )
