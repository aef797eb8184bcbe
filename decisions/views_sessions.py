"""Review session pages: the sessions (upcoming first, then past), plan and edit one, the session
page where the agenda is walked (each item decided, deferred or noted inline with htmx, or as a
plain POST and redirect without JavaScript), the printable minutes and the pack as PDF and CSV.

Thin like `decisions.views`: reads through `decisions.selectors_sessions`, one service per
write; buttons come from `selectors_sessions.session_actions`, and the services check again
(their refusals come back as form errors: 400, 403 without authority, 409 when the session's
state forbids it).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from decisions import forms_sessions as forms
from decisions import pack
from decisions import selectors_sessions as selectors
from decisions.choices import SessionCadence, SessionStatus
from decisions.filtersets_sessions import ReviewSessionFilterSet
from decisions.models import AgendaItem, ReviewSession
from decisions.services import sessions as services
from govern import permissions
from govern.errors import ApplicationError, ConflictError
from govern.selectors import audit_history
from govern.views import filter_form, form_data, form_methods, paginate

LIST_FILTERS = ("q", "cadence", "status")
ITEM_FORMS = {
    "decide": forms.ItemDecideForm,
    "defer": forms.ItemDeferForm,
    "note": forms.ItemNoteForm,
}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _scope_text(session: ReviewSession) -> str:
    names = [d.name for d in session.departments.all()]
    return ", ".join(names) if names else "the whole organisation"


# --- The sessions -----------------------------------------------------------------------------


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    """Upcoming sessions first (soonest first), then past ones; filters by cadence, status and
    text."""
    user = request.user
    form = filter_form(
        ReviewSessionFilterSet,
        request,
        {
            "cadence": ["All cadences", *SessionCadence.choices],
            "status": ["All statuses", *SessionStatus.choices],
        },
    )
    filters = {n: request.GET[n] for n in LIST_FILTERS if request.GET.get(n, "").strip()}
    items, status = [], 200
    if form.is_valid():
        items = selectors.session_list(user=user, filters=filters)
    else:
        status = 400
    return render(
        request,
        "decisions/sessions/list.html",
        {
            "filter_form": form,
            "page": paginate(request, items),
            "filtered": bool(filters),
            "can_add": permissions.can_add(user, ReviewSession),
            "now": timezone.now(),
        },
        status=status,
    )


def _form_page(request, form, *, title, intro, submit, cancel_url, status=200):
    return render(
        request,
        "govern/form_page.html",
        {
            "form": form,
            "title": title,
            "intro": intro,
            "submit": submit,
            "cancel_url": cancel_url,
            "history": None,
        },
        status=status,
    )


def _status(request: HttpRequest, form) -> int:
    if request.method != "POST":
        return 200
    return getattr(form, "refusal_status", 400)


@login_required
@form_methods
def session_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_add(user, ReviewSession):
        raise PermissionDenied("Only the PMO and executives plan review sessions.")
    form = forms.SessionForm(form_data(request), user=user)
    if request.method == "POST" and form.is_valid():
        session = form.submit(lambda data: services.session_create(actor=user, data=form.content()))
        if session:
            count = session.agenda_items.count()
            messages.success(request, f"Planned “{session}”; its agenda has {count} items.")
            return redirect(session)
    return _form_page(
        request,
        form,
        title="Plan a review session",
        intro=(
            "The agenda is generated from what is open in the scope: the worst open exceptions "
            "(the agenda share of them), the decisions due for their effectiveness review and the "
            "contracts at risk. It can be generated again until the session starts."
        ),
        submit="Plan the session",
        cancel_url=reverse("session-list"),
        status=_status(request, form),
    )


@login_required
@form_methods
def session_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    session = selectors.session_get(user=user, pk=pk, for_write=True)
    if session.status != SessionStatus.PLANNED:
        raise ConflictError(
            f"“{session}” has started: its scope, date and attendees change only while it is "
            "planned.",
            code="session_started",
        )
    form = forms.SessionForm(form_data(request), user=user, initial=forms.session_initial(session))
    if request.method == "POST" and form.is_valid():
        updated = form.submit(
            lambda data: services.session_update(actor=user, session=session, data=form.content())
        )
        if updated:
            messages.success(request, f"Saved “{updated}”.")
            return redirect(updated)
    return _form_page(
        request,
        form,
        title=f"Edit {session}",
        intro="A new date, scope or agenda share generates the agenda again.",
        submit="Save changes",
        cancel_url=session.get_absolute_url(),
        status=_status(request, form),
    )


# --- The session page -------------------------------------------------------------------------


def _detail(request, session: ReviewSession, *, close_form=None, status: int = 200):
    user = request.user
    items = list(selectors.agenda_items(session=session))
    actions = selectors.session_actions(user, session)
    if selectors.CLOSE in actions and close_form is None:
        close_form = forms.CloseForm()
    minutes = selectors.session_minutes(session=session, items=items)
    return render(
        request,
        "decisions/sessions/detail.html",
        {
            "session": session,
            "items": items,
            "minutes": minutes,
            "actions": actions,
            "walk": selectors.WALK in actions,
            "close_form": close_form if selectors.CLOSE in actions else None,
            "visible": selectors.visible_subjects(user, items),
            "scope": _scope_text(session),
            "history": _history(session, items),
        },
        status=status,
    )


def _history(session: ReviewSession, items: list[AgendaItem]):
    """The session's events and its items' (decided, deferred, noted), newest first."""
    return audit_history(subject=session, related=items, limit=20)


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.session_get(user=request.user, pk=pk))


@login_required
@require_POST
def session_agenda(request: HttpRequest, pk: int) -> HttpResponse:
    """Generate the agenda again (planned sessions)."""
    user = request.user
    session = selectors.session_get(user=user, pk=pk, for_write=True)
    services.session_generate_agenda(actor=user, session=session)
    count = session.agenda_items.count()
    messages.success(request, f"Generated the agenda again: {count} items.")
    return redirect(session)


@login_required
@require_POST
def session_start(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    session = selectors.session_get(user=user, pk=pk, for_write=True)
    services.session_start(actor=user, session=session)
    messages.success(request, "The session has started: walk the agenda.")
    return redirect(session)


@login_required
@require_POST
def session_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close with the summary; a missing summary shows on the form (400). A session that is not
    in progress answers 409, someone who may not run it 403: nothing is written."""
    user = request.user
    session = selectors.session_get(user=user, pk=pk, for_write=True)
    form = forms.CloseForm(request.POST)
    if form.is_valid():
        try:
            closed = services.session_close(
                actor=user, session=session, summary=form.cleaned_data["minutes_summary"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Closed the session: its minutes are final.")
            return redirect("session-minutes", pk=closed.pk)
    return _detail(request, selectors.session_get(user=user, pk=pk), close_form=form, status=400)


# --- Walking the agenda -----------------------------------------------------------------------


def _item_form(kind: str, request, user, item: AgendaItem):
    data = form_data(request)
    if kind == "decide":
        return forms.ItemDecideForm(
            data, user=user, item=item, kpis=selectors.default_outcome_kpis(item)
        )
    if kind == "defer":
        return forms.ItemDeferForm(data, user=user, item=item)
    return forms.ItemNoteForm(data, item=item)


def _write(kind: str, user, item: AgendaItem, form):
    if kind == "decide":
        return form.submit(
            lambda data: services.agenda_item_decide(
                actor=user, item=item, data=form.content(), propose=form.propose_now
            )
        )
    if kind == "defer":
        return form.submit(
            lambda data: services.agenda_item_defer(
                actor=user,
                item=item,
                owner=data["owner"],
                deferred_to=data["deferred_to"],
                note=data["note"],
            )
        )
    return form.submit(
        lambda data: services.agenda_item_note(actor=user, item=item, note=data["note"])
    )


def _ensure_walkable(user, session: ReviewSession) -> None:
    """403 for someone who may not run the session; 409 when it is not in progress."""
    if selectors.WALK in selectors.session_actions(user, session):
        return
    if not permissions.allowed(user, permissions.CHANGE, session):
        raise PermissionDenied(
            f"You may not run “{session}”: the PMO, executives and its chair run a session."
        )
    if session.status == SessionStatus.CLOSED:
        raise ConflictError(
            f"“{session}” is closed: its minutes are final and nothing on it changes.",
            code="session_closed",
        )
    raise ConflictError(
        f"“{session}” has not started yet: start it to walk its agenda.",
        code="session_not_started",
    )


def _item_view(request: HttpRequest, pk: int, item_pk: int, kind: str) -> HttpResponse:
    """GET: the item with its form (the row for htmx, a page otherwise). POST: write; the row
    again for htmx, a redirect to the item on the session page otherwise; a refusal shows the
    form with its errors (400, 403 or 409) and writes nothing."""
    user = request.user
    session = selectors.session_get(user=user, pk=pk)
    item = selectors.agenda_item_get(user=user, session=session, pk=item_pk)
    if request.method == "GET":
        try:
            _ensure_walkable(user, session)
        except (ApplicationError, PermissionDenied) as exc:
            if not _is_htmx(request):
                raise
            code = getattr(exc, "status_code", 403)
            return _row(
                request, session, item, status=code, error=getattr(exc, "message", str(exc))
            )
    form = _item_form(kind, request, user, item)
    status = 200
    if request.method == "POST":
        done = _write(kind, user, item, form) if form.is_valid() else None
        if done is not None:
            if _is_htmx(request):
                fresh = selectors.session_get(user=user, pk=pk)
                return _row(request, fresh, done)
            messages.success(request, f"{done.get_outcome_display()}: {done.title}.")
            return redirect(f"{session.get_absolute_url()}#agenda-item-{item.pk}")
        status = getattr(form, "refusal_status", 400)
        session = selectors.session_get(user=user, pk=pk)  # what is stored now
        item = selectors.agenda_item_get(user=user, session=session, pk=item_pk)
    context = {
        "session": session,
        "item": item,
        "form": form,
        "form_kind": kind,
        "form_url": reverse(f"session-item-{kind}", args=[session.pk, item.pk]),
        "walk": selectors.WALK in selectors.session_actions(user, session),
        "visible": selectors.visible_subjects(user, [item]),
    }
    template = (
        "decisions/sessions/_item.html" if _is_htmx(request) else "decisions/sessions/item.html"
    )
    return render(request, template, context, status=status)


def _row(
    request, session: ReviewSession, item: AgendaItem, *, status: int = 200, error: str = ""
) -> HttpResponse:
    """The item's row alone (htmx), with `error` in it when an action was refused."""
    return render(
        request,
        "decisions/sessions/_item.html",
        {
            "session": session,
            "item": item,
            "walk": selectors.WALK in selectors.session_actions(request.user, session),
            "visible": selectors.visible_subjects(request.user, [item]),
            "error": error,
        },
        status=status,
    )


@login_required
@form_methods
def item_decide(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    return _item_view(request, pk, item_pk, "decide")


@login_required
@form_methods
def item_defer(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    return _item_view(request, pk, item_pk, "defer")


@login_required
@form_methods
def item_note(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    return _item_view(request, pk, item_pk, "note")


# --- Minutes and the pack ---------------------------------------------------------------------


def _minutes(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    return session, selectors.session_minutes(session=session)


@login_required
def session_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable minutes: decided (decision, owner, reallocations), deferred (owner, date),
    noted, still pending."""
    session, minutes = _minutes(request, pk)
    return render(
        request,
        "decisions/sessions/minutes.html",
        {
            "session": session,
            "minutes": minutes,
            "scope": _scope_text(session),
            "visible": selectors.visible_subjects(request.user, minutes.items),
            "printed_at": timezone.now(),
        },
    )


def _filename(session: ReviewSession, extension: str) -> str:
    day = timezone.localtime(session.scheduled_for)
    return f"review-session-{session.pk}-{day:%Y-%m-%d}-{slugify(session.title)[:40]}.{extension}"


@login_required
def session_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    session, minutes = _minutes(request, pk)
    body = pack.pack_pdf(minutes, scope=_scope_text(session))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_filename(session, "pdf")}"'
    return response


@login_required
def session_csv(request: HttpRequest, pk: int) -> HttpResponse:
    session, minutes = _minutes(request, pk)
    response = HttpResponse(pack.pack_csv(minutes.items), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(session, "csv")}"'
    return response
