"""Forms of the exception pages. They collect input for `kpis.services.exceptions`, which stays
the authority (its refusals come back as form errors)."""

from __future__ import annotations

from django import forms

from govern.forms import PersonChoiceField, ServiceForm
from govern.models import Person
from kpis.models import KpiException

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
        self.fields["owner"].queryset = (
            Person.objects.filter(
                memberships__department_id=exception.department_id, is_active=True
            )
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
