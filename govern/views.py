"""Server-rendered pages. Views are thin: single objects go through the permission gate
(`permissions.access`: 404 when the user may not see the object, 403 when they may not change it),
reads go through the selectors, form input goes to one service, and the result is rendered.
Buttons are shown from the same permission checks the services make, passed as booleans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods

from govern import filtersets, forms, permissions, selectors, services
from govern.api.errors import error_body
from govern.choices import (
    InitiativeStatus,
    MilestoneStatus,
    ObjectiveLevel,
    Role,
)
from govern.errors import ApplicationError
from govern.models import (
    Department,
    Initiative,
    Membership,
    Milestone,
    Objective,
    Person,
    PlanVersion,
)
from kpis import selectors as kpi_selectors

form_methods = require_http_methods(["GET", "POST"])
CLOSED_MILESTONE = (MilestoneStatus.DONE, MilestoneStatus.CANCELLED)
DETAIL_ROWS = 20  # rows of a related list shown on a detail page before "see all"
DASHBOARD_ROWS = 10


# --- Shared plumbing --------------------------------------------------------------------------


def form_data(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def paginate(request: HttpRequest, items) -> Page:
    return Paginator(items, settings.GOVERN_PAGE_SIZE).get_page(request.GET.get("page"))


FILTER_LABELS = {"is_active": "Account"}


def filter_form(filterset_class, request: HttpRequest, choices: Mapping[str, Any]):
    """The FilterSet's own form, bound to the query string: the search box first, then the fields
    the page offers. `choices` narrows a model choice to the rows the user may see (a queryset) or
    relabels a choice list (["All statuses", *choices])."""
    model = filterset_class._meta.model
    form = filterset_class(request.GET, queryset=model._default_manager.none()).form
    search = form.fields["q"]
    search.widget.input_type = "search"
    search.widget.attrs.update({"placeholder": "Search", "autocomplete": "off"})
    form.fields = {"q": search, **{name: form.fields[name] for name in choices}}
    for name, options in choices.items():
        field = form.fields[name]
        field.label = FILTER_LABELS.get(name, capfirst(name.replace("_", " ")))
        if hasattr(field, "queryset"):
            field.queryset = options
            field.empty_label = f"All {name.replace('_', ' ')}s"
            field.widget.choices = field.choices
        else:
            field.widget.choices = [("", options[0]), *options[1:]]
    return form


def _list_page(
    request: HttpRequest,
    *,
    template: str,
    filterset_class,
    choices: Mapping[str, Any],
    select: Callable[[dict], Any],
    context: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """Filter form → selector → one page of rows. Bad filter values show on the form (400)."""
    form = filter_form(filterset_class, request, choices)
    names = ["q", *choices]
    filters = {name: request.GET[name] for name in names if request.GET.get(name, "").strip()}
    items, status = [], 200
    if form.is_valid():
        try:
            items = select(filters)
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 400
    else:
        status = 400
    return render(
        request,
        template,
        {
            "filter_form": form,
            "page": paginate(request, items),
            "filtered": bool(filters),
            **(context or {}),
        },
        status=status,
    )


def form_page(
    request: HttpRequest,
    form,
    *,
    title: str,
    submit: str,
    cancel_url: str,
    intro: str = "",
    history: Iterable | None = None,
    danger: bool = False,
    plan_version: PlanVersion | None = None,
) -> HttpResponse:
    """A form on its own page. `plan_version`: the version the form works on, named in a banner
    when it is not the current one."""
    return render(
        request,
        "govern/form_page.html",
        {
            "form": form,
            "title": title,
            "submit": submit,
            "cancel_url": cancel_url,
            "intro": intro,
            "history": history,
            "danger": danger,
            "shown_plan": plan_version,
        },
        status=400 if request.method == "POST" else 200,
    )


def _confirm_delete(
    request: HttpRequest,
    obj: Model,
    *,
    delete: Callable[[], None],
    success_url: str,
    consequences: str = "",
) -> HttpResponse:
    """The confirmation step of every delete: GET asks, POST deletes through the service."""
    label = f"{obj._meta.verbose_name} “{obj}”"
    cancel_url = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else success_url
    error = ""
    if request.method == "POST":
        try:
            delete()
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"Deleted {label}.")
            return redirect(success_url)
    return render(
        request,
        "govern/confirm_delete.html",
        {
            "subject": obj,
            "label": label,
            "consequences": consequences,
            "error": error,
            "cancel_url": cancel_url,
        },
        status=409 if error else 200,
    )


def _initial(obj: Model, names: Iterable[str]) -> dict:
    return {name: getattr(obj, name) for name in names}


def _may_add_somewhere(user, model, **attrs) -> bool:
    return forms.creatable_departments(user, model, **attrs).exists()


def _may_add_objective(user) -> bool:
    return any(_may_add_somewhere(user, Objective, level=level) for level in ObjectiveLevel.values)


# --- Errors -----------------------------------------------------------------------------------


def error_403(request, exception=None):
    message = str(exception or "") or "You do not have permission to open this page."
    return render(request, "errors/403.html", {"message": message}, status=403)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def error_404(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            error_body("not_found", "There is no API endpoint or object at this address."),
            status=404,
        )
    return render(request, "errors/404.html", {}, status=404)


def error_500(request):
    if _is_api(request):
        return JsonResponse(
            error_body(
                "server_error", "Something went wrong on our side; the error has been logged."
            ),
            status=500,
        )
    # Standalone: no context processors, no queries; the database may be what failed.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())


# --- Dashboard --------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    overdue = selectors.milestone_list(user=user, filters={"overdue": True}).order_by(
        "due_date", "name"
    )
    my_milestones = (
        selectors.milestone_list(user=user, filters={"owner": user.pk})
        .exclude(status__in=CLOSED_MILESTONE)
        .order_by("due_date", "name")
    )
    my_initiatives = (
        selectors.initiative_list(user=user, filters={"owner": user.pk})
        .exclude(status__in=(InitiativeStatus.COMPLETED, InitiativeStatus.CANCELLED))
        .prefetch_related(None)  # the dashboard does not show their objectives
    )
    exceptions = kpi_selectors.exception_list(user=user, filters={"status": "unresolved"})
    context = {
        "counts": {
            "open_exceptions": exceptions.count(),
            "objectives": selectors.objective_list(user=user).count(),
            "active_initiatives": selectors.initiative_list(
                user=user, filters={"status": InitiativeStatus.ACTIVE}
            ).count(),
            "overdue_milestones": overdue.count(),
        },
        "exceptions": exceptions[:DASHBOARD_ROWS],
        "overdue": overdue[:DASHBOARD_ROWS],
        "my_initiatives": my_initiatives[:DASHBOARD_ROWS],
        "my_milestones": my_milestones[:DASHBOARD_ROWS],
        "today": timezone.localdate(),
    }
    return render(request, "govern/dashboard.html", context)


# --- Departments ------------------------------------------------------------------------------


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return _list_page(
        request,
        template="govern/departments/list.html",
        filterset_class=filtersets.DepartmentFilterSet,
        choices={},
        select=lambda filters: selectors.department_list(user=user, filters=filters),
        context={"can_add": permissions.can_add(user, Department)},
    )


@login_required
def department_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    department = permissions.access(Department, user, pk)
    by_department = {"department": department.pk}
    members = selectors.membership_list(user=user, filters=by_department).order_by(
        "role", "person__last_name", "person__first_name"
    )
    objectives = selectors.objective_list(user=user, filters=by_department)
    initiatives = selectors.initiative_list(user=user, filters=by_department)
    return render(
        request,
        "govern/departments/detail.html",
        {
            "department": department,
            "members": members,
            "objectives": objectives[:DETAIL_ROWS],
            "objective_count": objectives.count(),
            "initiatives": initiatives[:DETAIL_ROWS],
            "initiative_count": initiatives.count(),
            "detail_rows": DETAIL_ROWS,
            "history": selectors.audit_history(subject=department),
            "can_change": permissions.allowed(user, permissions.CHANGE, department),
            "can_delete": permissions.allowed(user, permissions.DELETE, department),
        },
    )


@login_required
@form_methods
def department_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_add(user, Department):
        raise PermissionDenied("Only the PMO can create departments.")
    form = forms.DepartmentForm(form_data(request))
    if form.is_valid():
        department = form.submit(lambda data: services.department_create(actor=user, **data))
        if department:
            messages.success(request, f"Created department “{department}”.")
            return redirect(department)
    return form_page(
        request,
        form,
        title="New department",
        submit="Create department",
        cancel_url=reverse("department-list"),
    )


@login_required
@form_methods
def department_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    department = permissions.access(Department, user, pk, for_write=True)
    title, cancel_url = f"Edit {department}", department.get_absolute_url()
    form = forms.DepartmentForm(
        form_data(request), initial=_initial(department, forms.DepartmentForm.base_fields)
    )
    if form.is_valid():
        updated = form.submit(
            lambda data: services.department_update(actor=user, department=department, data=data),
        )
        if updated:
            messages.success(request, f"Saved department “{updated}”.")
            return redirect(updated)
    return form_page(request, form, title=title, submit="Save changes", cancel_url=cancel_url)


@login_required
@form_methods
def department_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    department = permissions.access(Department, user, pk)
    permissions.ensure_allowed(user, permissions.DELETE, department)
    return _confirm_delete(
        request,
        department,
        delete=lambda: services.department_delete(actor=user, department=department),
        success_url=reverse("department-list"),
        consequences=(
            "A department can only be deleted once it has no members, objectives or initiatives."
        ),
    )


# --- People and memberships -------------------------------------------------------------------


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return _list_page(
        request,
        template="govern/people/list.html",
        filterset_class=filtersets.PersonFilterSet,
        choices={
            "department": forms.visible_departments(user),
            "role": ["All roles", *Role.choices],
            "is_active": ["Active and inactive", ("true", "Active"), ("false", "Inactive")],
        },
        select=lambda filters: selectors.person_list(user=user, filters=filters),
        context={"can_add": permissions.can_add(user, Person)},
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = permissions.access(Person, user, pk)
    by_owner = {"owner": person.pk}
    memberships = [
        {
            "membership": membership,
            "can_change": permissions.allowed(user, permissions.CHANGE, membership),
            "can_delete": permissions.allowed(user, permissions.DELETE, membership),
        }
        for membership in selectors.membership_list(user=user, filters={"person": person.pk})
    ]
    objectives = selectors.objective_list(user=user, filters=by_owner)
    initiatives = selectors.initiative_list(user=user, filters=by_owner)
    milestones = selectors.milestone_list(user=user, filters=by_owner).order_by("due_date")
    return render(
        request,
        "govern/people/detail.html",
        {
            "person": person,
            "memberships": memberships,
            "objectives": objectives[:DETAIL_ROWS],
            "objective_count": objectives.count(),
            "initiatives": initiatives[:DETAIL_ROWS],
            "initiative_count": initiatives.count(),
            "milestones": milestones[:DETAIL_ROWS],
            "milestone_count": milestones.count(),
            "detail_rows": DETAIL_ROWS,
            "history": selectors.audit_history(subject=person),
            "can_change": permissions.allowed(user, permissions.CHANGE, person),
            "can_add_membership": permissions.can_add(user, Membership),
        },
    )


@login_required
@form_methods
def person_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_add(user, Person):
        raise PermissionDenied("Only the PMO can add people.")
    form = forms.PersonCreateForm(form_data(request))
    if form.is_valid():

        def write(data):
            data = {k: v for k, v in data.items() if k != "password_again"}
            return services.person_create(
                actor=user, **{**data, "password": data["password"] or None}
            )

        person = form.submit(write)
        if person:
            messages.success(request, f"Added {person}. Give them a role in a department below.")
            return redirect(person)
    return form_page(
        request, form, title="New person", submit="Add person", cancel_url=reverse("person-list")
    )


@login_required
@form_methods
def person_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = permissions.access(Person, user, pk, for_write=True)
    title, cancel_url = f"Edit {person}", person.get_absolute_url()
    form = forms.PersonForm(
        form_data(request), initial=_initial(person, forms.PersonForm.base_fields)
    )
    if form.is_valid():
        updated = form.submit(
            lambda data: services.person_update(actor=user, person=person, data=data)
        )
        if updated:
            messages.success(request, f"Saved {updated}.")
            return redirect(updated)
    return form_page(request, form, title=title, submit="Save changes", cancel_url=cancel_url)


@login_required
@form_methods
def membership_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = permissions.access(Person, user, pk)
    if not permissions.can_add(user, Membership):
        raise PermissionDenied("Only the PMO can give people roles in departments.")
    form = forms.MembershipForm(form_data(request), user=user)
    if form.is_valid():
        membership = form.submit(
            lambda data: services.membership_create(actor=user, person=person, **data)
        )
        if membership:
            role = membership.get_role_display()
            messages.success(request, f"{person} is now {role} in {membership.department}.")
            return redirect(person)
    return form_page(
        request,
        form,
        title=f"Give {person} a role",
        submit="Add role",
        cancel_url=person.get_absolute_url(),
        intro="A person holds one role per department; executives and PMO members see every "
        "department.",
    )


def _membership(user, pk: int, *, for_write: bool = False) -> Membership:
    return permissions.access(
        Membership,
        user,
        pk,
        for_write=for_write,
        queryset=Membership.objects.select_related("person", "department"),
    )


@login_required
@form_methods
def membership_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    membership = _membership(user, pk, for_write=True)
    person = membership.person
    form = forms.MembershipRoleForm(form_data(request), initial={"role": membership.role})
    if form.is_valid():
        updated = form.submit(
            lambda data: services.membership_update(
                actor=user, membership=membership, role=data["role"]
            ),
        )
        if updated:
            messages.success(
                request, f"{person} is now {updated.get_role_display()} in {updated.department}."
            )
            return redirect(person)
    return form_page(
        request,
        form,
        title=f"Change {person}’s role in {membership.department}",
        submit="Save role",
        cancel_url=person.get_absolute_url(),
        history=selectors.audit_history(subject=membership),
    )


@login_required
@form_methods
def membership_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    membership = _membership(user, pk)
    permissions.ensure_allowed(user, permissions.DELETE, membership)
    return _confirm_delete(
        request,
        membership,
        delete=lambda: services.membership_delete(actor=user, membership=membership),
        success_url=membership.person.get_absolute_url(),
        consequences=f"{membership.person} keeps their account and history; they lose what the "
        f"{membership.get_role_display().lower()} role lets them see and do in "
        f"{membership.department}.",
    )


# --- Objectives -------------------------------------------------------------------------------


@login_required
def objective_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return _list_page(
        request,
        template="govern/objectives/list.html",
        filterset_class=filtersets.ObjectiveFilterSet,
        choices={
            "level": ["All levels", *ObjectiveLevel.choices],
            "department": forms.visible_departments(user),
        },
        select=lambda filters: selectors.objective_tree(user=user, filters=filters),
        context={"can_add": _may_add_objective(user)},
    )


@login_required
def objective_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    objective = permissions.access(
        Objective, user, pk, queryset=Objective.objects.select_related("owner", "department")
    )
    parent = None
    if objective.parent_id:
        parent = selectors.objective_list(user=user).filter(pk=objective.parent_id).first()
    children = selectors.objective_list(user=user, filters={"parent": objective.pk})
    initiatives = selectors.initiative_list(user=user, filters={"objective": objective.pk})
    return render(
        request,
        "govern/objectives/detail.html",
        {
            "objective": objective,
            "parent": parent,
            "parent_hidden": bool(objective.parent_id) and parent is None,
            "children": children,
            "initiatives": initiatives,
            "history": selectors.audit_history(subject=objective),
            "can_change": permissions.allowed(user, permissions.CHANGE, objective),
            "can_delete": permissions.allowed(user, permissions.DELETE, objective),
            "can_add_child": _may_add_objective(user),
            "can_add_initiative": _may_add_somewhere(user, Initiative),
        },
    )


@login_required
@form_methods
def objective_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _may_add_objective(user):
        raise PermissionDenied("Only the PMO and department leads can create objectives.")
    initial = {"level": ObjectiveLevel.ANNUAL, "owner": user.pk}
    if request.GET.get("parent", "").isdigit():
        initial["parent"] = int(request.GET["parent"])
    form = forms.ObjectiveForm(form_data(request), user=user, initial=initial)
    if form.is_valid():
        objective = form.submit(lambda data: services.objective_create(actor=user, **data))
        if objective:
            messages.success(request, f"Created objective “{objective}”.")
            return redirect(objective)
    return form_page(
        request,
        form,
        title="New objective",
        submit="Create objective",
        cancel_url=reverse("objective-list"),
    )


@login_required
@form_methods
def objective_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    objective = permissions.access(Objective, user, pk, for_write=True)
    title, cancel_url = f"Edit {objective}", objective.get_absolute_url()
    form = forms.ObjectiveForm(
        form_data(request),
        user=user,
        instance=objective,
        initial=_initial(objective, services.OBJECTIVE_FIELDS),
    )
    if form.is_valid():
        updated = form.submit(
            lambda data: services.objective_update(actor=user, objective=objective, data=data),
        )
        if updated:
            messages.success(request, f"Saved objective “{updated}”.")
            return redirect(updated)
    return form_page(request, form, title=title, submit="Save changes", cancel_url=cancel_url)


@login_required
@form_methods
def objective_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    objective = permissions.access(Objective, user, pk)
    permissions.ensure_allowed(user, permissions.DELETE, objective)
    return _confirm_delete(
        request,
        objective,
        delete=lambda: services.objective_delete(actor=user, objective=objective),
        success_url=reverse("objective-list"),
        consequences="Initiatives serving it stay, and no longer list it. An objective with "
        "objectives cascading from it cannot be deleted.",
    )


# --- Initiatives ------------------------------------------------------------------------------


@login_required
def initiative_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return _list_page(
        request,
        template="govern/initiatives/list.html",
        filterset_class=filtersets.InitiativeFilterSet,
        choices={
            "department": forms.visible_departments(user),
            "status": ["All statuses", *InitiativeStatus.choices],
            "objective": selectors.objective_list(user=user).select_related(None),
        },
        select=lambda filters: selectors.initiative_list(user=user, filters=filters),
        context={"can_add": _may_add_somewhere(user, Initiative)},
    )


@login_required
def initiative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    initiative = permissions.access(
        Initiative, user, pk, queryset=Initiative.objects.select_related("department", "owner")
    )
    in_initiative = Milestone.objects.filter(initiative=initiative)
    changeable = set(in_initiative.restrict(user, permissions.CHANGE).values_list("pk", flat=True))
    reportable = set(
        in_initiative.restrict(user, permissions.PROGRESS).values_list("pk", flat=True)
    )
    milestones = [
        {
            "milestone": milestone,
            "can_change": milestone.pk in changeable,
            "progress_form": forms.MilestoneProgressForm(
                milestone=milestone,
                initial={"status": milestone.status, "completed_date": milestone.completed_date},
            )
            if milestone.pk in reportable
            else None,
        }
        for milestone in selectors.milestone_list(
            user=user, filters={"initiative": initiative.pk}
        ).order_by("due_date", "name")
    ]
    can_add_milestone = permissions.can_add(user, Milestone, department=initiative.department)
    return render(
        request,
        "govern/initiatives/detail.html",
        {
            "initiative": initiative,
            "objectives": selectors.objective_list(user=user).filter(initiatives=initiative),
            "milestones": milestones,
            "milestones_done": sum(
                1 for row in milestones if row["milestone"].status == MilestoneStatus.DONE
            ),
            "milestones_overdue": sum(1 for row in milestones if row["milestone"].overdue),
            "milestone_form": forms.MilestoneForm(
                user=user, initial={"owner": initiative.owner_id}, prefix="new"
            )
            if can_add_milestone
            else None,
            "history": selectors.audit_history(
                subject=initiative, related=[row["milestone"] for row in milestones]
            ),
            "can_change": permissions.allowed(user, permissions.CHANGE, initiative),
            "can_delete": permissions.allowed(user, permissions.DELETE, initiative),
        },
    )


@login_required
@form_methods
def initiative_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _may_add_somewhere(user, Initiative):
        raise PermissionDenied("Only the PMO and department leads can create initiatives.")
    initial = {"owner": user.pk}
    if request.GET.get("objective", "").isdigit():
        initial["objectives"] = [int(request.GET["objective"])]
    form = forms.InitiativeForm(form_data(request), user=user, initial=initial)
    if form.is_valid():
        initiative = form.submit(lambda data: services.initiative_create(actor=user, **data))
        if initiative:
            messages.success(request, f"Created initiative “{initiative}”.")
            return redirect(initiative)
    return form_page(
        request,
        form,
        title="New initiative",
        submit="Create initiative",
        cancel_url=reverse("initiative-list"),
    )


@login_required
@form_methods
def initiative_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    initiative = permissions.access(Initiative, user, pk, for_write=True)
    title, cancel_url = f"Edit {initiative}", initiative.get_absolute_url()
    initial = _initial(initiative, services.INITIATIVE_FIELDS)
    initial["objectives"] = list(initiative.objectives.values_list("pk", flat=True))
    form = forms.InitiativeForm(form_data(request), user=user, instance=initiative, initial=initial)
    if form.is_valid():

        def write(data):
            data = dict(data)
            objectives = data.pop("objectives")
            return services.initiative_update(
                actor=user, initiative=initiative, data=data, objectives=objectives
            )

        updated = form.submit(write)
        if updated:
            messages.success(request, f"Saved initiative “{updated}”.")
            return redirect(updated)
    return form_page(request, form, title=title, submit="Save changes", cancel_url=cancel_url)


@login_required
@form_methods
def initiative_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    initiative = permissions.access(Initiative, user, pk)
    permissions.ensure_allowed(user, permissions.DELETE, initiative)
    count = initiative.milestones.count()
    return _confirm_delete(
        request,
        initiative,
        delete=lambda: services.initiative_delete(actor=user, initiative=initiative),
        success_url=reverse("initiative-list"),
        consequences=f"Its {count} milestone{'s' if count != 1 else ''} will be deleted with it; "
        "the history of each is kept.",
    )


# --- Milestones -------------------------------------------------------------------------------


def _milestone(user, pk: int, *, for_write: bool = False) -> Milestone:
    return permissions.access(
        Milestone,
        user,
        pk,
        for_write=for_write,
        queryset=Milestone.objects.select_related("initiative", "initiative__department"),
    )


@login_required
@form_methods
def milestone_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    initiative = permissions.access(
        Initiative, user, pk, queryset=Initiative.objects.select_related("department")
    )
    if not permissions.can_add(user, Milestone, department=initiative.department):
        raise PermissionDenied(
            f"Only the PMO and the leads of {initiative.department} can add milestones to "
            f"{initiative}."
        )
    form = forms.MilestoneForm(
        form_data(request), user=user, initial={"owner": initiative.owner_id}, prefix="new"
    )
    if form.is_valid():
        milestone = form.submit(
            lambda data: services.milestone_create(actor=user, initiative=initiative, **data),
        )
        if milestone:
            messages.success(request, f"Added milestone “{milestone}” to {initiative}.")
            return redirect(milestone)
    return form_page(
        request,
        form,
        title=f"New milestone for {initiative}",
        submit="Add milestone",
        cancel_url=initiative.get_absolute_url(),
    )


@login_required
@form_methods
def milestone_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    milestone = _milestone(user, pk, for_write=True)
    title = f"Edit milestone “{milestone}”"
    form = forms.MilestoneForm(
        form_data(request), user=user, initial=_initial(milestone, forms.MilestoneForm.base_fields)
    )
    if form.is_valid():
        updated = form.submit(
            lambda data: services.milestone_update(actor=user, milestone=milestone, data=data),
        )
        if updated:
            messages.success(request, f"Saved milestone “{updated}”.")
            return redirect(updated)
    return form_page(
        request,
        form,
        title=title,
        submit="Save changes",
        cancel_url=milestone.initiative.get_absolute_url(),
        intro=f"A milestone of {milestone.initiative} ({milestone.initiative.department}).",
        history=selectors.audit_history(subject=milestone),
    )


@login_required
@form_methods
def milestone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    milestone = _milestone(user, pk)
    permissions.ensure_allowed(user, permissions.DELETE, milestone)
    return _confirm_delete(
        request,
        milestone,
        delete=lambda: services.milestone_delete(actor=user, milestone=milestone),
        success_url=milestone.initiative.get_absolute_url(),
    )


@login_required
@form_methods
def milestone_progress(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    milestone = _milestone(user, pk)
    if not permissions.allowed(user, permissions.PROGRESS, milestone):
        raise PermissionDenied(
            f"Only the owner of “{milestone}”, the leads of {milestone.initiative.department} "
            "and the PMO can report progress on it."
        )
    form = forms.MilestoneProgressForm(
        form_data(request),
        initial={"status": milestone.status, "completed_date": milestone.completed_date},
    )
    if form.is_valid():
        updated = form.submit(
            lambda data: services.milestone_report_progress(
                actor=user, milestone=milestone, **data
            ),
        )
        if updated:
            messages.success(
                request, f"Progress recorded: “{updated}” is {updated.get_status_display()}."
            )
            return redirect(updated)
    return form_page(
        request,
        form,
        title=f"Report progress on {milestone}",
        submit="Record progress",
        cancel_url=milestone.initiative.get_absolute_url(),
        intro=f"{milestone.initiative} · due {milestone.due_date:%d %b %Y}",
        history=selectors.audit_history(subject=milestone),
    )
