"""The dependency graph built from the database, its cache and its invalidation."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction

from dependencies import graph as graph_module
from dependencies.engine.ripple import ripple
from dependencies.graph import VERSION_KEY, graph, invalidate_graph, rebuild
from tests.dependencies.ripple_support import supply_chain
from tests.factories import ContractFactory, KpiFactory, MilestoneFactory

pytestmark = pytest.mark.django_db


def edges(index) -> set[tuple[str, str, str]]:
    found = set()
    for source, key in enumerate(index.keys):
        start, end = index.indptr[source], index.indptr[source + 1]
        for position in range(start, end):
            target = index.keys[index.targets[position]]
            found.add((key, target, index.kind_names[index.kinds[position]]))
    return found


def test_rebuild_draws_every_edge_type(department, other_department):
    # given the supply chain, plus a provider milestone and a consumer KPI and milestone
    chain = supply_chain(department, other_department)
    provider_milestone = MilestoneFactory(initiative__department=other_department)
    consumer_kpi = KpiFactory(department=department)
    consumer_kpi.objectives.set([chain.objective])
    consumer_kpi.initiatives.set([chain.initiative])
    chain.contract.provider_milestones.set([provider_milestone])
    chain.contract.provider_initiatives.set([provider_milestone.initiative])
    chain.contract.consumer_kpis.set([consumer_kpi])
    chain.contract.consumer_milestones.set([chain.milestone])

    # when
    index = rebuild()

    # then
    k, c, i = (
        f"kpi:{chain.kpi.pk}",
        f"contract:{chain.contract.pk}",
        f"initiative:{chain.initiative.pk}",
    )
    o, m = f"objective:{chain.objective.pk}", f"milestone:{chain.milestone.pk}"
    pm, pi = f"milestone:{provider_milestone.pk}", f"initiative:{provider_milestone.initiative_id}"
    ck = f"kpi:{consumer_kpi.pk}"
    sales, proc = f"department:{department.pk}", f"department:{other_department.pk}"
    assert edges(index) == {
        (k, c, "measured_by"), (c, i, "depends_on"), (c, m, "depends_on"), (c, ck, "depends_on"),
        (pm, c, "produces"), (pi, c, "produces"), (pm, pi, "part_of"), (m, i, "part_of"),
        (i, o, "serves"), (ck, o, "measures"), (ck, i, "measures"),
        (k, proc, "owned_by"), (c, proc, "owned_by"), (pm, proc, "owned_by"),
        (pi, proc, "owned_by"), (i, sales, "owned_by"), (m, sales, "owned_by"),
        (o, sales, "owned_by"), (ck, sales, "owned_by"),
    }  # fmt: skip
    assert index.department_of(c) == other_department.pk  # a contract is the provider's
    assert index.department_of(m) == department.pk  # a milestone is its initiative's
    assert index.department_of(sales) == department.pk


def test_rebuild_takes_the_same_number_of_queries_whatever_the_size(
    department, other_department, django_assert_num_queries
):
    # given a graph, then three times more of everything
    supply_chain(department, other_department)
    with django_assert_num_queries(14):
        rebuild()
    for _ in range(3):
        contract = ContractFactory(status="agreed")
        contract.consumer_kpis.set([KpiFactory()])
        contract.provider_milestones.set([MilestoneFactory()])

    # when / then
    with django_assert_num_queries(14):
        index = rebuild()
    assert len(index) > 10


@pytest.mark.parametrize(
    ("status", "kept"),
    [("draft", True), ("agreed", True), ("breached", True), ("fulfilled", False),
     ("cancelled", False)],
)  # fmt: skip
def test_closed_contracts_carry_no_trouble(department, other_department, status, kept):
    # given the chain's contract in a status
    chain = supply_chain(department, other_department)
    chain.contract.status = status
    chain.contract.save()

    # when
    index = rebuild()

    # then
    assert (f"contract:{chain.contract.pk}" in index) is kept
    reached = {r.key for r in ripple(index, f"kpi:{chain.kpi.pk}")[0].reached}
    assert (f"initiative:{chain.initiative.pk}" in reached) is kept


def test_inactive_kpis_are_left_out_with_their_edges(department, other_department):
    # given the chain's KPI made inactive
    chain = supply_chain(department, other_department)
    chain.kpi.is_active = False
    chain.kpi.save()

    # when
    index = rebuild()

    # then
    assert [key for key in index.keys if key.startswith("kpi:")] == []
    assert f"contract:{chain.contract.pk}" in index  # the contract stays, unmeasured


def test_the_graph_is_memoised_until_something_changes(
    department, other_department, django_assert_num_queries
):
    # given a built graph
    chain = supply_chain(department, other_department)
    first = graph()

    # when asked again: no query, the same object
    with django_assert_num_queries(0):
        assert graph() is first

    # when a KPI is added: a new graph that holds it
    kpi = KpiFactory(department=department)
    second = graph()
    assert second is not first
    assert f"kpi:{kpi.pk}" in second

    # when a link is added (m2m): a new graph again
    kpi.objectives.add(chain.objective)
    third = graph()
    assert third is not second
    assert ripple(third.index, f"kpi:{kpi.pk}")[0].objectives == (
        f"objective:{chain.objective.pk}",
    )


@pytest.mark.parametrize(
    ("update_fields", "invalidates"),
    [(["status", "status_period", "computed_at"], False), (["name"], False),
     (["criticality"], True), (["department"], True), (["is_active"], True), (None, True)],
)  # fmt: skip
def test_saves_that_do_not_change_the_shape_keep_the_graph(update_fields, invalidates):
    # given a KPI and a built graph
    kpi = KpiFactory()
    before = graph()

    # when
    kpi.save(update_fields=update_fields)

    # then
    assert (graph() is not before) is invalidates


@pytest.mark.django_db(transaction=True)
def test_other_processes_see_a_change_once_it_commits(department, other_department):
    # given a committed graph, shared through the cache
    chain = supply_chain(department, other_department)
    shared = graph()

    # when a transaction changes the graph
    with transaction.atomic():
        kpi = KpiFactory(department=department)
        # then it reads a private graph with the change, the shared version is untouched
        assert f"kpi:{kpi.pk}" in graph()
        assert cache.get(VERSION_KEY) == shared.version

    # then once committed, a new shared version holds it
    assert cache.get(VERSION_KEY) != shared.version
    assert f"kpi:{kpi.pk}" in graph()
    assert graph().version == cache.get(VERSION_KEY)
    assert f"contract:{chain.contract.pk}" in graph()


def _add_kpi_and_read_then_fail():
    with transaction.atomic():
        KpiFactory()
        graph()
        raise RuntimeError("rolled back")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_the_shared_graph_alone(department, other_department):
    # given a committed graph
    supply_chain(department, other_department)
    shared = graph()

    # when a change is read inside its transaction, then rolled back
    with pytest.raises(RuntimeError):
        _add_kpi_and_read_then_fail()

    # then
    assert cache.get(VERSION_KEY) == shared.version
    assert graph() is shared


@pytest.mark.django_db(transaction=True)
def test_the_graph_comes_from_the_shared_cache_when_another_process_built_it(
    department, other_department, django_assert_num_queries
):
    # given a graph built and cached, and a process that has not seen it yet
    supply_chain(department, other_department)
    built = graph()
    graph_module._memo = None

    # when / then: unpickled from the cache, not rebuilt
    with django_assert_num_queries(0):
        loaded = graph()
    assert loaded.version == built.version
    assert loaded.index.keys == built.index.keys


@pytest.mark.django_db(transaction=True)
def test_changes_schedule_one_full_ripple_sync_per_transaction(department, other_department):
    # given (committed)
    chain = supply_chain(department, other_department)

    # when several changes commit together
    with mock.patch("dependencies.tasks.ripple_sync.delay") as delay:
        with transaction.atomic():
            KpiFactory(department=department)
            chain.contract.consumer_milestones.add(chain.milestone)
            invalidate_graph()
            delay.assert_not_called()  # not before the commit

    # then the sync is enqueued once, for every exception
    delay.assert_called_once_with(subject_keys=None)


def _add_kpi_then_fail():
    with transaction.atomic():
        KpiFactory()
        raise RuntimeError("rolled back")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_enqueues_nothing():
    with mock.patch("dependencies.tasks.ripple_sync.delay") as delay:
        with pytest.raises(RuntimeError):
            _add_kpi_then_fail()

    delay.assert_not_called()
