"""GET /api/v1/ripple/: the ripple of one node for each role, the node by id or code, refusals
(400 malformed, 404 unknown or invisible, 401 anonymous) and a bounded number of queries."""

import pytest

from govern.choices import Role
from tests.dependencies.ripple_support import REACH_FROM_KPI, supply_chain
from tests.factories import InitiativeFactory, KpiExceptionFactory, KpiFactory, person_with_role

API = "/api/v1/ripple/"


@pytest.fixture
def chain(department, other_department):
    return supply_chain(department, other_department)


def _get(api_client, user, **params):
    api_client.force_authenticate(user)
    return api_client.get(API, params)


def _nodes(body) -> dict:
    return {n["key"]: n for n in body["nodes"]}


def test_the_pmo_sees_the_whole_ripple_of_a_kpi(api_client, pmo, chain):
    # when
    response = _get(api_client, pmo, node=f"kpi:{chain.kpi.pk}")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["start"]["label"] == "PROC-OTD — Supplier on-time"
    assert body["reach"] == REACH_FROM_KPI
    assert body["reached"] == 5
    assert body["truncated"] is False
    assert body["tradeoff_required"] is True
    assert [d["code"] for d in body["other_departments"]] == ["SALES"]
    assert body["counts"] == {
        "objective": 1, "initiative": 1, "milestone": 0, "kpi": 0, "contract": 1, "department": 2,
    }  # fmt: skip
    contract, initiative = f"contract:{chain.contract.pk}", f"initiative:{chain.initiative.pk}"
    objective = f"objective:{chain.objective.pk}"
    nodes = _nodes(body)
    assert nodes[objective]["path"] == [f"kpi:{chain.kpi.pk}", contract, initiative, objective]
    assert nodes[objective]["depth"] == 3
    assert nodes[contract] | {"exception": None} == nodes[contract]
    assert (nodes[contract]["via"], nodes[contract]["status"], nodes[contract]["tone"]) == (
        "measured_by", "agreed", "success",
    )  # fmt: skip
    assert nodes[contract]["url"] == f"/contracts/{chain.contract.pk}/"
    assert all(n["visible"] for n in body["nodes"])


def test_a_node_can_be_named_by_its_code(api_client, pmo, chain):
    by_code = {
        "kpi:PROC-OTD": f"kpi:{chain.kpi.pk}",
        "kpi:proc-otd": f"kpi:{chain.kpi.pk}",  # codes are capitals: any case finds them
        "contract:PROC-SALES-PARTS": f"contract:{chain.contract.pk}",
        "department:SALES": f"department:{chain.sales.pk}",
    }
    for node, key in by_code.items():
        response = _get(api_client, pmo, node=node)
        assert response.status_code == 200, node
        assert response.json()["start"]["key"] == key


def test_a_departments_ripple_starts_from_what_it_owns(api_client, pmo, chain):
    body = _get(api_client, pmo, node="department:PROC").json()

    nodes = _nodes(body)
    assert nodes[f"kpi:{chain.kpi.pk}"]["via"] == "owns"
    assert nodes[f"initiative:{chain.initiative.pk}"]["depth"] == 2
    assert [d["code"] for d in body["other_departments"]] == ["SALES"]


def test_nodes_the_user_may_not_see_come_with_type_and_department_only(
    api_client, chain, other_department
):
    # given a Procurement lead: the KPI and the contract are theirs, Sales' plan is not
    procurement_lead = person_with_role(Role.DEPARTMENT_LEAD, other_department)

    # when
    body = _get(api_client, procurement_lead, node=f"kpi:{chain.kpi.pk}").json()

    # then
    nodes = _nodes(body)
    assert (
        nodes[f"contract:{chain.contract.pk}"]["label"] == "PROC-SALES-PARTS — Parts for the launch"
    )
    hidden = nodes[f"initiative:{chain.initiative.pk}"]
    assert hidden == {
        "key": f"initiative:{chain.initiative.pk}", "type": "initiative",
        "id": chain.initiative.pk, "depth": 2,
        "path": [f"kpi:{chain.kpi.pk}", f"contract:{chain.contract.pk}",
                 f"initiative:{chain.initiative.pk}"],
        "via": "depends_on", "department": chain.sales.pk, "department_name": "Sales",
        "visible": False, "label": None, "url": None, "status": None, "status_label": None,
        "tone": "neutral", "exception": None,
    }  # fmt: skip
    assert nodes[f"objective:{chain.objective.pk}"]["visible"] is False
    assert body["tradeoff_required"] is True  # the summary still counts what it cannot show


@pytest.mark.parametrize("role", ["lead", "viewer", "contributor"])
def test_the_consumer_side_sees_the_contracts_ripple(api_client, chain, request, role):
    # given a member of Sales, the contract's consumer department
    user = request.getfixturevalue(role)

    # when
    response = _get(api_client, user, node=f"contract:{chain.contract.pk}")

    # then
    assert response.status_code == 200
    nodes = _nodes(response.json())
    assert nodes[f"initiative:{chain.initiative.pk}"]["label"] == "Launch"
    assert nodes[f"department:{chain.procurement.pk}"]["visible"] is False


