"""The review session pages at the HTTP boundary: the list (upcoming first, filters, empty state,
bounded queries), planning a session, the agenda walk (decide, defer, note inline with htmx and as
a plain POST), refusals that write nothing, the closed session, the minutes and the pack."""

import datetime as dt

import pytest
from django.utils import timezone

from decisions.choices import AgendaOutcome, DecisionStatus, SessionStatus
from decisions.models import AgendaItem, Decision, ReviewSession
from decisions.services import sessions as services
from kpis.choices import ExceptionStatus
from tests.decisions.sessions.support import item_for, plan, started, state, tomorrow_at_nine
from tests.factories import KpiExceptionFactory, KpiFactory
from tests.govern.pages.helpers import text

HTMX = {"HX-Request": "true"}


def _url(session, action: str = "") -> str:
    return f"/sessions/{session.pk}/" + (f"{action}/" if action else "")


def _item_url(item, action: str) -> str:
    return f"/sessions/{item.session_id}/items/{item.pk}/{action}/"


def _decision_form(item, **overrides) -> dict:
    prefix = f"item{item.pk}-"
    data = {
        "title": "Discount the spring bundle",
        "chosen_option": "Discount the bundle by 10%",
        "rationale": "Competitors cut prices in February.",
        "line_unit": "currency",
        **overrides,
    }
    return {prefix + name: value for name, value in data.items()}


@pytest.fixture
def walking(world):
    """A Sales session in progress, chaired by the Sales lead, with the open Sales exception."""
    session = started(world.pmo, departments=[world.sales.pk], chair=world.lead.pk)
    return session, item_for(session, world.exception)


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_upcoming_sessions_first_then_past_ones(client, world):
    # given: a later one, a sooner one, and a closed one
    plan(world.pmo, title="Gamma", scheduled_for=tomorrow_at_nine() + dt.timedelta(days=20))
    plan(world.pmo, title="Beta")
    past = started(world.pmo, title="Alpha")
    services.session_close(actor=world.pmo, session=past, summary="Done.")
    client.force_login(world.pmo)

    # when
    page = text(client.get("/sessions/"))

    # then
    rows = page[page.index("Upcoming") :]
    titles = [
        word for word in rows.split() if word in ("Upcoming", "Past", "Alpha", "Beta", "Gamma")
    ]
    assert titles == ["Upcoming", "Beta", "Gamma", "Past", "Alpha"]


def test_the_list_filters_by_cadence_and_status(client, world):
    # given
    plan(world.pmo, title="Weekly ops")
    plan(world.pmo, title="Monthly business review", cadence="monthly_business")
    client.force_login(world.pmo)

    # when
    monthly = text(client.get("/sessions/", {"cadence": "monthly_business"}))
    closed = client.get("/sessions/", {"status": "closed"})

    # then
    assert "1 session matches these filters" in monthly
    assert "Monthly business review" in monthly
    assert "Weekly ops" not in monthly
    assert "No sessions match these filters." in text(closed)


def test_the_empty_list_invites_the_pmo_to_plan_one(client, world):
    # given
    client.force_login(world.pmo)

    # when
    page = text(client.get("/sessions/"))

    # then
    assert "No review sessions yet." in page
    assert "Plan the first session" in page


def test_a_department_sees_its_sessions_and_the_whole_organisation_s(client, world):
    # given
    plan(world.pmo, title="Sales review", departments=[world.sales.pk])
    plan(world.pmo, title="Procurement review", departments=[world.procurement.pk])
    plan(world.pmo, title="Company review")
    client.force_login(world.viewer)

    # when
    page = text(client.get("/sessions/"))

    # then
    assert "Sales review" in page
    assert "Company review" in page
    assert "Procurement review" not in page
    assert "Plan a session" not in page


def test_the_list_runs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    # given
    for n in range(12):
        plan(world.pmo, title=f"Review {n}", departments=[world.sales.pk, world.procurement.pk])
    client.force_login(world.pmo)

    # when
    with django_assert_max_num_queries(12):
        response = client.get("/sessions/")

    # then
    assert response.status_code == 200
    assert text(response).count("Procurement, Sales") == 12


def test_the_session_page_runs_a_bounded_number_of_queries(
    client, world, django_assert_max_num_queries
):
    # given: an organisation-wide session with several exceptions
    for n in range(8):
        KpiExceptionFactory(kpi=KpiFactory(department=world.sales), severity=20.0 + n)
    session = started(world.pmo, agenda_share=1.0)
    client.force_login(world.lead)

    # when
    with django_assert_max_num_queries(25):
        response = client.get(_url(session))

    # then
    assert response.status_code == 200
    assert AgendaItem.objects.filter(session=session).count() == 9
    assert text(response).count("Owner: ") == 9


