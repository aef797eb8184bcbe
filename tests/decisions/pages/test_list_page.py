"""The decision log for every role: what each sees, the chain banner (intact, or the first broken
row named), the filters, badges, empty states, pagination and a bounded number of queries."""

import re

import pytest
from django.db import connection

from decisions import chain
from decisions.services.effectiveness import decision_review_effectiveness
from tests.decisions.effectiveness.support import TODAY, seed
from tests.decisions.log_support import logged, tradeoff
from tests.decisions.pages.conftest import ROLES, SEES, login
from tests.govern.pages.helpers import text

LOG = "/decisions/"


def _ids(response) -> list[str]:
    return re.findall(r'<span class="kpi-code">(D-\d+)</span>', response.content.decode())


@pytest.mark.parametrize("role", ROLES)
def test_the_log_for_each_role(client, world, role):
    # given
    decision = logged(world, exception=None)
    login(client, world, role)

    # when
    response = client.get(LOG)

    # then
    assert response.status_code == 200
    if role in SEES:
        assert _ids(response) == [f"D-{decision.pk}"]
        assert "1 decision" in text(response)
    else:
        assert _ids(response) == []
        assert "No decisions logged yet." in text(response)
    # Everyone who may record a decision somewhere gets the button (a viewer may not).
    assert ('href="/decisions/new/"' in response.content.decode()) is (role != "viewer")


def test_a_decision_is_seen_in_the_departments_it_touches(client, world):
    # given: an executive's decision in Sales that takes budget from Procurement's initiative
    line = {"from_initiative": world.other_initiative.pk, "to_initiative": world.initiative.pk,
            "amount": "5000", "unit": "currency"}  # fmt: skip
    decision = logged(world, world.executive, exception=None, reallocations=[line])

    # when
    touched = login(client, world, "other_lead").get(LOG)
    untouched = login(client, world, "outsider").get(LOG)

    # then
    assert _ids(touched) == [f"D-{decision.pk}"]
    assert _ids(untouched) == []


def test_a_row_shows_outcomes_status_decider_effect_and_lines(client, world):
    # given
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "2500", "unit": "currency"}  # fmt: skip
    decision = logged(world, reallocations=[line])
    review = decision.review_date

    # when
    page = text(login(client, world, "viewer").get(LOG))

    # then
    assert (
        f"D-{decision.pk} Discount the spring bundle Sales · answers “SALES-INTAKE is red: Order "
        f"intake” SALES-INTAKE Decided {decision.decided_on:%-d %b %Y} Lea Lead Awaiting review "
        f"review {review:%-d %b %Y} 1"
    ) in page


def test_badges_carry_a_label_and_a_shape(client, world):
    # given
    logged(world, exception=None)
    logged(world, world.contributor, propose=True, exception=None, title="Proposed one")

    # when
    html = login(client, world, "lead").get(LOG).content.decode()

    # then
    assert (
        '<span class="badge badge-success decision-status" data-status="decided">Decided</span>'
    ) in html
    assert (
        '<span class="badge badge-info decision-status" data-status="proposed">Proposed</span>'
    ) in html
    assert (
        '<span class="badge badge-neutral decision-effectiveness" data-effectiveness="pending">'
        "Awaiting review</span>"
    ) in html


def test_the_banner_says_the_chain_verifies(client, world):
    # given
    logged(world, exception=None)
    logged(world, world.contributor, propose=True, exception=None, title="Proposed one")

    # when
    response = login(client, world, "viewer").get(LOG)

    # then
    assert "Log verified: 2 entries, chain intact." in text(response)
    assert 'class="alert alert-success chain-banner" role="status"' in response.content.decode()


def test_a_row_altered_in_the_database_is_named_in_a_red_alert(client, world):
    # given: the chosen option rewritten behind the services' back
    first = logged(world, exception=None)
    logged(world, exception=None, title="Second")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE decisions_decision SET chosen_option = %s WHERE id = %s",
            ["Discount the bundle by 30%", first.pk],
        )
    broken = chain.verify_chain().first_broken

    # when
    response = login(client, world, "pmo").get(LOG)

    # then
    page = text(response)
    assert "Log verified" not in page
    assert f"The decision log does not verify: entry #1, decision D-{first.pk}" in page
    assert broken.reason == (
        f"D-{first.pk} no longer matches its logged content (entry #1): chosen_option changed."
    )
    assert broken.reason in page
    assert (broken.sequence, broken.decision_id) == (1, first.pk)
    html = response.content.decode()
    assert 'class="alert alert-danger chain-banner" role="alert"' in html
    assert f'<a href="/decisions/{first.pk}/">D-{first.pk}</a>' in html


