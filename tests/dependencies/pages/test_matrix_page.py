"""The dependency matrix: provider rows × consumer columns, each cell the count and the worst
health of the contracts the reader may see, linking to the list narrowed to that pair."""

import re

import pytest

from dependencies.charts import matrix_chart
from dependencies.choices import ContractStatus
from dependencies.models import Contract
from dependencies.selectors import Matrix, MatrixCell
from tests.dependencies.contract_support import draft
from tests.dependencies.pages.conftest import login, more_contracts
from tests.factories import DepartmentFactory, PersonFactory
from tests.govern.pages.helpers import text

MATRIX = "/contracts/matrix/"


def _cells(response) -> dict[tuple[str, str], str]:
    """{(provider, consumer): "count worst"} from the cells' accessible names."""
    found = re.findall(
        r'aria-label="([^"]+) to ([^"]+): (\d+) contracts?, worst ([a-z ]+)"',
        response.content.decode(),
    )
    return {(p, c): f"{n} {worst}" for p, c, n, worst in found}


@pytest.fixture
def mixed(world, in_force):
    """Procurement → Sales: the agreed one and one at risk; Sales → Procurement: a draft;
    Procurement → HR: a breached one (the Sales side does not see it); one cancelled."""
    hr = world.outsider.memberships.get().department
    more_contracts(world, 1, status=ContractStatus.AT_RISK)
    more_contracts(world, 1, start=1, status=ContractStatus.CANCELLED)
    draft(
        world, code="SALES-PROC-FORECAST", provider_department=world.consumer,
        provider_owner=world.consumer_owner, consumer_department=world.provider,
        consumer_owner=world.provider_owner, provider_milestones=[], provider_initiatives=[],
        consumer_initiatives=[], consumer_milestones=[], consumer_kpis=[],
    )  # fmt: skip
    to_hr = draft(
        world, code="PROC-HR-LAPTOPS", consumer_department=hr, consumer_owner=world.outsider,
        consumer_initiatives=[], consumer_milestones=[], consumer_kpis=[],
    )  # fmt: skip
    Contract.objects.filter(pk=to_hr.pk).update(status=ContractStatus.BREACHED)
    return hr


def test_the_pmo_sees_every_pair_with_its_count_and_worst_health(client, world, mixed):
    # given
    login(client, world, "pmo")

    # when
    response = client.get(MATRIX)

    # then
    assert response.status_code == 200
    assert _cells(response) == {
        ("Procurement", "Sales"): "2 at risk",
        ("Sales", "Procurement"): "1 draft",
        ("Procurement", "HR"): "1 breached",
    }
    html = response.content.decode()
    assert (
        f'href="/contracts/?provider={world.provider.pk}&amp;consumer={world.consumer.pk}'
        '&amp;status=open"'
    ) in html
    assert "2 At risk" in text(response)


def test_a_side_sees_only_the_pairs_of_its_departments(client, world, mixed):
    # given
    login(client, world, "viewer")

    # when
    response = client.get(MATRIX)

    # then
    assert _cells(response) == {
        ("Procurement", "Sales"): "2 at risk",
        ("Sales", "Procurement"): "1 draft",
    }
    assert "HR" not in text(response)


def test_closed_contracts_are_counted_on_request(client, world, mixed):
    # given
    login(client, world, "consumer_lead")

    # when
    response = client.get(f"{MATRIX}?closed=1")

    # then
    assert _cells(response)[("Procurement", "Sales")] == "3 at risk"
    assert (
        f'href="/contracts/?provider={world.provider.pk}&amp;consumer={world.consumer.pk}"'
    ) in response.content.decode()


def test_a_cell_opens_the_list_of_exactly_its_contracts(client, world, mixed):
    # given
    login(client, world, "pmo")

    # when
    response = client.get(
        f"/contracts/?provider={world.provider.pk}&consumer={world.consumer.pk}&status=open"
    )

    # then
    codes = re.findall(r'<span class="kpi-code">([A-Z0-9-]+)</span>', response.content.decode())
    assert codes == ["BULK-000", "PROC-SALES-CASTINGS"]


def test_the_heat_map_is_drawn_from_the_same_figures(client, world, mixed):
    # given
    login(client, world, "pmo")

    # when
    response = client.get(MATRIX)

    # then
    html = response.content.decode()
    assert 'id="matrix-chart-data" type="application/json"' in html
    # rows and columns HR, Procurement, Sales
    assert (
        '"text": [["", "", ""], ["1 \\u00b7 Breached", "", "2 \\u00b7 At risk"], '
        '["", "1 \\u00b7 Draft", ""]]'
    ) in html


def test_an_empty_matrix_says_so(client, world):
    # given
    client.force_login(PersonFactory())

    # when
    response = client.get(MATRIX)

    # then
    assert response.status_code == 200
    assert "No open contracts between departments you can see." in text(response)
    assert "matrix-chart-data" not in response.content.decode()


def test_the_matrix_runs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    # given
    login(client, world, "pmo")
    counts = []
    for n in (1, 6):
        for i in range(n):
            provider = DepartmentFactory()
            more_contracts(world, 1, start=100 * n + i)
            Contract.objects.filter(code=f"BULK-{100 * n + i:03d}").update(
                provider_department=provider
            )
        # when
        with django_assert_max_num_queries(8) as captured:
            response = client.get(MATRIX)
        # then
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_the_heat_map_labels_each_cell_with_its_count_and_health_in_words():
    # given
    departments = [
        {"id": 1, "code": "PROC", "name": "Procurement"},
        {"id": 2, "code": "PROD", "name": "Production"},
    ]
    matrix = Matrix(
        departments=departments,
        cells={(1, 2): MatrixCell(count=3, worst=ContractStatus.BREACHED)},
    )

    # when
    figure = matrix_chart(matrix)

    # then
    trace = figure["data"][0]
    assert trace["type"] == "heatmap"
    assert trace["x"] == ["Procurement", "Production"] == trace["y"]
    assert trace["text"] == [["", "3 · Breached"], ["", ""]]
    assert trace["z"] == [[None, 0.5], [None, None]]
    assert trace["customdata"][0][1] == "Procurement → Production: 3 contracts, worst: Breached"
    assert trace["colorbar"]["ticktext"][0] == "Breached"
