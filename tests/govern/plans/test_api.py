"""The plan-version API: a draft from the current (or a named) version, propose, withdraw,
approve (an executive), drop and restore a contract in a draft, and compare two versions, with
400s for bad input and nothing written on a refusal."""

import pytest
from django.db.models import F

from dependencies.models import PlanContract
from dependencies.services import contracts as contract_services
from govern import services
from govern.models import AuditEvent, PlanVersion
from kpis.models import Kpi, Target
from kpis.services.targets import targets_set
from tests.dependencies.contract_support import terms_for
from tests.factories import KpiFactory
from tests.govern.plans.support import API


def _draft(scene, name="FY27 plan") -> PlanVersion:
    return services.plan_version_create_draft(actor=scene.pmo, name=name)


def test_the_pmo_makes_a_draft_from_the_current_plan(api_client, scene):
    # given
    api_client.force_authenticate(scene.pmo)

    # when
    response = api_client.post(
        f"{API}plan-versions/", {"name": "FY27 plan", "description": "Next year"}, format="json"
    )

    # then
    assert response.status_code == 201
    body = response.json()
    draft = PlanVersion.objects.get(pk=body["id"])
    assert (body["status"], body["based_on"], body["based_on_name"]) == (
        "draft", scene.plan.pk, "Approved plan",
    )  # fmt: skip
    assert Target.objects.filter(plan_version=draft).count() == 2
    assert list(PlanContract.objects.filter(plan_version=draft).values_list("contract__code")) == [
        ("PROC-SALES-CASTINGS",)
    ]


@pytest.mark.parametrize(
    ("based_on", "message"),
    [
        ("draft", "Other draft is draft; a draft is made from the current plan version or a "
                  "superseded one."),
        (99999, 'Invalid pk "99999" - object does not exist.'),
    ],
)  # fmt: skip
def test_a_draft_is_not_made_from_a_draft_or_from_nothing(api_client, scene, based_on, message):
    # given
    other = _draft(scene, name="Other draft")
    api_client.force_authenticate(scene.pmo)
    count = PlanVersion.objects.count()

    # when
    response = api_client.post(
        f"{API}plan-versions/",
        {"name": "FY27 plan", "based_on": other.pk if based_on == "draft" else based_on},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"based_on": [message]}
    assert PlanVersion.objects.count() == count


def test_the_pmo_proposes_and_an_executive_approves_over_http(api_client, scene):
    # given
    draft = _draft(scene)
    api_client.force_authenticate(scene.pmo)

    # when
    proposed = api_client.post(f"{API}plan-versions/{draft.pk}/propose/", {}, format="json")
    events = AuditEvent.objects.count()
    refused = api_client.post(f"{API}plan-versions/{draft.pk}/approve/", {}, format="json")
    after_refusal = (PlanVersion.objects.get(pk=draft.pk).status, AuditEvent.objects.count())
    api_client.force_authenticate(scene.executive)
    approved = api_client.post(
        f"{API}plan-versions/{draft.pk}/approve/", {"reason": "Board"}, format="json"
    )
    current = api_client.get(f"{API}plan-versions/current/")

    # then
    assert (proposed.status_code, proposed.json()["proposed_by"]) == (200, scene.pmo.pk)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "You may not approve this plan version (FY27 plan)."
    )
    assert after_refusal == ("proposed", events)
    assert (approved.status_code, approved.json()["approved_by"]) == (200, scene.executive.pk)
    assert current.json()["id"] == draft.pk
    scene.contract.refresh_from_db()
    assert scene.contract.plan_version_id == draft.pk


