"""The pages that write: log a decision (from scratch or answering an exception, with its
reallocation lines), decide a proposed one, supersede a decided one. Happy paths, the services'
refusals shown on the form, and every refusal writes nothing."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from decisions.models import Decision, LogEntry
from decisions.services import NO_OUTCOME
from tests.decisions.log_support import logged, review_day, tradeoff
from tests.decisions.pages.conftest import database_state, login
from tests.factories import PersonFactory
from tests.govern.pages.helpers import text

NEW = "/decisions/new/"


def _lines(*lines: dict, extra: int = 2) -> dict:
    """The reallocation formset's fields: `lines` filled in, then `extra` blank lines."""
    data = {"lines-TOTAL_FORMS": str(len(lines) + extra), "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for index, line in enumerate([*lines, *([{}] * extra)]):
        for name in ("from_initiative", "from_department", "to_initiative", "to_department",
                     "amount"):  # fmt: skip
            data[f"lines-{index}-{name}"] = str(line.get(name, ""))
        data[f"lines-{index}-unit"] = line.get("unit", "currency")
    return data


def _post(world, *lines: dict, **overrides) -> dict:
    """A complete decision within Sales answering the exception, as the form posts it."""
    data = {
        "title": "Discount the spring bundle",
        "department": world.sales.pk,
        "context": "Order intake is red for March.",
        "options_considered": "Wait\nDiscount the bundle",
        "chosen_option": "Discount the bundle by 10%",
        "rationale": "Competitors cut prices in February.",
        "kpis": [world.kpi.pk],
        "exception": world.exception.pk,
        "expected_kpi": world.kpi.pk,
        "expected_kind": "value",
        "expected_value": "120",
        "review_date": review_day().isoformat(),
        "mode": "decide",
        **_lines(*lines),
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


# --- Log a decision ---------------------------------------------------------------------------


def test_a_lead_logs_a_decision_with_its_lines(client, world):
    # given
    login(client, world, "lead")
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "2500.50", "unit": "currency"}  # fmt: skip

    # when
    response = client.post(NEW, _post(world, line))

    # then
    decision = Decision.objects.get()
    assert response.status_code == 302
    assert response.url == f"/decisions/{decision.pk}/"
    assert (decision.status, decision.decided_by_name, decision.decided_on) == (
        "decided", "Lea Lead", timezone.localdate(),
    )  # fmt: skip
    assert (decision.title, decision.chosen_option, decision.expected_value) == (
        "Discount the spring bundle", "Discount the bundle by 10%", 120.0,
    )  # fmt: skip
    assert list(decision.kpis.values_list("code", flat=True)) == ["SALES-INTAKE"]
    assert list(
        decision.reallocations.values_list(
            "from_initiative__name", "to_department__code", "amount", "unit"
        )
    ) == [("Spring campaign", "SALES", pytest.approx(2500.5), "currency")]
    world.exception.refresh_from_db()
    assert world.exception.status == "decided"
    assert LogEntry.objects.get().kind == "decision_decided"
    assert f"Logged D-{decision.pk}: Discount the spring bundle." in text(client.get(response.url))


def test_a_contributor_proposes_a_decision(client, world):
    # given
    login(client, world, "contributor")

    # when
    response = client.post(NEW, _post(world, mode="propose", exception=""))

    # then
    decision = Decision.objects.get()
    assert response.status_code == 302
    assert (decision.status, decision.proposed_by_name, decision.decided_by_name) == (
        "proposed", "Cora Contributor", "",
    )  # fmt: skip


def test_the_form_starts_from_the_exception(client, world):
    # given
    login(client, world, "lead")

    # when
    response = client.get(NEW + f"?exception={world.exception.pk}")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Log a decision on “SALES-INTAKE is red: Order intake”" in text(response)
    assert f'<option value="{world.exception.pk}" selected>' in html
    assert f'<option value="{world.sales.pk}" selected>Sales</option>' in html
    for name in ("kpis", "expected_kpi"):  # the outcome and the KPI expected to move
        select = html.split(f'name="{name}"')[1].split("</select>")[0]
        assert re.findall(r'<option value="(\d+)" selected>', select) == [str(world.kpi.pk)]
    assert "Required for this exception" not in html
    assert f'href="/exceptions/{world.exception.pk}/"' in html  # back to the exception


def test_an_exception_the_user_may_not_see_is_not_found(client, world):
    # given
    login(client, world, "other_lead")

    # when
    response = client.get(NEW + f"?exception={world.exception.pk}")

    # then
    assert response.status_code == 404


def test_a_decision_without_an_outcome_is_refused_and_nothing_is_written(client, world):
    # given
    login(client, world, "lead")
    before = database_state()

    # when
    response = client.post(NEW, _post(world, kpis=[]))

    # then
    assert response.status_code == 400
    assert NO_OUTCOME in text(response)
    assert database_state() == before


def test_the_services_field_messages_come_back_on_the_form(client, world):
    # given: a review date before the decision date
    login(client, world, "lead")
    before = database_state()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()

    # when
    response = client.post(NEW, _post(world, review_date=yesterday))

    # then
    assert response.status_code == 400
    assert (
        f"The review date must be after the decision date ({timezone.localdate():%d %b %Y})."
    ) in text(response)
    assert 'field--invalid">\n  \n  <label for="id_review_date">' in response.content.decode()
    assert database_state() == before


def test_a_trade_off_is_required_when_the_exception_asks_for_it(client, world):
    # given
    world.exception.tradeoff_required = True
    world.exception.save(update_fields=["tradeoff_required"])
    login(client, world, "lead")
    before = database_state()

    # when
    page = client.get(NEW + f"?exception={world.exception.pk}")
    refused = client.post(NEW, _post(world))

    # then
    assert "Trade-off: what is sacrificed Required for this exception" in text(page)
    assert refused.status_code == 400
    assert (
        "This exception needs a trade-off decision (its ripple crosses into another department): "
        "name the objective or initiative that is sacrificed."
    ) in text(refused)
    assert "This exception needs a trade-off decision: say what is sacrificed and why." in text(
        refused
    )
    assert database_state() == before


def test_a_line_without_a_source_is_refused_on_its_line(client, world):
    # given
    login(client, world, "lead")
    before = database_state()
    line = {"to_department": world.sales.pk, "amount": "10", "unit": "fte"}

    # when
    response = client.post(NEW, _post(world, line))

    # then
    assert response.status_code == 400
    assert "Say where the resources come from: an initiative or a department." in text(response)
    assert 'class="decision-line-form__invalid"' in response.content.decode()
    assert database_state() == before


def test_the_services_line_messages_come_back_on_the_line(client, world):
    # given: a second line that moves resources from Sales to Sales
    login(client, world, "lead")
    before = database_state()
    good = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "10", "unit": "fte"}  # fmt: skip
    same = {"from_department": world.sales.pk, "to_department": world.sales.pk,
            "amount": "10", "unit": "fte"}  # fmt: skip

    # when
    response = client.post(NEW, _post(world, good, same))

    # then
    assert response.status_code == 400
    rows = response.content.decode().split("<tr")
    invalid = [row for row in rows if row.startswith(' class="decision-line-form__invalid"')]
    assert len(invalid) == 1
    assert 'name="lines-1-amount"' in invalid[0]
    assert "The resources must go somewhere else." in invalid[0]
    assert database_state() == before


