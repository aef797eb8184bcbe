"""Forms of the review session pages. They collect input for `decisions.services.sessions`, which
stays the authority (the dates, the scope, the share, the session's state, who may decide):
its refusals come back as form errors, and nothing is written.

The agenda's inline forms carry the item's id as their prefix, so several can be open on the
session page at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from decisions.choices import ExpectedEffectKind, ReallocationUnit, SessionCadence
from decisions.models import AgendaItem, ReviewSession
from decisions.services.log import NO_OUTCOME
from dependencies.forms import KpiChoiceField
from govern.errors import ApplicationError, validation_fields
from govern.forms import DateInput, PersonChoiceField, ServiceForm, visible_departments
from govern.models import Department, Initiative, Objective, Person
from govern.selectors import person_list
from kpis.models import Kpi

T = TypeVar("T")


class DateTimeInput(forms.DateTimeInput):
    """A native date-and-time picker; the value is ISO so the browser can read it."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class PeopleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Person) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


def _people(user):
    return person_list(user=user).prefetch_related(None).filter(is_active=True)


class RefusalMixin:
    """`submit` as `ServiceForm.submit`, with a refusal of authority (403) shown on the form."""

    def submit(self, write: Callable[[dict], T]) -> T | None:
        try:
            return super().submit(write)
        except PermissionDenied as exc:
            self.add_error(None, str(exc))
            self.refusal_status = 403
            return None


# --- Sessions ---------------------------------------------------------------------------------