def test_approving_a_draft_is_a_conflict(api_client, scene):
    # given
    draft = _draft(scene)
    api_client.force_authenticate(scene.executive)

    # when
    response = api_client.post(f"{API}plan-versions/{draft.pk}/approve/", {}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "plan_version_not_proposed"
    assert PlanVersion.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "This field is required."),
        ({"reason": " "}, "Say why the proposal goes back to draft; it is kept in the plan's "
                          "history."),
    ],
)  # fmt: skip
def test_a_withdrawal_without_a_reason_is_refused(api_client, scene, payload, message):
    # given
    draft = _draft(scene)
    services.plan_version_propose(actor=scene.pmo, plan_version=draft)
    api_client.force_authenticate(scene.executive)

    # when
    response = api_client.post(f"{API}plan-versions/{draft.pk}/withdraw/", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"reason": [message]}
    assert PlanVersion.objects.get(pk=draft.pk).status == "proposed"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Give the id of the plan version to compare with, e.g. ?with=3."),
        ("?with=abc", "'abc' is not a plan version id. Give the id of the plan version to "
                      "compare with, e.g. ?with=3."),
        ("?with=99999", "There is no plan version 99999."),
        ("?with=self", "Give another plan version than the one compared."),
    ],
)  # fmt: skip
def test_compare_answers_400_on_a_bad_or_missing_version(api_client, scene, query, message):
    # given
    api_client.force_authenticate(scene.world.viewer)
    query = query.replace("self", str(scene.plan.pk))

    # when
    response = api_client.get(f"{API}plan-versions/{scene.plan.pk}/compare/{query}")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Please correct: with.",
            "fields": {"with": [message]},
        }
    }


def test_compare_gives_the_exact_differences(api_client, scene):
    # given a draft that eases the running month's target, drops the contract, creates another
    draft = _draft(scene)
    targets_set(
        actor=scene.pmo, kpi=scene.kpi, values={scene.running: 24.0}, reason="Realistic",
        plan_version=draft,
    )  # fmt: skip
    api_client.force_authenticate(scene.pmo)
    dropped = api_client.post(
        f"{API}plan-versions/{draft.pk}/contracts/{scene.contract.pk}/drop/",
        {"reason": "In-house"},
        format="json",
    )
    created = contract_services.contract_create(
        actor=scene.pmo,
        data=terms_for(scene.world, code="PROC-SALES-SECOND", title="Second", plan_version=draft),
    )

    # when
    response = api_client.get(f"{API}plan-versions/{scene.plan.pk}/compare/?with={draft.pk}")

    # then
    assert dropped.status_code == 200
    assert {k: v for k, v in dropped.json().items() if k != "copied_at"} == {
        "plan_version": draft.pk, "contract": scene.contract.pk,
        "contract_code": "PROC-SALES-CASTINGS", "included": False, "version_number": 1,
    }  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["a"] == {"id": scene.plan.pk, "name": "Approved plan", "status": "approved"}
    assert body["b"] == {"id": draft.pk, "name": "FY27 plan", "status": "draft"}
    assert body["targets"] == {
        "changed_count": 1, "eased_count": 1, "periods_added_count": 0,
        "periods_removed_count": 0, "kpis_changed_count": 1, "kpis_eased_count": 1,
        "kpis_eased_while_red_count": 0,
        "kpis": [
            {
                "kpi": scene.kpi.pk, "kpi_code": "PROC-LEAD", "kpi_name": "Supplier lead time",
                "kpi_status": "no_plan", "department": "PROC", "department_name": "Procurement",
                "periods_differing": 1, "periods_planned": 2, "periods_changed": 1,
                "periods_added": 0, "periods_removed": 0,
                "first_period": scene.running.isoformat(),
                "last_period": scene.running.isoformat(), "first_old": 20.0, "first_new": 24.0,
                "mean_change_pct": 20.0, "net_change": 4.0, "verdict": "eased",
                "eased_while_red": False,
            }
        ],
        "kpis_added_count": 0, "kpis_added": [], "kpis_removed_count": 0, "kpis_removed": [],
    }  # fmt: skip
    contracts = body["contracts"]
    assert (contracts["a_count"], contracts["b_count"]) == (1, 1)
    assert contracts["added"] == [
        {
            "contract": created.pk, "code": "PROC-SALES-SECOND", "title": "Second",
            "status": "draft", "state": "created", "version_number": 0,
        }
    ]  # fmt: skip
    assert [(c["code"], c["state"]) for c in contracts["dropped"]] == [
        ("PROC-SALES-CASTINGS", "dropped")
    ]
    assert (contracts["changed"], contracts["removed"]) == ([], [])


def _kpi_row(entry: dict) -> tuple:
    return (
        entry["kpi_code"], entry["department"], entry["kpi_status"], entry["periods_differing"],
        entry["periods_planned"], entry["periods_added"], entry["first_period"],
        entry["last_period"], entry["first_old"], entry["first_new"], entry["mean_change_pct"],
        entry["net_change"], entry["verdict"], entry["eased_while_red"],
    )  # fmt: skip


