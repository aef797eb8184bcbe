"""Contract selectors: the scoped list with its filters and order, the version diff, the
department matrix and the actions each role may take."""

import pytest
from django.core.exceptions import ValidationError

from dependencies import selectors
from dependencies.choices import ContractStatus
from dependencies.models import Contract
from dependencies.services import amendments
from govern.permissions import scope_for
from tests.dependencies.contract_support import agreed, draft, proposed
from tests.factories import ContractFactory


def _codes(queryset) -> list[str]:
    return [c.code for c in queryset]


@pytest.fixture
def portfolio(world):
    """Five contracts in every health state; one between two departments nobody here belongs to."""
    make = ContractFactory
    return {
        "agreed": make(
            code="A-AGREED",
            provider_department=world.provider,
            consumer_department=world.consumer,
            status=ContractStatus.AGREED,
        ),
        "breached": make(
            code="Z-BREACHED",
            provider_department=world.provider,
            consumer_department=world.consumer,
            status=ContractStatus.BREACHED,
        ),
        "at_risk": make(
            code="M-AT-RISK",
            provider_department=world.consumer,
            consumer_department=world.provider,
            status=ContractStatus.AT_RISK,
            consumer_owner=world.provider_owner,
        ),
        "draft": make(
            code="B-DRAFT",
            provider_department=world.provider,
            consumer_department=world.consumer,
            provider_owner=world.provider_owner,
        ),
        "elsewhere": make(code="C-ELSEWHERE", status=ContractStatus.CANCELLED),
    }


def test_the_list_shows_the_worst_health_first_then_by_code(world, portfolio):
    # when
    codes = _codes(selectors.contract_list(user=world.pmo))

    # then
    assert codes == ["Z-BREACHED", "M-AT-RISK", "B-DRAFT", "A-AGREED", "C-ELSEWHERE"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("executive", ["Z-BREACHED", "M-AT-RISK", "B-DRAFT", "A-AGREED", "C-ELSEWHERE"]),
        ("viewer", ["Z-BREACHED", "M-AT-RISK", "B-DRAFT", "A-AGREED"]),
        ("provider_owner", ["Z-BREACHED", "M-AT-RISK", "B-DRAFT", "A-AGREED"]),
        ("outsider", []),
    ],
)
def test_the_list_is_scoped_to_the_departments_party_to_it(world, portfolio, role, expected):
    # when
    codes = _codes(selectors.contract_list(user=world.role(role)))

    # then
    assert codes == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "in_force"}, ["Z-BREACHED", "M-AT-RISK", "A-AGREED"]),
        ({"status": "draft"}, ["B-DRAFT"]),
        ({"status": "closed"}, ["C-ELSEWHERE"]),
        ({"q": "at-risk"}, ["M-AT-RISK"]),
        ({"department": "SALES_ID", "side": "provider"}, ["M-AT-RISK"]),
        ({"department": "SALES_ID", "side": "consumer"}, ["Z-BREACHED", "B-DRAFT", "A-AGREED"]),
        ({"department": "SALES_ID"}, ["Z-BREACHED", "M-AT-RISK", "B-DRAFT", "A-AGREED"]),
    ],
)
def test_the_list_filters(world, portfolio, filters, expected):
    # given
    filters = {k: world.consumer.pk if v == "SALES_ID" else v for k, v in filters.items()}

    # when
    codes = _codes(selectors.contract_list(user=world.pmo, filters=filters))

    # then
    assert codes == expected


def test_side_without_a_department_means_my_own_side(world, portfolio):
    # when: the Procurement contributor's provider side: Procurement provides, or they own it
    mine = _codes(selectors.contract_list(user=world.provider_owner, filters={"side": "provider"}))
    theirs = _codes(
        selectors.contract_list(user=world.provider_owner, filters={"side": "consumer"})
    )

    # then
    assert mine == ["Z-BREACHED", "B-DRAFT", "A-AGREED"]
    assert theirs == ["M-AT-RISK"]


def test_a_bad_filter_is_a_field_error(world):
    # when
    with pytest.raises(ValidationError) as exc:
        list(selectors.contract_list(user=world.pmo, filters={"status": "sleeping"}))

    # then
    assert list(exc.value.message_dict) == ["status"]


def test_the_list_runs_a_fixed_number_of_queries(world, portfolio, django_assert_num_queries):
    # given
    for n in range(6):
        ContractFactory(code=f"EXTRA-{n}")
    pmo = world.pmo
    list(selectors.contract_list(user=pmo))  # the user's scope is read once, then cached

    # when / then: the rows, then one query per linked list, however many rows
    with django_assert_num_queries(6):
        rows = list(selectors.contract_list(user=pmo))
        assert len(rows) == 11
        for row in rows:
            _ = (row.provider_department.name, row.consumer_owner, row.plan_version.name)
            _ = list(row.consumer_kpis.all())


def test_version_compare_flags_exactly_the_changed_terms(world):
    # given
    contract = agreed(world)
    amendment = amendments.amendment_propose(
        actor=world.pmo,
        contract=contract,
        changes={"due_date": "2026-09-30", "consumer_kpis": ["SALES-FILL", "SALES-NPS"]},
        reason="Q3",
    )
    amendments.amendment_override(actor=world.pmo, amendment=amendment, reason="Board")
    contract.refresh_from_db()

    # when
    rows = selectors.version_compare(contract=contract, a=1, b=2)

    # then
    assert [row["field"] for row in rows if row["changed"]] == ["due_date", "consumer_kpis"]
    assert len(rows) == len(Contract.TERM_FIELDS)
    due = next(row for row in rows if row["field"] == "due_date")
    assert due == {
        "field": "due_date",
        "label": "Due date",
        "a": "2026-06-30",
        "b": "2026-09-30",
        "a_text": "30 Jun 2026",
        "b_text": "30 Sep 2026",
        "changed": True,
    }
    kpis = next(row for row in rows if row["field"] == "consumer_kpis")
    assert kpis["b_text"] == "SALES-FILL — Order fill rate, SALES-NPS — Customer NPS"
    assert selectors.version_compare(contract=contract, a=2, b=2)[0]["changed"] is False


