"""Forms of the decision pages. They collect a decision's content for `decisions.services`, which
stay the authority (who may record and decide, the outcome rule, the trade-off rule, the
expected effect): their refusals come back as form errors, and nothing is written.

The decision form carries its reallocation lines as a formset (a blank line is ignored) and puts
the service's messages about a line (`reallocations[2].amount`) on that line. Choice fields
offer only rows the user may see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.utils import ErrorDict

from decisions.choices import ExpectedEffectKind, ReallocationUnit
from decisions.models import Decision
from decisions.services import NO_OUTCOME
from dependencies.forms import KpiChoiceField, KpiMultipleChoiceField
from dependencies.models import Contract
from govern.errors import ApplicationError, validation_fields
from govern.forms import DateInput, ServiceForm, visible_departments
from govern.models import Department, Initiative, Objective
from kpis.choices import ExceptionStatus
from kpis.models import Kpi, KpiException

T = TypeVar("T")

TEXTAREA = {"rows": 3}
MULTIPLE = {"size": 6}
DECIDE, PROPOSE = "decide", "propose"
NO_SOURCE = "Say where the resources come from: an initiative or a department."
NO_TARGET = "Say where the resources go: an initiative or a department."
# The content fields a decision is written with (its reallocation lines come from the formset).
CONTENT_FIELDS = (
    "title", "department", "context", "options_considered", "chosen_option", "rationale",
    "kpis", "exception", "initiative", "contract", "objective", "tradeoff_objective",
    "tradeoff_initiative", "tradeoff_statement", "expected_kpi", "expected_kind",
    "expected_value", "review_date",
)  # fmt: skip
LINE_FIELDS = (
    "from_initiative", "from_department", "to_initiative", "to_department", "amount", "unit",
)  # fmt: skip
LINE_ERROR = re.compile(r"^reallocations\[(\d+)\]\.(\w+)$")


class ExceptionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: KpiException) -> str:
        return f"{obj.title} ({obj.get_status_display().lower()})"


class ContractChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Contract) -> str:
        return f"{obj.code} — {obj.title}"


def _initiatives(user):
    return Initiative.objects.restrict(user).order_by("name")


def _objectives(user):
    return Objective.objects.restrict(user).order_by("title")


def _with(queryset, *objects):
    """`queryset` plus the given rows (what a decision being corrected names stays choosable)."""
    pks = [getattr(obj, "pk", obj) for obj in objects if obj is not None]
    if not pks:
        return queryset
    return (queryset | queryset.model._default_manager.filter(pk__in=pks)).distinct()


# --- Reallocation lines -----------------------------------------------------------------------


class ReallocationForm(forms.Form):
    """One line: from an initiative or a department to another, an amount and its unit."""

    from_initiative = forms.ModelChoiceField(
        queryset=Initiative.objects.none(), required=False, empty_label="—"
    )
    from_department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, empty_label="—"
    )
    to_initiative = forms.ModelChoiceField(
        queryset=Initiative.objects.none(), required=False, empty_label="—"
    )
    to_department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, empty_label="—"
    )
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2)
    unit = forms.ChoiceField(choices=ReallocationUnit.choices, initial=ReallocationUnit.CURRENCY)

    def __init__(self, *args, initiatives, departments, **kwargs):
        super().__init__(*args, **kwargs)
        for side in ("from", "to"):
            self.fields[f"{side}_initiative"].queryset = initiatives
            self.fields[f"{side}_department"].queryset = departments

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("from_initiative") or cleaned.get("from_department")):
            self.add_error("from_department", NO_SOURCE)
        if not (cleaned.get("to_initiative") or cleaned.get("to_department")):
            self.add_error("to_department", NO_TARGET)
        return cleaned

    def line(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in LINE_FIELDS}


class BaseReallocationFormSet(forms.BaseFormSet):
    def filled(self) -> list[ReallocationForm]:
        """The lines filled in, in order (blank ones are left out)."""
        return [form for form in self.forms if form.has_changed()]


ReallocationFormSet = forms.formset_factory(
    ReallocationForm, formset=BaseReallocationFormSet, extra=2, max_num=50, validate_max=True
)


# --- The decision -----------------------------------------------------------------------------


class LineErrorsMixin:
    """For a `ServiceForm` with reallocation lines (`self.lines`, a `ReallocationFormSet`): the
    services' messages on a line (`reallocations[i].field`) go onto that line's form."""

    def add_service_errors(self, exc: ValidationError | ApplicationError) -> None:
        """As `ServiceForm`, with a line's messages (`reallocations[i].field`) on its line."""
        if not isinstance(exc, ValidationError):
            super().add_service_errors(exc)
            return
        filled = self.lines.filled()
        rest: dict[str, list[str]] = {}
        for name, messages in validation_fields(exc).items():
            match = LINE_ERROR.match(name)
            index = int(match.group(1)) if match else -1
            if match and index < len(filled) and match.group(2) in LINE_FIELDS:
                for message in messages:
                    filled[index].add_error(match.group(2), message)
            else:
                rest[name] = messages
        if rest:
            super().add_service_errors(ValidationError(rest))
        elif not self.errors:
            self.add_error(None, "Please correct the reallocation lines marked below.")


