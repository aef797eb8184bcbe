"""The ripple pages: the htmx panel and the full view with its Sankey chart, for each role; and
the panel's placeholder on the exception, KPI and initiative (milestone) pages."""

import pytest
from django.test import Client

from govern.choices import Role
from tests.dependencies.ripple_support import supply_chain
from tests.factories import InitiativeFactory, KpiExceptionFactory, KpiFactory, person_with_role

PANEL = "/ripple/panel/"
PAGE = "/ripple/"


@pytest.fixture
def chain(department, other_department):
    return supply_chain(department, other_department)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The panel --------------------------------------------------------------------------------


def test_the_panel_lists_what_a_kpi_reaches(pmo, chain):
    # when
    response = _client(pmo).get(PANEL, {"node": f"kpi:{chain.kpi.pk}"})

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "Trade-off decision required" in html
    assert "It reaches <strong>Sales</strong>." in html
    assert '<span class="ripple-reach">5.8</span>' in html
    assert (
        f'<a href="/contracts/{chain.contract.pk}/">PROC-SALES-PARTS — Parts for the launch</a>'
        in html
    )
    assert f'<a href="/initiatives/{chain.initiative.pk}/">Launch</a>' in html
    assert "via PROC-SALES-PARTS → Launch" in html  # the objective's path
    assert "3 steps away" in html
    assert f'href="/ripple/?node=kpi:{chain.kpi.pk}"' in html
    assert "No downstream dependencies" not in html


def test_the_panel_empty_state(pmo, department):
    # given a KPI that measures nothing
    kpi = KpiFactory(department=department)

    response = _client(pmo).get(PANEL, {"node": f"kpi:{kpi.pk}"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "No downstream dependencies" in html
    assert "Trade-off decision required" not in html


def test_the_panel_hides_what_the_reader_may_not_see(chain, other_department):
    # given a Procurement lead
    procurement_lead = person_with_role(Role.DEPARTMENT_LEAD, other_department)

    html = _client(procurement_lead).get(PANEL, {"node": "kpi:PROC-OTD"}).content.decode()

    assert "An initiative in Sales" in html
    assert "Launch" not in html
    assert "Grow" not in html


@pytest.mark.parametrize(
    ("node", "status", "message"),
    [
        ("kpi:PROC-OTD", 404, "This node does not exist, or you may not see it."),
        ("kpi:NOPE", 404, "This node does not exist, or you may not see it."),
        ("nonsense", 400, "is not a node"),
    ],
)
def test_the_panel_explains_a_refusal_in_place(lead, chain, node, status, message):
    # given a Sales lead, who may not see Procurement's KPI
    response = _client(lead).get(PANEL, {"node": node})

    assert response.status_code == status
    assert message in response.content.decode()


def test_the_panel_needs_a_login(chain):
    response = Client().get(PANEL, {"node": "kpi:PROC-OTD"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/ripple/panel/")


def test_the_panel_query_count_does_not_grow(pmo, chain, django_assert_max_num_queries):
    # session, user, scope, the start, the departments, one per node type (≤ 6), the open
    # exceptions, and the layout's plan version and unread count: 14 whatever the ripple's size
    client = _client(pmo)
    client.get(PANEL, {"node": "kpi:PROC-OTD"})  # warm: the graph is built once
    with django_assert_max_num_queries(14):
        client.get(PANEL, {"node": "kpi:PROC-OTD"})
    for _ in range(25):
        chain.contract.consumer_initiatives.add(
            InitiativeFactory(department=chain.sales, objectives=[chain.objective])
        )
    client.get(PANEL, {"node": "kpi:PROC-OTD"})
    with django_assert_max_num_queries(14):
        response = client.get(PANEL, {"node": "kpi:PROC-OTD"})
    # the contract, 26 initiatives and the objective: 28 listed, 15 shown
    assert "And 13 more further away." in response.content.decode()


# --- The full view ----------------------------------------------------------------------------


def test_the_ripple_view_draws_the_paths(pmo, chain):
    # when
    response = _client(pmo).get(PAGE, {"node": "contract:PROC-SALES-PARTS"})

    # then
    assert response.status_code == 200
    figure = response.context["chart"]
    sankey = figure["data"][0]
    assert sankey["type"] == "sankey"
    assert sankey["node"]["label"] == ["PROC-SALES-PARTS", "Launch", "Grow"]
    assert (sankey["link"]["source"], sankey["link"]["target"]) == ([0, 1], [1, 2])
    assert sankey["link"]["value"] == [2, 1]  # two nodes reached through the initiative
    html = response.content.decode()
    assert 'data-chart="ripple-chart-data"' in html
    assert figure["layout"]["height"] == 360  # the smallest: one node per column
    assert "Reached nodes" in html
    assert f'<a href="/objectives/{chain.objective.pk}/">Grow</a>' in html


def test_the_ripple_view_without_a_node_asks_for_one(pmo):
    response = _client(pmo).get(PAGE)

    assert response.status_code == 200
    assert "Pick a node" in response.content.decode()


def test_the_ripple_view_shows_a_malformed_node_on_the_form(pmo, chain):
    response = _client(pmo).get(PAGE, {"node": "kpi", "depth": "3"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="ripple-node-error"' in html
    assert "Use &lt;type&gt;:&lt;id&gt;" in html


def test_the_ripple_view_is_not_found_for_an_invisible_start(outsider, chain):
    assert _client(outsider).get(PAGE, {"node": "kpi:PROC-OTD"}).status_code == 404


def test_the_ripple_view_empty_state(pmo, department):
    kpi = KpiFactory(department=department)

    response = _client(pmo).get(PAGE, {"node": f"kpi:{kpi.pk}"})

    assert response.status_code == 200
    assert response.context["chart"] is None
    assert "No downstream dependencies" in response.content.decode()


# --- The placeholders on other pages ----------------------------------------------------------


def test_the_exception_page_loads_the_panel_of_its_subject(pmo, chain):
    exception = KpiExceptionFactory(kpi=chain.kpi)

    html = _client(pmo).get(f"/exceptions/{exception.pk}/").content.decode()

    assert f'hx-get="/ripple/panel/?node=kpi%3A{chain.kpi.pk}"' in html
    assert "Loading what this exception's subject reaches downstream…" in html


def test_the_kpi_page_loads_its_panel(pmo, chain):
    html = _client(pmo).get(f"/kpis/{chain.kpi.pk}/").content.decode()

    assert f'hx-get="/ripple/panel/?node=kpi%3A{chain.kpi.pk}"' in html


def test_the_initiative_page_loads_its_panel_and_each_milestones(pmo, chain):
    html = _client(pmo).get(f"/initiatives/{chain.initiative.pk}/").content.decode()

    assert f'hx-get="/ripple/panel/?node=initiative%3A{chain.initiative.pk}"' in html
    assert f'hx-get="/ripple/panel/?node=milestone:{chain.milestone.pk}"' in html
    assert 'hx-trigger="toggle once from:closest details"' in html