# --- Planning ---------------------------------------------------------------------------------


def test_the_pmo_plans_a_session_and_lands_on_its_agenda(client, world):
    # given
    client.force_login(world.pmo)
    when = tomorrow_at_nine()

    # when
    response = client.post(
        "/sessions/new/",
        {
            "title": "",
            "cadence": "weekly_operations",
            "scheduled_for": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
            "departments": [world.sales.pk],
            "attendees": [world.lead.pk],
            "agenda_share": "0.2",
        },
    )

    # then
    session = ReviewSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url(session)
    assert session.title == f"Weekly operations review, {timezone.localtime(when):%d %b %Y}"
    assert session.chair == world.pmo
    assert set(session.attendees.all()) == {world.lead, world.pmo}
    page = text(client.get(_url(session)))
    assert "SALES-INTAKE is red: Order intake" in page


def test_planning_refuses_a_past_date_and_a_bad_share_and_writes_nothing(client, world):
    # given
    client.force_login(world.pmo)
    before = state()
    yesterday = timezone.localtime() - dt.timedelta(days=1)

    # when
    response = client.post(
        "/sessions/new/",
        {
            "cadence": "weekly_operations",
            "scheduled_for": yesterday.strftime("%Y-%m-%dT%H:%M"),
            "agenda_share": "1.5",
        },
    )

    # then
    page = text(response)
    assert response.status_code == 400
    assert "A session is planned for today or later." in page
    assert "The agenda share must be more than 0 and at most 1 (0.2: the worst 20%)." in page
    assert state() == before


def test_a_department_lead_may_not_plan_a_session(client, world):
    # given
    client.force_login(world.lead)

    # when
    response = client.get("/sessions/new/")

    # then
    assert response.status_code == 403


# --- Walking the agenda -----------------------------------------------------------------------


def test_the_chair_decides_an_item_inline_with_htmx(client, world, walking):
    # given
    session, item = walking
    client.force_login(world.lead)

    # when
    opened = client.get(_item_url(item, "decide"), headers=HTMX)
    response = client.post(
        _item_url(item, "decide"),
        _decision_form(item, kpi=world.kpi.pk, line_from_initiative=world.initiative.pk,
                       line_to_department=world.sales.pk, line_amount="2500"),
        headers=HTMX,
    )  # fmt: skip

    # then: the row alone comes back, decided, naming the decision
    decision = Decision.objects.get()
    html = response.content.decode()
    assert opened.status_code == 200
    assert f'id="agenda-item-{item.pk}"' in opened.content.decode()
    assert "Log the decision" in opened.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(
        f'<li class="agenda-item agenda-item--decided" id="agenda-item-{item.pk}"'
    )
    assert "<html" not in html
    row = text(response)
    assert f"Decided D-{decision.pk} Discount the spring bundle Discount the bundle by 10%" in row
    assert "2500.00 Currency: Spring campaign → Sales" in row
    assert decision.review_session == session
    assert decision.exception == world.exception
    assert decision.status == DecisionStatus.DECIDED
    assert list(decision.kpis.all()) == [world.kpi]
    assert decision.context == (
        f"Open exception on the agenda of “{session}” "
        f"({timezone.localtime(session.scheduled_for):%d %b %Y}): "
        "SALES-INTAKE is red: Order intake."
    )
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.DECIDED
    item.refresh_from_db()
    assert (item.outcome, item.outcome_decision_id) == (AgendaOutcome.DECIDED, decision.pk)


def test_the_pmo_decides_an_item_without_javascript(client, world, walking):
    # given
    session, item = walking
    client.force_login(world.pmo)

    # when: the KPI defaults to the exception's
    form = client.get(_item_url(item, "decide"))
    response = client.post(_item_url(item, "decide"), _decision_form(item, kpi=world.kpi.pk))

    # then
    assert form.status_code == 200
    assert "<html" in form.content.decode()
    assert f'<option value="{world.kpi.pk}" selected>' in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == f"{_url(session)}#agenda-item-{item.pk}"
    page = text(client.get(_url(session)))
    decision = Decision.objects.get()
    assert f"Decided D-{decision.pk} Discount the spring bundle" in page
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.DECIDED