def test_compare_lists_one_row_per_kpi_eased_while_red_first(api_client, scene, reforecast):
    # given five KPIs re-forecast: two eased while red, one eased, one tightened, one re-phased
    api_client.force_authenticate(scene.pmo)
    last, running, nxt = (d.isoformat() for d in (scene.last, scene.running, reforecast.next))

    # when
    response = api_client.get(
        f"{API}plan-versions/{scene.plan.pk}/compare/?with={reforecast.draft.pk}"
    )

    # then
    assert response.status_code == 200
    targets = response.json()["targets"]
    assert [_kpi_row(entry) for entry in targets["kpis"]] == [
        ("PROC-LEAD", "PROC", "red", 1, 2, 0, running, running, 20.0, 24.0, 20.0, 4.0,
         "eased", True),
        ("SALES-WIN", "SALES", "red", 1, 2, 0, running, running, 80.0, 72.0, -10.0, -8.0,
         "eased", True),
        ("PROC-COST", "PROC", "on_track", 2, 2, 0, last, running, 100.0, 110.0, 15.0, 30.0,
         "eased", False),
        ("PROC-AUDIT", "PROC", "on_track", 2, 3, 1, running, nxt, 50.0, 55.0, 10.0, 5.0,
         "tightened", False),
        ("PROC-MIX", "PROC", "red", 2, 2, 0, last, running, 100.0, 110.0, -5.0, 0.0,
         "rephased", False),
    ]  # fmt: skip
    assert {k: v for k, v in targets.items() if k.endswith("_count")} == {
        "changed_count": 7, "eased_count": 5, "periods_added_count": 1,
        "periods_removed_count": 0, "kpis_changed_count": 5, "kpis_eased_count": 3,
        "kpis_eased_while_red_count": 2, "kpis_added_count": 0, "kpis_removed_count": 0,
    }  # fmt: skip
    assert "rows" not in targets


def test_compare_calls_a_rise_and_a_cut_that_net_to_zero_re_phased(api_client, scene):
    # given a red KPI whose target is raised 5 one month and cut 5 the next
    draft = _draft(scene)
    Target.objects.filter(plan_version=draft, period=scene.last).update(value=25.0)
    Target.objects.filter(plan_version=draft, period=scene.running).update(value=15.0)
    Kpi.objects.filter(pk=scene.kpi.pk).update(status="red")
    api_client.force_authenticate(scene.pmo)

    # when
    response = api_client.get(f"{API}plan-versions/{scene.plan.pk}/compare/?with={draft.pk}")

    # then
    targets = response.json()["targets"]
    entry = targets["kpis"][0]
    assert (entry["verdict"], entry["eased_while_red"], entry["net_change"]) == (
        "rephased", False, 0.0,
    )  # fmt: skip
    assert (entry["periods_differing"], entry["mean_change_pct"]) == (2, 0.0)
    assert (targets["eased_count"], targets["kpis_eased_count"]) == (1, 0)