def test_add_a_line_shows_one_more_line_and_writes_nothing(client, world):
    # given
    login(client, world, "lead")
    before = database_state()

    # when
    response = client.post(NEW, {**_post(world, context=""), "add_line": "1"})

    # then: what was typed is kept, and nothing is judged before the form is submitted
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines-TOTAL_FORMS" value="3"' in html
    assert 'name="lines-2-amount"' in html
    assert 'value="Discount the spring bundle"' in html
    assert "field--invalid" not in html
    assert "This field is required." not in html
    assert database_state() == before


def test_a_lead_cannot_decide_across_departments_but_may_propose(client, world):
    # given: a trade-off on Procurement's objective
    login(client, world, "lead")
    before = database_state()

    # when
    refused = client.post(NEW, _post(world, **tradeoff(world)))
    after_refusal = database_state()
    proposed = client.post(NEW, _post(world, mode="propose", **tradeoff(world)))

    # then
    assert refused.status_code == 403
    assert (
        "You may not decide this: it crosses departments (a trade-off on Procurement's "
        "objective Reliable supply), so only an executive may decide it. Record it as proposed "
        "for an executive to decide."
    ) in text(refused)
    assert after_refusal == before
    assert proposed.status_code == 302
    decision = Decision.objects.get()
    assert (decision.status, decision.cross_department) == ("proposed", True)


@pytest.mark.parametrize("role", ["viewer", "nobody"])
def test_who_may_not_record_decisions_is_refused(client, world, role):
    # given
    if role == "nobody":
        client.force_login(PersonFactory())
    else:
        login(client, world, role)
    before = database_state()

    # when
    page = client.get(NEW)
    posted = client.post(NEW, _post(world))

    # then
    assert (page.status_code, posted.status_code) == (403, 403)
    assert database_state() == before


def test_a_department_the_user_may_not_record_for_is_not_offered(client, world):
    # given
    login(client, world, "lead")
    before = database_state()

    # when
    response = client.post(NEW, _post(world, department=world.procurement.pk))

    # then
    assert response.status_code == 400
    assert "Select a valid choice. That choice is not one of the available choices." in text(
        response
    )
    assert database_state() == before


# --- Decide -----------------------------------------------------------------------------------