@pytest.fixture
def three(world):
    """A decided Sales decision, a proposed one, and one on Procurement's KPI by its lead."""
    decided = logged(world, exception=None, title="Discount the spring bundle")
    proposed = logged(
        world, world.contributor, propose=True, exception=None, title="Hire two inside sellers",
        kpis=[world.kpi.pk], expected_kpi=None, expected_kind="", expected_value=None,
        review_date=None,
    )  # fmt: skip
    procurement = logged(
        world, world.other_lead, exception=None, title="Qualify a second supplier",
        department=world.procurement.pk, kpis=[world.other_kpi.pk],
        expected_kpi=world.other_kpi.pk,
    )  # fmt: skip
    return decided, proposed, procurement


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("", ["Qualify a second supplier", "Hire two inside sellers",
              "Discount the spring bundle"]),
        ("?department={sales}", ["Hire two inside sellers", "Discount the spring bundle"]),
        ("?status=proposed", ["Hire two inside sellers"]),
        ("?status=decided", ["Qualify a second supplier", "Discount the spring bundle"]),
        ("?effectiveness=pending", ["Qualify a second supplier", "Hire two inside sellers",
                                    "Discount the spring bundle"]),
        ("?kpi={other_kpi}", ["Qualify a second supplier"]),
        ("?q=SELLERS", ["Hire two inside sellers"]),
        ("?q=spring&department={sales}&status=decided", ["Discount the spring bundle"]),
    ],
)  # fmt: skip
def test_the_filters(client, world, three, query, titles):
    # given
    login(client, world, "pmo")
    url = LOG + query.format(sales=world.sales.pk, other_kpi=world.other_kpi.pk)

    # when
    response = client.get(url)

    # then
    assert response.status_code == 200
    found = re.findall(
        r'</span> ([^<]+)</a>\s*<div class="muted small">', response.content.decode()
    )
    assert found == titles


def test_the_kpi_filter_offers_the_kpis_decisions_name(client, world, three):
    # given
    login(client, world, "pmo")

    # when
    html = client.get(LOG).content.decode()

    # then
    options = re.findall(
        r'<option value="(\d*)"[^>]*>([^<]+)</option>', html.split('name="kpi"')[1]
    )
    assert [label for _, label in options[: 1 + 2]] == [
        "All KPIs",
        "PROC-OTD — Supplier on-time delivery",
        "SALES-INTAKE — Order intake",
    ]


def test_the_effectiveness_verdicts_filter_and_show(client, department, lead, contributor):
    # given: four decisions reviewed on 1 Nov 2026 (see the effectiveness support's table)
    history = seed(department, lead, contributor)
    decision_review_effectiveness(today=TODAY)
    client.force_login(lead)

    # when
    effective = client.get(LOG + "?effectiveness=effective")
    ineffective = client.get(LOG + "?effectiveness=ineffective")

    # then
    assert _ids(effective) == [f"D-{history.dso_decision.pk}", f"D-{history.otd_variance.pk}"]
    assert _ids(ineffective) == [f"D-{history.otd_value.pk}"]
    assert (
        '<span class="badge badge-danger decision-effectiveness" data-effectiveness="ineffective">'
        "Ineffective</span>"
    ) in ineffective.content.decode()


def test_a_filter_that_matches_nothing_says_so(client, world, three):
    # given
    login(client, world, "lead")

    # when
    page = text(client.get(LOG + "?q=nothing-like-this"))

    # then
    assert "0 decisions match these filters" in page
    assert "No decisions match these filters. Clear filters to see them all." in page


def test_a_bad_filter_value_is_a_form_error(client, world, three):
    # given
    login(client, world, "lead")

    # when
    response = client.get(LOG + "?status=approved")

    # then
    assert response.status_code == 400
    assert "Select a valid choice. approved is not one of the available choices." in text(response)
    assert _ids(response) == []


def test_an_empty_log_invites_the_first_decision(client, world):
    # given
    login(client, world, "lead")

    # when
    response = client.get(LOG)

    # then
    page = text(response)
    assert "No decisions logged yet." in page
    assert "Log the first decision" in page
    assert "Log verified: 0 entries, chain intact." in page


def test_the_log_is_paginated(client, world, settings):
    # given
    settings.GOVERN_PAGE_SIZE = 2
    made = [logged(world, exception=None, title=f"Decision {n}") for n in range(3)]
    login(client, world, "lead")

    # when
    first = client.get(LOG)
    second = client.get(LOG + "?page=2")

    # then
    assert _ids(first) == [f"D-{made[2].pk}", f"D-{made[1].pk}"]
    assert _ids(second) == [f"D-{made[0].pk}"]
    assert "Page 1 of 2" in text(first)


def _many(world, n: int, start: int = 0):
    line = {"from_initiative": world.initiative.pk, "to_initiative": world.other_initiative.pk,
            "amount": "100", "unit": "fte"}  # fmt: skip
    for i in range(start, start + n):
        logged(world, world.executive, title=f"Decision {i}", reallocations=[line],
               kpis=[world.kpi.pk, world.other_kpi.pk], **tradeoff(world))  # fmt: skip


@pytest.mark.parametrize("role", ["lead", "pmo"])
def test_the_log_runs_a_bounded_number_of_queries(
    client, world, role, django_assert_max_num_queries
):
    # given: the same page with 3 and with 12 decisions (links, outcomes, lines on every row)
    login(client, world, role)
    _many(world, 3)
    with django_assert_max_num_queries(19):
        small = client.get(LOG)
    _many(world, 9, start=3)

    # when
    with django_assert_max_num_queries(19):
        large = client.get(LOG)

    # then
    assert len(_ids(small)) == 3
    assert len(_ids(large)) == 12