def test_compare_gives_the_periods_with_detail_and_narrows_to_one_kpi(
    api_client, scene, reforecast
):
    # given
    api_client.force_authenticate(scene.pmo)
    kpi = reforecast.kpis["PROC-AUDIT"]
    url = f"{API}plan-versions/{scene.plan.pk}/compare/?with={reforecast.draft.pk}"

    # when
    everything = api_client.get(f"{url}&detail=periods")
    one = api_client.get(f"{url}&detail=periods&kpi={kpi.pk}")

    # then
    rows = everything.json()["targets"]["rows"]
    assert [(r["kpi_code"], r["period"], r["kind"]) for r in rows] == [
        ("PROC-AUDIT", scene.running.isoformat(), "changed"),
        ("PROC-AUDIT", reforecast.next.isoformat(), "added"),
        ("PROC-COST", scene.last.isoformat(), "changed"),
        ("PROC-COST", scene.running.isoformat(), "changed"),
        ("PROC-LEAD", scene.running.isoformat(), "changed"),
        ("PROC-MIX", scene.last.isoformat(), "changed"),
        ("PROC-MIX", scene.running.isoformat(), "changed"),
        ("SALES-WIN", scene.running.isoformat(), "changed"),
    ]
    narrowed = one.json()["targets"]
    assert [e["kpi_code"] for e in narrowed["kpis"]] == ["PROC-AUDIT"]
    assert narrowed["rows"] == [
        {
            "kpi": kpi.pk, "kpi_code": "PROC-AUDIT", "kpi_name": "Proc-Audit",
            "period": scene.running.isoformat(), "old": 50.0, "new": 55.0, "change_pct": 10.0,
            "kind": "changed", "eased": False,
        },
        {
            "kpi": kpi.pk, "kpi_code": "PROC-AUDIT", "kpi_name": "Proc-Audit",
            "period": reforecast.next.isoformat(), "old": None, "new": 60.0,
            "change_pct": None, "kind": "added", "eased": None,
        },
    ]  # fmt: skip
    assert (narrowed["changed_count"], narrowed["kpis_changed_count"]) == (7, 5)


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("&detail=all", {"detail": ["'all' is not a detail; give detail=periods."]}),
        ("&kpi=x", {"kpi": ["'x' is not a KPI id, e.g. kpi=12."]}),
        ("&kpi=0&detail=rows", {"detail": ["'rows' is not a detail; give detail=periods."],
                                "kpi": ["'0' is not a KPI id, e.g. kpi=12."]}),
    ],
)  # fmt: skip
def test_compare_answers_400_on_a_bad_detail_or_kpi(api_client, scene, query, errors):
    # given
    draft = _draft(scene)
    api_client.force_authenticate(scene.pmo)

    # when
    response = api_client.get(f"{API}plan-versions/{scene.plan.pk}/compare/?with={draft.pk}{query}")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == errors


def test_only_the_pmo_drops_a_contract_and_not_one_created_in_the_draft(api_client, scene):
    # given
    draft = _draft(scene)
    created = contract_services.contract_create(
        actor=scene.pmo,
        data=terms_for(scene.world, code="PROC-SALES-SECOND", title="Second", plan_version=draft),
    )
    url = f"{API}plan-versions/{draft.pk}/contracts/{{}}/drop/"

    # when
    api_client.force_authenticate(scene.world.provider_lead)
    by_lead = api_client.post(url.format(scene.contract.pk), {}, format="json")
    api_client.force_authenticate(scene.pmo)
    created_here = api_client.post(url.format(created.pk), {}, format="json")

    # then
    assert (by_lead.status_code, created_here.status_code) == (403, 409)
    assert created_here.json()["error"]["code"] == "created_in_draft"
    assert list(PlanContract.objects.filter(plan_version=draft).values_list("included")) == [
        (True,)
    ]


def test_the_pmo_restores_a_dropped_contract_over_http(api_client, scene):
    # given
    draft = _draft(scene)
    api_client.force_authenticate(scene.pmo)
    base = f"{API}plan-versions/{draft.pk}/contracts/{scene.contract.pk}"
    api_client.post(f"{base}/drop/", {}, format="json")

    # when
    restored = api_client.post(f"{base}/restore/", {"reason": "Needed"}, format="json")
    again = api_client.post(f"{base}/restore/", {}, format="json")

    # then
    assert (restored.status_code, restored.json()["included"]) == (200, True)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_dropped")


def test_compare_takes_a_fixed_number_of_queries(api_client, scene, django_assert_max_num_queries):
    # given 20 more KPIs and 10 more contracts, every target changed in the draft
    for n in range(20):
        kpi = KpiFactory(department=scene.world.provider, owner=scene.kpi.owner)
        Target.objects.create(kpi=kpi, plan_version=scene.plan, period=scene.running, value=n)
    for n in range(10):
        contract_services.contract_create(
            actor=scene.pmo, data=terms_for(scene.world, code=f"PROC-SALES-X{n}", title=f"X{n}")
        )
    draft = _draft(scene)
    Target.objects.filter(plan_version=draft).update(value=F("value") + 1)
    api_client.force_authenticate(scene.pmo)

    url = f"{API}plan-versions/{scene.plan.pk}/compare/?with={draft.pk}&detail=periods"

    # when
    with django_assert_max_num_queries(40):
        response = api_client.get(url)

    # then
    targets = response.json()["targets"]
    assert (targets["changed_count"], len(targets["kpis"]), len(targets["rows"])) == (22, 21, 22)
    assert response.json()["contracts"]["b_count"] == 11