@pytest.mark.parametrize("role", ["lead", "viewer", "outsider"])
def test_a_start_the_user_may_not_see_is_not_found(api_client, chain, request, role):
    # given PROC-OTD, a Procurement KPI, and someone outside Procurement
    user = request.getfixturevalue(role)

    # when
    response = _get(api_client, user, node="kpi:PROC-OTD")

    # then the same answer as for a KPI that does not exist
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    missing = _get(api_client, user, node="kpi:NO-SUCH-KPI")
    assert missing.status_code == 404


def test_an_executive_sees_everything(api_client, executive, chain):
    body = _get(api_client, executive, node=f"milestone:{chain.milestone.pk}").json()

    assert [n["key"] for n in body["nodes"] if n["visible"]] == [
        f"department:{chain.sales.pk}", f"initiative:{chain.initiative.pk}",
        f"objective:{chain.objective.pk}",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ("", "Say which node"),
        ("kpi", "is not a node"),
        ("kpi:", "is not a node"),
        ("widget:3", "is not a node"),
        ("kpi: 3", "is not a node"),
        ("milestone:SHIP", "A milestone is named by its id"),
    ],
)
def test_a_malformed_node_is_a_400(api_client, pmo, chain, node, message):
    response = _get(api_client, pmo, node=node)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert message in error["message"]
    assert list(error["fields"]) == ["node"]


@pytest.mark.parametrize("depth", ["0", "-1", "two", "51"])
def test_a_bad_depth_is_a_400(api_client, pmo, chain, depth):
    response = _get(api_client, pmo, node="kpi:PROC-OTD", depth=depth)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "depth": ["Give a depth between 1 and 50, or none for the whole ripple."]
    }


def test_depth_limits_the_ripple(api_client, pmo, chain):
    body = _get(api_client, pmo, node="kpi:PROC-OTD", depth=1).json()

    # in node order: by type name, then id
    assert [n["key"] for n in body["nodes"]] == [
        f"contract:{chain.contract.pk}", f"department:{chain.procurement.pk}",
    ]  # fmt: skip
    assert body["max_depth"] == 1
    assert body["reach"] == 4.0
    assert body["tradeoff_required"] is False


def test_an_unknown_node_is_a_404(api_client, pmo, chain):
    assert _get(api_client, pmo, node="initiative:999999").status_code == 404


def test_a_node_outside_the_graph_has_an_empty_ripple(api_client, pmo, chain):
    # given an inactive KPI: it exists, but carries no trouble
    kpi = KpiFactory(department=chain.sales, is_active=False)

    body = _get(api_client, pmo, node=f"kpi:{kpi.pk}").json()

    assert (body["reached"], body["reach"], body["nodes"]) == (0, 0.0, [])
    assert body["start"]["department_name"] == "Sales"


def test_open_exceptions_colour_the_nodes(api_client, pmo, chain):
    # given the KPI in red
    exception = KpiExceptionFactory(kpi=chain.kpi, kind="kpi_red", severity=12.5)

    body = _get(api_client, pmo, node=f"contract:{chain.contract.pk}").json()

    assert body["start"]["exception"] is None
    kpi_body = _get(api_client, pmo, node=f"kpi:{chain.kpi.pk}").json()
    assert kpi_body["start"]["exception"] == {
        "id": exception.pk, "kind": "kpi_red", "kind_label": "KPI red", "severity": 12.5,
        "url": f"/exceptions/{exception.pk}/", "tone": "danger",
    }  # fmt: skip
    assert kpi_body["start"]["tone"] == "danger"


def test_anonymous_is_refused(api_client, chain):
    response = api_client.get(API, {"node": "kpi:PROC-OTD"})

    assert response.status_code == 401


def test_the_number_of_queries_does_not_grow_with_the_ripple(
    api_client, pmo, chain, django_assert_max_num_queries
):
    # given a warm graph and a small ripple
    api_client.force_authenticate(pmo)
    api_client.get(API, {"node": "kpi:PROC-OTD"})
    with django_assert_max_num_queries(10):
        small = api_client.get(API, {"node": "kpi:PROC-OTD"})

    # when 30 more initiatives depend on the contract
    for _ in range(30):
        chain.contract.consumer_initiatives.add(
            InitiativeFactory(department=chain.sales, objectives=[chain.objective])
        )
    api_client.get(API, {"node": "kpi:PROC-OTD"})  # the graph is rebuilt once
    with django_assert_max_num_queries(10):
        large = api_client.get(API, {"node": "kpi:PROC-OTD"})

    # then
    assert (small.json()["reached"], large.json()["reached"]) == (5, 35)


def test_the_ripple_is_documented_with_its_errors(api_client, db):
    # when
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    # then
    operation = schema["paths"]["/api/v1/ripple/"]["get"]
    assert sorted(operation["responses"]) == ["200", "400", "401", "403", "404"]
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for code in ("400", "401", "403", "404"):
        assert operation["responses"][code]["content"]["application/json"]["schema"] == error
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["node"]["required"] is True
    assert parameters["depth"]["schema"] == {"type": "integer"}
    assert list(schema["paths"]["/api/v1/ripple/"]) == ["get"]