def test_a_lead_decides_a_proposed_decision(client, world):
    # given
    decision = logged(world, world.contributor, propose=True)
    login(client, world, "lead")

    # when
    page = client.get(f"/decisions/{decision.pk}/decide/")
    response = client.post(
        f"/decisions/{decision.pk}/decide/", {"decide-note": "Go ahead, budget confirmed."}
    )

    # then
    assert page.status_code == 200
    assert 'id="decide"' in page.content.decode()
    assert response.status_code == 302
    decision.refresh_from_db()
    assert (decision.status, decision.decided_by_name) == ("decided", "Lea Lead")
    entries = list(LogEntry.objects.filter(decision=decision).values_list("kind", flat=True))
    assert entries == ["decision_proposed", "decision_decided"]
    world.exception.refresh_from_db()
    assert world.exception.status == "decided"
    assert "Go ahead, budget confirmed." in text(client.get(response.url))


@pytest.mark.parametrize(("role", "status"), [("contributor", 403), ("other_lead", 404)])
def test_who_may_not_decide_is_refused_and_nothing_changes(client, world, role, status):
    # given
    decision = logged(world, world.contributor, propose=True)
    login(client, world, role)
    before = database_state()

    # when
    page = client.get(f"/decisions/{decision.pk}/decide/")
    posted = client.post(f"/decisions/{decision.pk}/decide/", {"decide-note": ""})

    # then
    assert (page.status_code, posted.status_code) == (status, status)
    assert database_state() == before


def test_a_lead_cannot_decide_a_cross_department_proposal(client, world):
    # given
    decision = logged(world, world.lead, propose=True, **tradeoff(world))
    login(client, world, "lead")
    before = database_state()

    # when
    response = client.post(f"/decisions/{decision.pk}/decide/", {"decide-note": ""})

    # then
    assert response.status_code == 403
    assert "It crosses departments, so only an executive may decide it" in text(response)
    assert database_state() == before


def test_a_decided_decision_is_not_decided_again(client, world):
    # given
    decision = logged(world)
    login(client, world, "lead")
    before = database_state()

    # when
    response = client.post(f"/decisions/{decision.pk}/decide/", {"decide-note": ""})

    # then
    assert response.status_code == 409
    assert (
        f"D-{decision.pk}: Discount the spring bundle is decided; only a proposed decision can "
        "be decided."
    ) in text(response)
    assert database_state() == before


# --- Supersede --------------------------------------------------------------------------------


def test_the_correction_starts_from_the_old_decision(client, world):
    # given
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "2500", "unit": "currency"}  # fmt: skip
    old = logged(world, reallocations=[line])
    login(client, world, "lead")

    # when
    response = client.get(f"/decisions/{old.pk}/supersede/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Supersede D-{old.pk}: Discount the spring bundle" in text(response)
    assert 'value="Discount the spring bundle"' in html
    assert 'name="lines-0-amount" value="2500.00"' in html
    assert f'<option value="{world.initiative.pk}" selected>Spring campaign</option>' in html
    assert 'name="mode"' not in html  # a correction is decided by whoever supersedes


def test_a_lead_supersedes_a_decision(client, world):
    # given
    old = logged(world)
    login(client, world, "lead")

    # when
    response = client.post(
        f"/decisions/{old.pk}/supersede/",
        _post(world, title="Discount by 5% instead", chosen_option="Discount by 5%"),
    )

    # then
    assert response.status_code == 302
    new = Decision.objects.get(title="Discount by 5% instead")
    old.refresh_from_db()
    assert response.url == f"/decisions/{new.pk}/"
    assert (old.status, new.status, new.supersedes_id) == ("superseded", "decided", old.pk)
    assert old.superseded_by == new


@pytest.mark.parametrize(("role", "status"), [("contributor", 403), ("outsider", 404)])
def test_who_may_not_supersede_is_refused_and_nothing_is_written(client, world, role, status):
    # given
    old = logged(world)
    login(client, world, role)
    before = database_state()

    # when
    page = client.get(f"/decisions/{old.pk}/supersede/")
    posted = client.post(f"/decisions/{old.pk}/supersede/", _post(world, title="Mine"))

    # then
    assert (page.status_code, posted.status_code) == (status, status)
    assert database_state() == before


def test_a_proposed_decision_is_not_superseded(client, world):
    # given
    proposed = logged(world, world.contributor, propose=True)
    login(client, world, "lead")
    before = database_state()

    # when
    response = client.post(f"/decisions/{proposed.pk}/supersede/", _post(world, title="Mine"))

    # then
    assert response.status_code == 409
    assert "only a decided decision can be superseded" in text(response)
    assert database_state() == before


def test_a_refused_correction_writes_nothing(client, world):
    # given
    old = logged(world)
    login(client, world, "lead")
    before = database_state()

    # when
    response = client.post(f"/decisions/{old.pk}/supersede/", _post(world, kpis=[]))

    # then
    assert response.status_code == 400
    assert NO_OUTCOME in text(response)
    assert database_state() == before