def test_a_decision_without_authority_is_403_and_proposing_is_explicit(client, world):
    # given: a Sales contributor chairs: they run the session but may not decide for Sales
    session = started(world.executive, departments=[world.sales.pk], chair=world.contributor.pk)
    item = item_for(session, world.exception)
    client.force_login(world.contributor)
    before = state()

    # when
    refused = client.post(
        _item_url(item, "decide"), _decision_form(item, kpi=world.kpi.pk), headers=HTMX
    )
    after_refusal = state()
    proposed = client.post(
        _item_url(item, "decide"), _decision_form(item, kpi=world.kpi.pk, propose="on"),
        headers=HTMX,
    )  # fmt: skip

    # then
    assert refused.status_code == 403
    assert (
        "You may not decide this: only a lead of Sales, the PMO or an executive may decide "
        "Sales's decisions. Record it as proposed for them to decide."
    ) in text(refused)
    assert after_refusal == before
    assert proposed.status_code == 200
    decision = Decision.objects.get()
    assert decision.status == DecisionStatus.PROPOSED
    assert decision.review_session == session
    assert "Proposed: awaiting a decision" in text(proposed)
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.OPEN


def test_a_decision_missing_its_essentials_shows_the_messages_and_writes_nothing(
    client, world, walking
):
    # given
    _, item = walking
    client.force_login(world.lead)
    before = state()

    # when
    response = client.post(
        _item_url(item, "decide"),
        _decision_form(item, title="", chosen_option="", rationale="", kpi=""),
        headers=HTMX,
    )

    # then
    page = text(response)
    assert response.status_code == 400
    assert page.count("This field is required.") == 3
    assert "A decision must name at least one outcome (KPI) it is meant to move." in page
    assert state() == before


def test_defer_requires_an_owner_and_a_date(client, world, walking):
    # given
    _, item = walking
    client.force_login(world.lead)
    before = state()
    prefix = f"item{item.pk}-"

    # when
    refused = client.post(
        _item_url(item, "defer"), {prefix + "owner": "", prefix + "deferred_to": ""}, headers=HTMX
    )
    same_day = client.post(
        _item_url(item, "defer"),
        {
            prefix + "owner": world.contributor.pk,
            prefix + "deferred_to": timezone.localdate(tomorrow_at_nine()).isoformat(),
        },
    )

    # then
    assert refused.status_code == 400
    page = text(refused)
    assert "Name who owns the deferred item." in page
    assert "Say by when it comes back." in page
    assert same_day.status_code == 400
    held_on = timezone.localdate(tomorrow_at_nine())
    assert f"Defer it to a date after the session ({held_on:%d %b %Y})." in text(same_day)
    assert state() == before


def test_an_item_is_deferred_to_an_owner_and_a_date(client, world, walking):
    # given
    _session, item = walking
    client.force_login(world.lead)
    prefix = f"item{item.pk}-"
    day = timezone.localdate() + dt.timedelta(days=14)

    # when
    response = client.post(
        _item_url(item, "defer"),
        {prefix + "owner": world.contributor.pk, prefix + "deferred_to": day.isoformat(),
         prefix + "note": "Wait for the April actuals."},
        headers=HTMX,
    )  # fmt: skip

    # then
    assert response.status_code == 200
    row = text(response)
    assert f"Deferred to Cora Contributor, comes back by {day:%-d %b %Y}" in row
    assert "Wait for the April actuals." in row
    item.refresh_from_db()
    assert (item.outcome, item.action_owner, item.deferred_to) == (
        "deferred",
        world.contributor,
        day,
    )
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.OPEN


def test_an_item_is_noted(client, world, walking):
    # given
    _session, item = walking
    client.force_login(world.lead)

    # when
    response = client.post(
        _item_url(item, "note"), {f"item{item.pk}-note": "Seasonal; back next month."}
    )

    # then
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.outcome, item.note) == ("noted", "Seasonal; back next month.")


def test_items_are_walked_only_while_the_session_is_in_progress(client, world):
    # given
    session = plan(world.pmo, departments=[world.sales.pk])
    item = item_for(session, world.exception)
    client.force_login(world.pmo)
    before = state()

    # when
    opened = client.get(_item_url(item, "note"))
    posted = client.post(_item_url(item, "note"), {f"item{item.pk}-note": "x"})

    # then
    assert opened.status_code == posted.status_code == 409
    assert "has not started yet: start it to walk its agenda." in text(opened)
    assert "has not started yet: start it to note its agenda items." in text(posted)
    assert state() == before