class SessionForm(RefusalMixin, ServiceForm):
    """Plan or change a session: cadence, date and time, scope, attendees, chair, agenda share."""

    title = forms.CharField(
        max_length=200, required=False, help_text="Default: the cadence and the date."
    )
    cadence = forms.ChoiceField(choices=SessionCadence.choices)
    scheduled_for = forms.DateTimeField(
        label="When", widget=DateTimeInput, help_text="Today or later."
    )
    departments = forms.ModelMultipleChoiceField(
        label="Scope (departments)",
        queryset=Department.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="None: the whole organisation. Hold Ctrl or ⌘ to pick several.",
    )
    attendees = PeopleField(
        queryset=Person.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="The chair always attends.",
    )
    chair = PersonChoiceField(
        queryset=Person.objects.none(),
        required=False,
        empty_label="Me",
        help_text="Runs the session with the PMO and the executives.",
    )
    agenda_share = forms.FloatField(
        label="Agenda share",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.05", "min": "0.01", "max": "1"}),
        help_text="The share of open exceptions, worst first, on the agenda: 0.2 is the worst "
        "20% (at least one). Decisions due for review and contracts at risk are added.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = visible_departments(user).order_by("name")
        people = _people(user).order_by("last_name", "first_name", "username")
        self.fields["attendees"].queryset = people
        self.fields["chair"].queryset = people
        self.initial.setdefault("agenda_share", settings.GOVERN_AGENDA_SHARE)

    def content(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["departments"] = list(data["departments"] or [])
        data["attendees"] = list(data["attendees"] or [])
        return data


def session_initial(session: ReviewSession) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "title": session.title,
        "cadence": session.cadence,
        "scheduled_for": timezone.localtime(session.scheduled_for),
        "departments": [d.pk for d in session.departments.all()],
        "attendees": [p.pk for p in session.attendees.all()],
        "chair": session.chair_id,
        "agenda_share": session.agenda_share,
    }


class CloseForm(ServiceForm):
    minutes_summary = forms.CharField(
        label="Summary for the minutes",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
        error_messages={"required": "Summarise the session for its minutes."},
        help_text="What the session concluded. The minutes are final once it is closed.",
    )


# --- The agenda's inline forms ----------------------------------------------------------------

LINE_FIELDS = ("from_initiative", "from_department", "to_initiative", "to_department", "amount",
               "unit")  # fmt: skip
# The service's field names → this form's.
DECIDE_ERRORS = {
    "kpis": "kpi",
    "expected_kpi": "kpi",
    **{f"reallocations[0].{name}": f"line_{name}" for name in LINE_FIELDS},
}


class ItemDecideForm(RefusalMixin, ServiceForm):
    """The essentials of a decision on an agenda item: title, chosen option, rationale, the KPI it
    is meant to move (default: the exception's), an optional expected effect and reallocation
    line, and whether to record it as proposed. The context and the options considered are
    written from the item and the session."""

    title = forms.CharField(max_length=200)
    chosen_option = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    kpi = KpiChoiceField(
        label="Outcome (KPI)",
        queryset=Kpi.objects.none(),
        empty_label="Choose the KPI it should move",
        error_messages={"required": NO_OUTCOME},
        help_text="The KPI the decision is meant to move.",
    )
    tradeoff_objective = forms.ModelChoiceField(
        label="Objective sacrificed", queryset=Objective.objects.none(), required=False
    )
    tradeoff_initiative = forms.ModelChoiceField(
        label="Initiative sacrificed", queryset=Initiative.objects.none(), required=False
    )
    tradeoff_statement = forms.CharField(
        label="What is given up", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    expected_kind = forms.ChoiceField(
        label="Expected",
        choices=[("", "No expected effect"), *ExpectedEffectKind.choices],
        required=False,
    )
    expected_value = forms.FloatField(label="Value", required=False)
    review_date = forms.DateField(widget=DateInput, required=False)
    line_from_initiative = forms.ModelChoiceField(
        label="From initiative", queryset=Initiative.objects.none(), required=False
    )
    line_from_department = forms.ModelChoiceField(
        label="or department", queryset=Department.objects.none(), required=False
    )
    line_to_initiative = forms.ModelChoiceField(
        label="To initiative", queryset=Initiative.objects.none(), required=False
    )
    line_to_department = forms.ModelChoiceField(
        label="or department", queryset=Department.objects.none(), required=False
    )
    line_amount = forms.DecimalField(label="Amount", required=False, max_digits=14)
    line_unit = forms.ChoiceField(
        label="Unit", choices=ReallocationUnit.choices, initial=ReallocationUnit.CURRENCY
    )
    propose = forms.BooleanField(
        label="Record it as proposed, for someone with the authority to decide",
        required=False,
    )

    TRADEOFF = ("tradeoff_objective", "tradeoff_initiative", "tradeoff_statement")
    EFFECT = ("expected_kind", "expected_value", "review_date")
    LINE = tuple(f"line_{name}" for name in LINE_FIELDS)

    def __init__(self, *args, user, item: AgendaItem, kpis: list[int], **kwargs):
        kwargs.setdefault("prefix", f"item{item.pk}")
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["kpi"].queryset = Kpi.objects.restrict(user).filter(is_active=True).order_by("code")
        initiatives = Initiative.objects.restrict(user).order_by("name")
        departments = visible_departments(user).order_by("name")
        for side in ("from", "to"):
            fields[f"line_{side}_initiative"].queryset = initiatives
            fields[f"line_{side}_department"].queryset = departments
        fields["tradeoff_initiative"].queryset = initiatives
        fields["tradeoff_objective"].queryset = Objective.objects.restrict(user).order_by("title")
        # The exception's ripple crosses into another department: the trade-off is required.
        self.tradeoff_required = bool(item.exception and item.exception.tradeoff_required)
        if kpis:
            self.initial.setdefault("kpi", kpis[0])

    def essential_fields(self):
        return [self[name] for name in ("title", "chosen_option", "rationale", "kpi")]

    def tradeoff_fields(self):
        return [self[name] for name in self.TRADEOFF]

    def effect_fields(self):
        return [self[name] for name in self.EFFECT]

    def line_fields(self):
        return [self[name] for name in self.LINE]

    @property
    def propose_now(self) -> bool:
        return bool(self.cleaned_data.get("propose"))

    def content(self) -> dict[str, Any]:
        """The decision's fields as `agenda_item_decide` takes them."""
        data = self.cleaned_data
        content: dict[str, Any] = {
            "title": data["title"],
            "chosen_option": data["chosen_option"],
            "rationale": data["rationale"],
        }
        if data.get("kpi") is not None:
            content["kpis"] = [data["kpi"]]
        for name in self.TRADEOFF:
            if data.get(name):
                content[name] = data[name]
        if data.get("expected_kind") or data.get("expected_value") is not None:
            content["expected_kpi"] = data.get("kpi")
            content["expected_kind"] = data.get("expected_kind") or ""
            content["expected_value"] = data.get("expected_value")
            content["review_date"] = data.get("review_date")
        line = {name: data.get(f"line_{name}") for name in LINE_FIELDS}
        if any(line[name] not in (None, "") for name in LINE_FIELDS if name != "unit"):
            content["reallocations"] = [line]
        return content

    def add_service_errors(self, exc: ValidationError | ApplicationError) -> None:
        if isinstance(exc, ValidationError):
            renamed: dict[str, list[str]] = {}
            for name, messages in validation_fields(exc).items():
                renamed.setdefault(DECIDE_ERRORS.get(name, name), []).extend(messages)
            exc = ValidationError(renamed)
        super().add_service_errors(exc)


class ItemDeferForm(RefusalMixin, ServiceForm):
    owner = PersonChoiceField(queryset=Person.objects.none(), required=False)
    deferred_to = forms.DateField(label="Comes back by", widget=DateInput, required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, user, item: AgendaItem, **kwargs):
        kwargs.setdefault("prefix", f"item{item.pk}")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people(user).order_by("last_name", "first_name")
        if item.action_owner_id:
            self.initial.setdefault("owner", item.action_owner_id)


class ItemNoteForm(RefusalMixin, ServiceForm):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Optional: why no decision is needed.",
    )

    def __init__(self, *args, item: AgendaItem, **kwargs):
        kwargs.setdefault("prefix", f"item{item.pk}")
        super().__init__(*args, **kwargs)