class DecisionForm(LineErrorsMixin, ServiceForm):
    """A decision's content: what is decided and why, the outcome it is meant to move, what it
    sacrifices, the resources it moves (`self.lines`), its expected effect, and whether it is
    decided now or proposed to someone with the authority."""

    title = forms.CharField(max_length=200)
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        empty_label="Choose a department",
        help_text="The department the decision belongs to; its lead decides.",
    )
    context = forms.CharField(
        widget=forms.Textarea(attrs=TEXTAREA), help_text="The situation that calls for it."
    )
    options_considered = forms.CharField(
        widget=forms.Textarea(attrs=TEXTAREA), help_text="The options weighed, one per line."
    )
    chosen_option = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    rationale = forms.CharField(
        widget=forms.Textarea(attrs=TEXTAREA), help_text="Why this option, on what evidence."
    )
    kpis = KpiMultipleChoiceField(
        label="Outcomes (KPIs)",
        queryset=Kpi.objects.none(),
        error_messages={"required": NO_OUTCOME},
        widget=forms.SelectMultiple(attrs=MULTIPLE),
        help_text="At least one KPI the decision is meant to move (hold Ctrl or ⌘ to pick "
        "several).",
    )
    exception = ExceptionChoiceField(
        queryset=KpiException.objects.none(),
        required=False,
        empty_label="None",
        help_text="The exception it answers; a decision taken on it moves it to decided.",
    )
    initiative = forms.ModelChoiceField(
        queryset=Initiative.objects.none(), required=False, empty_label="None"
    )
    contract = ContractChoiceField(
        queryset=Contract.objects.none(), required=False, empty_label="None"
    )
    objective = forms.ModelChoiceField(
        queryset=Objective.objects.none(), required=False, empty_label="None"
    )
    tradeoff_objective = forms.ModelChoiceField(
        label="Objective sacrificed",
        queryset=Objective.objects.none(),
        required=False,
        empty_label="None",
    )
    tradeoff_initiative = forms.ModelChoiceField(
        label="Initiative sacrificed",
        queryset=Initiative.objects.none(),
        required=False,
        empty_label="None",
    )
    tradeoff_statement = forms.CharField(
        label="What is given up",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="What the decision costs, in words: a date, a volume, a budget.",
    )
    expected_kpi = KpiChoiceField(
        label="KPI expected to move",
        queryset=Kpi.objects.none(),
        required=False,
        empty_label="No expected effect",
    )
    expected_kind = forms.ChoiceField(
        label="Expected",
        choices=[("", "—"), *ExpectedEffectKind.choices],
        required=False,
        help_text="The KPI reaches a value, or its adverse variance stays within the value.",
    )
    expected_value = forms.FloatField(
        required=False, help_text="In the KPI's unit (its tolerance unit for a variance)."
    )
    review_date = forms.DateField(
        widget=DateInput, required=False, help_text="When the effect is checked."
    )
    mode = forms.ChoiceField(
        label="Record it as",
        choices=[
            (DECIDE, "Decided: I take this decision"),
            (PROPOSE, "Proposed: someone with the authority decides"),
        ],
        initial=DECIDE,
        widget=forms.RadioSelect,
        help_text="A department lead decides for their department; only an executive decides "
        "a decision that crosses departments.",
    )
    decided_on = forms.DateField(
        label="Decided on",
        widget=DateInput,
        required=False,
        help_text="Today if left empty; ignored for a proposal.",
    )

    GROUPS = (
        ("The decision", ("title", "department", "context", "options_considered",
                          "chosen_option", "rationale")),
        ("The outcome it is meant to move", ("kpis", "exception", "initiative", "contract",
                                             "objective")),
        ("Trade-off: what is sacrificed", ("tradeoff_objective", "tradeoff_initiative",
                                           "tradeoff_statement")),
        ("Expected effect", ("expected_kpi", "expected_kind", "expected_value", "review_date")),
    )  # fmt: skip

    def __init__(
        self,
        *args,
        user,
        departments,
        corrects: Decision | None = None,
        lines: list[dict[str, Any]] | None = None,
        add_line: bool = False,
        **kwargs,
    ):
        """`departments`: those the user may record decisions for; `corrects`: the decision a
        correction supersedes (what it names stays choosable); `lines`: initial reallocation
        lines; `add_line`: show the posted lines with one more blank line."""
        super().__init__(*args, **kwargs)
        fields = self.fields
        kpis = Kpi.objects.restrict(user).filter(is_active=True).order_by("code")
        initiatives = _initiatives(user)
        objectives = _objectives(user)
        exceptions = (
            KpiException.objects.restrict(user)
            .exclude(status=ExceptionStatus.RESOLVED)
            .order_by("-severity", "opened_at")
        )
        contracts = Contract.objects.restrict(user).order_by("code")
        line_departments = visible_departments(user)
        if corrects is not None:
            kpis = _with(kpis, *corrects.kpis.all(), corrects.expected_kpi_id)
            initiatives = _with(
                initiatives,
                corrects.initiative_id,
                corrects.tradeoff_initiative_id,
                *[line.get(f"{s}_initiative") for line in lines or () for s in ("from", "to")],
            )
            objectives = _with(objectives, corrects.objective_id, corrects.tradeoff_objective_id)
            exceptions = _with(exceptions, corrects.exception_id)
            contracts = _with(contracts, corrects.contract_id)
            line_departments = _with(
                line_departments,
                *[line.get(f"{s}_department") for line in lines or () for s in ("from", "to")],
            )
        fields["department"].queryset = departments
        fields["kpis"].queryset = kpis
        fields["expected_kpi"].queryset = kpis
        fields["initiative"].queryset = initiatives
        fields["tradeoff_initiative"].queryset = initiatives
        fields["objective"].queryset = objectives
        fields["tradeoff_objective"].queryset = objectives
        fields["exception"].queryset = exceptions
        fields["contract"].queryset = contracts
        exception = self._exception_named(exceptions)
        self.tradeoff_required = bool(exception and exception.tradeoff_required)
        self.lines = self._lines(initiatives, line_departments, lines, add_line)

    def _lines(self, initiatives, departments, initial, add_line) -> BaseReallocationFormSet:
        data = self.data if self.is_bound else None
        if data is not None and add_line:
            data = data.copy()
            key = "lines-TOTAL_FORMS"
            try:
                data[key] = str(int(data.get(key) or 0) + 1)
            except ValueError:
                pass  # a tampered count: the formset reports its management form
        return ReallocationFormSet(
            data,
            prefix="lines",
            initial=initial or None,
            form_kwargs={"initiatives": initiatives, "departments": departments},
        )

    def _exception_named(self, exceptions) -> KpiException | None:
        """The exception the form is about (posted, or pre-filled), if the user may see it."""
        value = self.data.get(self.add_prefix("exception")) if self.is_bound else None
        if value is None:
            value = self.initial.get("exception")
        try:
            pk = int(getattr(value, "pk", value))
        except (TypeError, ValueError):
            return None
        return exceptions.filter(pk=pk).first()

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return self.lines.is_valid() and valid

    def hold(self) -> None:
        """Show the posted values again without judging them (the "Add a line" button): no
        error is shown on a form the user has not submitted yet."""
        self._errors, self.cleaned_data = ErrorDict(), {}
        self.lines._errors, self.lines._non_form_errors = [], self.lines.error_class()
        for form in self.lines.forms:
            form._errors, form.cleaned_data = ErrorDict(), {}

    def groups(self) -> list[tuple[str, list]]:
        """The fields in the fieldsets the page shows."""
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    @property
    def propose(self) -> bool:
        return self.cleaned_data.get("mode") == PROPOSE

    def content(self) -> dict[str, Any]:
        """The decision's content as the services take it, with its reallocation lines."""
        data = {name: self.cleaned_data.get(name) for name in CONTENT_FIELDS}
        data["kpis"] = list(data["kpis"] or [])
        data["reallocations"] = [form.line() for form in self.lines.filled()]
        if not self.propose and self.cleaned_data.get("decided_on"):
            data["decided_on"] = self.cleaned_data["decided_on"]
        return data

    def submit(self, write: Callable[[dict], T]) -> T | None:
        """As `ServiceForm.submit`; a refusal of authority (who may record or decide) is shown
        on the form too, with 403."""
        try:
            return super().submit(write)
        except PermissionDenied as exc:
            self.add_error(None, str(exc))
            self.refusal_status = 403
            return None


