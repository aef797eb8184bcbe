"""`ripple_of` beyond the API's view: a ripple cut at `limit` nodes lists the nearest and still
counts them all, and every node's link is the page `reverse` gives."""

import pytest
from django.urls import reverse

from dependencies.ripple_selectors import ripple_of
from tests.dependencies.ripple_support import REACH_FROM_KPI, supply_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(department, other_department):
    return supply_chain(department, other_department)


def test_a_cut_ripple_lists_the_nearest_nodes_and_sums_up_all_of_them(pmo, chain):
    # when PROC-OTD's ripple (5 nodes) is listed up to 2 nodes
    result = ripple_of(user=pmo, node="kpi:PROC-OTD", limit=2)

    # then the two at depth 1 are listed, dressed; the summary covers all five
    assert [(n.key, n.depth, n.label) for n in result.nodes] == [
        (f"contract:{chain.contract.pk}", 1, "PROC-SALES-PARTS — Parts for the launch"),
        (f"department:{chain.procurement.pk}", 1, chain.procurement.name),
    ]
    assert (result.total, result.truncated, result.reach) == (5, True, REACH_FROM_KPI)
    assert result.counts == {
        "objective": 1, "initiative": 1, "milestone": 0, "kpi": 0, "contract": 1, "department": 2,
    }  # fmt: skip
    assert [d.code for d in result.other_departments] == [chain.sales.code]


def test_every_node_links_to_its_page(pmo, chain):
    # when the ripples of the milestone "Ship" and of PROC-OTD are read
    ship = ripple_of(user=pmo, node=f"milestone:{chain.milestone.pk}")
    otd = ripple_of(user=pmo, node="kpi:PROC-OTD")

    # then each link is the one `reverse` gives for the node's page
    initiative = reverse("initiative-detail", args=[chain.initiative.pk])
    assert ship.start.url == f"{initiative}#milestone-{chain.milestone.pk}"
    assert {n.key: n.url for n in ship.nodes} == {
        f"initiative:{chain.initiative.pk}": initiative,
        f"department:{chain.sales.pk}": reverse("department-detail", args=[chain.sales.pk]),
        f"objective:{chain.objective.pk}": reverse("objective-detail", args=[chain.objective.pk]),
    }
    assert otd.start.url == reverse("kpi-detail", args=[chain.kpi.pk])
    assert {n.key: n.url for n in otd.nodes}[f"contract:{chain.contract.pk}"] == reverse(
        "contract-detail", args=[chain.contract.pk]
    )
    assert {d.code: d.url for d in otd.departments} == {
        chain.procurement.code: reverse("department-detail", args=[chain.procurement.pk]),
        chain.sales.code: reverse("department-detail", args=[chain.sales.pk]),
    }