def test_a_closed_session_refuses_every_change(client, world, walking):
    # given
    session, item = walking
    client.force_login(world.pmo)
    closed = client.post(_url(session, "close"), {"minutes_summary": "Agreed the discount."})
    before = state()

    # when
    note = client.post(_item_url(item, "note"), {f"item{item.pk}-note": "late"}, headers=HTMX)
    decide = client.post(_item_url(item, "decide"), _decision_form(item, kpi=world.kpi.pk))
    again = client.post(_url(session, "close"), {"minutes_summary": "Again"})
    start = client.post(_url(session, "start"))
    regenerate = client.post(_url(session, "agenda"))
    edit = client.get(_url(session, "edit"))

    # then
    assert closed.status_code == 302
    assert closed["Location"] == _url(session, "minutes")
    message = f"“{session.title}” is closed: its minutes are final and nothing on it changes."
    assert note.status_code == 409
    assert message in text(note)
    assert decide.status_code == 409
    assert message in text(decide)
    assert again.status_code == start.status_code == regenerate.status_code == 409
    assert message in text(again)
    assert edit.status_code == 409
    assert state() == before


def test_closing_needs_a_summary(client, world, walking):
    # given
    session, _ = walking
    client.force_login(world.pmo)
    before = state()

    # when
    response = client.post(_url(session, "close"), {"minutes_summary": "  "})

    # then
    assert response.status_code == 400
    assert "Summarise the session for its minutes." in text(response)
    assert state() == before
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_someone_who_may_not_run_the_session_cannot_walk_it(client, world, walking):
    # given: the viewer sees the Sales session but does not run it
    session, item = walking
    client.force_login(world.viewer)
    before = state()

    # when
    page = client.get(_url(session))
    refused = client.post(_item_url(item, "note"), {f"item{item.pk}-note": "x"})

    # then
    assert page.status_code == 200
    assert "Log a decision" not in text(page)
    assert refused.status_code == 403
    assert state() == before


# --- Minutes and the pack ---------------------------------------------------------------------


@pytest.fixture
def walked(world):
    """A Sales session in progress with two items: the first decided (with a reallocation), the
    second deferred."""
    other = KpiExceptionFactory(
        kpi=KpiFactory(code="SALES-MARGIN", name="Gross margin", department=world.sales),
        severity=4.0,
    )
    session = started(world.pmo, departments=[world.sales.pk], chair=world.lead.pk, agenda_share=1)
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "1500", "unit": "currency"}  # fmt: skip
    decided = services.agenda_item_decide(
        actor=world.lead,
        item=item_for(session, world.exception),
        data={"title": "Discount the bundle", "chosen_option": "10% off for March",
              "rationale": "Competitors cut prices.", "reallocations": [line]},
    )  # fmt: skip
    deferred = services.agenda_item_defer(
        actor=world.lead,
        item=item_for(session, other),
        owner=world.contributor,
        deferred_to=timezone.localdate() + dt.timedelta(days=7),
        note="Wait for the margin report.",
    )
    return session, decided, deferred


def test_the_minutes_list_what_was_decided_and_deferred_with_owners(client, world, walked):
    # given
    session, decided, deferred = walked
    client.force_login(world.viewer)

    # when
    page = text(client.get(_url(session, "minutes")))

    # then
    decision = decided.outcome_decision
    day = deferred.deferred_to
    assert "Decided (1)" in page
    assert (
        f"1 SALES-INTAKE is red: Order intake Sales D-{decision.pk} Discount the bundle 10% off "
        "for March Decided by Lea Lead Cora Contributor 1500.00 Currency: Spring campaign → Sales"
    ) in page
    assert "Deferred (1)" in page
    assert (
        f"2 SALES-MARGIN is red: Gross margin Sales Cora Contributor {day:%-d %b %Y} Wait for the "
        "margin report."
    ) in page
    assert "Still pending (0)" in page
    assert "Draft minutes: the session is in progress" in page


def test_the_csv_pack_escapes_formulas(client, world):
    # given: an exception whose title starts like a formula
    KpiExceptionFactory(
        kpi=KpiFactory(department=world.sales),
        title='=HYPERLINK("http://evil.example","x")',
        severity=50.0,
    )
    session = plan(world.pmo, departments=[world.sales.pk], agenda_share=1.0)
    client.force_login(world.pmo)

    # when
    response = client.get(_url(session, "pack.csv").rstrip("/"))

    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = body.splitlines()
    assert lines[0] == (
        "position,kind,title,department,severity,owner,outcome,decision,decision_status,"
        "chosen_option,reallocations,deferred_to,note"
    )
    assert lines[1].startswith('1,Open exception,"\'=HYPERLINK(""http://evil.example"",""x"")",')
    assert lines[2].startswith("2,Open exception,SALES-INTAKE is red: Order intake,Sales,10.0,")


def test_the_pdf_pack_is_a_pdf(client, world, walked):
    # given
    session, _, _ = walked
    client.force_login(world.pmo)

    # when
    response = client.get(_url(session, "pack.pdf").rstrip("/"))

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 1000