def test_a_rename_is_not_a_changed_term(world):
    # given: the same ids with other labels
    terms = {"consumer_kpis": [{"id": 1, "label": "Old name"}], "criticality": 3}
    renamed = {"consumer_kpis": [{"id": 1, "label": "New name"}], "criticality": 3.0}

    # when
    from dependencies.terms import compare

    rows = {row["field"]: row["changed"] for row in compare(terms, renamed)}

    # then
    assert rows["consumer_kpis"] is False
    assert rows["criticality"] is False


def test_comparing_a_version_that_does_not_exist_says_which_exist(world):
    # given
    contract = agreed(world)

    # when
    with pytest.raises(ValidationError) as exc:
        selectors.version_compare(contract=contract, a=1, b=3)

    # then
    assert exc.value.message_dict == {
        "compare": ["PROC-SALES-CASTINGS has no version 3; it has version 1 only."]
    }


@pytest.mark.parametrize("value", ["1", "1,2,3", "a,b", "0,1", ""])
def test_a_bad_compare_value_is_a_field_error(value):
    # when
    with pytest.raises(ValidationError) as exc:
        selectors.parse_compare(value)

    # then
    assert list(exc.value.message_dict) == ["compare"]


def test_the_matrix_counts_contracts_and_keeps_the_worst_status(world, portfolio):
    # when
    matrix = selectors.contract_matrix(user=world.pmo)

    # then
    assert [d["name"] for d in matrix.departments] == ["Procurement", "Sales"]
    cell = matrix.cells[(world.provider.pk, world.consumer.pk)]
    assert (cell.count, cell.worst, cell.worst_label) == (3, "breached", "Breached")
    reverse = matrix.cells[(world.consumer.pk, world.provider.pk)]
    assert (reverse.count, reverse.worst) == (1, "at_risk")
    assert matrix.rows()[0][1] == [None, cell]


def test_the_matrix_is_one_query_and_scoped(world, portfolio, django_assert_num_queries):
    # given
    outsider = world.outsider
    scope_for(world.pmo)  # the user's scope is read once per request, then cached

    # when
    with django_assert_num_queries(1):
        matrix = selectors.contract_matrix(user=world.pmo, include_closed=True)
    hidden = selectors.contract_matrix(user=outsider)

    # then
    assert sum(cell.count for cell in matrix.cells.values()) == 5
    assert hidden.cells == {}


@pytest.mark.parametrize(
    ("role", "state", "expected"),
    [
        ("pmo", "draft", {"edit", "delete", "propose", "cancel"}),
        ("provider_lead", "draft", {"propose"}),
        ("viewer", "draft", set()),
        ("pmo", "proposed", {"edit", "cancel"}),
        ("provider_owner", "proposed", {"agree"}),
        ("consumer_lead", "proposed", {"agree"}),
        ("executive", "proposed", set()),
        ("pmo", "agreed", {"fulfil", "amend", "cancel"}),
        ("provider_owner", "agreed", {"fulfil", "amend"}),
        ("consumer_owner", "agreed", {"amend"}),
        ("outsider", "agreed", set()),
    ],
)
def test_contract_actions_per_role_and_state(world, role, state, expected):
    # given
    contract = {"draft": draft, "proposed": proposed, "agreed": agreed}[state](world)

    # when
    actions = selectors.contract_actions(world.role(role), contract)

    # then
    assert actions == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("pmo", {"fulfil", "cancel", "override", "withdraw"}),
        ("consumer_lead", {"respond", "withdraw"}),
        ("provider_owner", {"fulfil", "respond"}),
        ("viewer", set()),
    ],
)
def test_contract_actions_with_a_pending_amendment(world, role, expected):
    # given
    contract = agreed(world)
    pending = amendments.amendment_propose(
        actor=world.consumer_lead, contract=contract, changes={"criticality": 5}, reason="Key"
    )

    # when
    actions = selectors.contract_actions(world.role(role), contract, pending=pending)

    # then
    assert actions == expected


def test_a_side_that_has_answered_may_not_respond_again(world):
    # given
    contract = agreed(world)
    pending = amendments.amendment_propose(
        actor=world.consumer_lead, contract=contract, changes={"criticality": 5}, reason="Key"
    )
    pending = amendments.amendment_respond(
        actor=world.consumer_owner, amendment=pending, accept=True
    )

    # when
    actions = selectors.contract_actions(world.consumer_lead, contract, pending=pending)

    # then
    assert actions == {"withdraw"}


def test_the_pending_amendment_is_found(world):
    # given
    contract = agreed(world)
    assert selectors.pending_amendment(user=world.pmo, contract=contract) is None
    pending = amendments.amendment_propose(
        actor=world.consumer_lead, contract=contract, changes={"criticality": 5}, reason="Key"
    )

    # when
    found = selectors.pending_amendment(user=world.viewer, contract=contract)
    rows = selectors.amendment_diff(amendment=found)

    # then
    assert found == pending
    assert [(r["field"], r["a_text"], r["b_text"]) for r in rows] == [("criticality", "4", "5")]
    assert selectors.contract_get(user=world.viewer, pk=contract.pk).has_pending_amendment is True