def initial_content(decision: Decision) -> dict[str, Any]:
    """A decision's content as a form's initial values (ids for relations): where its
    correction starts from."""
    initial: dict[str, Any] = {}
    for name in CONTENT_FIELDS:
        if name == "kpis":
            initial[name] = [kpi.pk for kpi in decision.kpis.all()]
        else:
            initial[name] = getattr(decision, Decision._meta.get_field(name).attname)
    return initial


def initial_lines(decision: Decision) -> list[dict[str, Any]]:
    """A decision's reallocation lines as a formset's initial values (ids for relations)."""
    return [
        {
            name: getattr(line, f"{name}_id" if name not in ("amount", "unit") else name)
            for name in LINE_FIELDS
        }
        for line in decision.reallocations.all()
    ]


def initial_from_exception(exception: KpiException) -> dict[str, Any]:
    """A new decision answering `exception`: its department, its KPI as the outcome and as the
    KPI expected to move, its contract or its milestone's initiative."""
    initial: dict[str, Any] = {"exception": exception.pk, "department": exception.department_id}
    if exception.kpi_id:
        initial["kpis"] = [exception.kpi_id]
        initial["expected_kpi"] = exception.kpi_id
    if exception.contract_id:
        initial["contract"] = exception.contract_id
    if exception.milestone_id:
        initial["initiative"] = exception.milestone.initiative_id
    return initial


class DecideForm(ServiceForm):
    """Take a proposed decision: an optional note kept in the decision log."""

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Optional; kept in the decision log.",
    )
