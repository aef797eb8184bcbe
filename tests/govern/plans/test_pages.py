"""The plan-version pages: the journey from a draft to the current plan at the HTTP boundary
(variance follows the new version, history stays), the banners naming the version a page shows,
the actions per role, dropping and restoring contracts, the comparison page and the target pages
that refuse proposed and superseded versions."""

import re
from html.parser import HTMLParser

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from dependencies.models import PlanContract
from govern import services
from govern.models import PlanVersion
from kpis.models import KpiResult, Target
from kpis.services.recompute import kpi_recompute
from tests.dependencies.contract_support import agreed
from tests.factories import KpiFactory
from tests.govern.pages.helpers import text
from tests.govern.plans.support import approve


def _draft(scene, name="FY27 plan") -> PlanVersion:
    return services.plan_version_create_draft(actor=scene.pmo, name=name)


def _results(kpi) -> list[tuple]:
    return list(
        KpiResult.objects.filter(kpi=kpi, actual__isnull=False)
        .order_by("period")
        .values_list("period", "plan", "status")
    )


def test_from_a_draft_to_the_current_plan_variance_follows_and_history_stays(
    client, scene, django_capture_on_commit_callbacks
):
    # given a red KPI computed against the current plan (target 20, actual 25, lower is better)
    kpi_recompute(today=timezone.localdate())
    before = _results(scene.kpi)

    # when the PMO drafts, eases this month's target and proposes; an executive approves
    client.force_login(scene.pmo)
    created = client.post(reverse("planversion-create"), {"name": "FY27 plan"})
    draft = PlanVersion.objects.get(name="FY27 plan")
    edited = client.post(
        reverse("kpi-targets", args=[scene.kpi.pk]),
        {
            "plan_version": draft.pk,
            "targets": f"{scene.last}, 26\n{scene.running}, 24",
            "reason": "Realistic lead times",
        },
    )
    proposed = client.post(reverse("planversion-propose", args=[draft.pk]), {"comment": ""})
    client.force_login(scene.executive)
    with django_capture_on_commit_callbacks(execute=True):
        approved = client.post(
            reverse("planversion-approve", args=[draft.pk]), {"reason": "Board"}, follow=True
        )

    # then
    assert [r.status_code for r in (created, edited, proposed)] == [302, 302, 302]
    assert before == [(scene.last, 20.0, "red"), (scene.running, 20.0, "red")]
    assert _results(scene.kpi) == [(scene.last, 20.0, "red"), (scene.running, 24.0, "on_track")]
    page = text(approved)
    assert "“FY27 plan” is now the current plan." in page
    assert "Plan: FY27 plan" in page


def test_a_draft_page_names_the_draft_and_the_current_plan(client, scene):
    # given
    draft = _draft(scene)
    client.force_login(scene.world.viewer)

    # when
    on_draft = text(client.get(draft.get_absolute_url()))
    on_current = client.get(scene.plan.get_absolute_url()).content.decode()

    # then
    assert (
        "You are looking at FY27 plan (draft), not the current plan. The current plan is "
        "Approved plan"
    ) in on_draft
    assert "data-plan-banner" not in on_current


def test_a_superseded_page_says_it_is_frozen(client, scene):
    # given
    new = approve(pmo=scene.pmo, executive=scene.executive, plan_version=_draft(scene))
    client.force_login(scene.pmo)

    # when
    page = text(client.get(scene.plan.get_absolute_url()))

    # then
    assert (
        "You are looking at Approved plan (superseded), not the current plan. The current plan "
        f"is {new.name}"
    ) in page
    assert "kept for comparison and audit: nothing in it can change." in page


@pytest.mark.parametrize(
    ("role", "status", "shown", "hidden"),
    [
        ("pmo", "draft", ["propose", "update", "delete", "compare"], ["approve", "withdraw"]),
        ("pmo", "proposed", ["withdraw", "compare"], ["approve", "propose", "update"]),
        ("executive", "proposed", ["approve", "withdraw", "compare"], ["propose", "update"]),
        ("executive", "draft", ["compare"], ["approve", "propose", "withdraw", "update"]),
        ("viewer", "proposed", ["compare"], ["approve", "propose", "withdraw", "update"]),
    ],
)
def test_the_plan_page_offers_the_actions_of_the_role(client, scene, role, status, shown, hidden):
    # given
    draft = _draft(scene)
    if status == "proposed":
        services.plan_version_propose(actor=scene.pmo, plan_version=draft)
    client.force_login(scene.pmo if role == "pmo" else getattr(scene.world, role))

    # when
    html = client.get(draft.get_absolute_url()).content.decode()

    # then
    urls = {
        name: reverse(f"planversion-{name}", args=[draft.pk])
        for name in ("propose", "withdraw", "approve", "update", "delete")
    }
    urls["compare"] = f"{reverse('planversion-compare')}?a={scene.plan.pk}&amp;b={draft.pk}"
    assert [name for name in shown if urls[name] in html] == shown
    assert [name for name in hidden if urls[name] in html] == []


def test_the_current_plan_offers_a_draft_to_the_pmo_with_its_counts(client, scene):
    # given
    client.force_login(scene.pmo)

    # when
    response = client.get(scene.plan.get_absolute_url())

    # then
    html = response.content.decode()
    assert f"{reverse('planversion-create')}?based_on={scene.plan.pk}" in html
    assert 'data-count="targets">2<' in html
    assert 'data-count="contracts">1<' in html


def test_the_pmo_drops_and_restores_a_contract_on_the_draft_page(client, scene):
    # given
    draft = _draft(scene)
    client.force_login(scene.pmo)
    drop = reverse("planversion-contract-drop", args=[draft.pk, scene.contract.pk])
    restore = reverse("planversion-contract-restore", args=[draft.pk, scene.contract.pk])

    # when
    page = client.get(draft.get_absolute_url()).content.decode()
    dropped = client.post(drop, follow=True)
    state_after_drop = PlanContract.objects.get(plan_version=draft).included
    not_by_get = client.get(restore)
    restored = client.post(restore)

    # then
    assert drop in page
    assert "Dropped PROC-SALES-CASTINGS from FY27 plan" in text(dropped)
    assert 'data-state="dropped"' in dropped.content.decode()
    assert state_after_drop is False
    assert not_by_get.status_code == 405
    assert restored.status_code == 302
    assert PlanContract.objects.get(plan_version=draft).included is True


def test_a_lead_cannot_drop_a_contract(client, scene):
    # given
    draft = _draft(scene)
    client.force_login(scene.world.provider_lead)

    # when
    response = client.post(reverse("planversion-contract-drop", args=[draft.pk, scene.contract.pk]))

    # then
    assert response.status_code == 403
    assert PlanContract.objects.get(plan_version=draft).included is True


def test_the_comparison_page_shows_the_differences_and_names_the_versions(client, scene):
    # given a draft that eases this month's target and drops the contract
    draft = _draft(scene)
    Target.objects.filter(plan_version=draft, period=scene.running).update(value=24.0)
    PlanContract.objects.filter(plan_version=draft).update(included=False)
    client.force_login(scene.world.provider_lead)

    # when: no versions named: the current one and the newest other
    response = client.get(reverse("planversion-compare"))

    # then
    html = response.content.decode()
    page = text(response)
    assert response.status_code == 200
    assert "Approved plan (the current plan) against FY27 plan (draft)" in page
    assert "You are looking at FY27 plan (draft), not the current plan." in page
    assert '<tr data-kpi="PROC-LEAD" data-verdict="eased">' in html
    assert f'<tr data-period="{scene.running:%Y-%m-%d}">' in html
    assert 'data-contract-dropped="PROC-SALES-CASTINGS"' in html
    assert "No KPI added." in page
    assert "No KPI removed." in page


class _KpiRows(HTMLParser):
    """The per-KPI rows of the comparison: each row's cells as visible text, without the table
    of periods its <details> holds."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.code: str | None = None
        self.nested = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-verdict" in attrs:
            self.code = attrs["data-kpi"]
            self.rows[self.code] = []
        elif self.code and tag == "table":
            self.nested += 1
        elif self.code and tag == "td" and not self.nested:
            self.rows[self.code].append("")

    def handle_endtag(self, tag):
        if self.code and tag == "table":
            self.nested -= 1
        elif self.code and tag == "tr" and not self.nested:
            self.code = None

    def handle_data(self, data):
        if self.code and not self.nested and self.rows[self.code]:
            self.rows[self.code][-1] += f" {data}"


def _kpi_rows(response) -> dict[str, list[str]]:
    parser = _KpiRows()
    parser.feed(response.content.decode())
    return {
        code: [re.sub(r"\s+", " ", cell).strip() for cell in cells]
        for code, cells in parser.rows.items()
    }


def _day(period) -> str:
    return f"{period.day} {period:%b %Y}"


def test_the_comparison_page_shows_one_row_per_kpi_eased_while_red_first(client, scene, reforecast):
    # given five KPIs re-forecast: two eased while red, one eased, one tightened, one re-phased
    client.force_login(scene.pmo)
    last, running, nxt = (_day(d) for d in (scene.last, scene.running, reforecast.next))
    link = "This KPI's comparison →"

    # when
    response = client.get(
        reverse("planversion-compare"), {"a": scene.plan.pk, "b": reforecast.draft.pk}
    )

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert _kpi_rows(response) == {
        "PROC-LEAD": ["PROC-LEAD Supplier lead time", "Procurement", f"1 of 2 {running} {link}",
                      "20 → 24", "+20.0%", "Eased while red"],
        "SALES-WIN": ["SALES-WIN Sales-Win", "Sales", f"1 of 2 {running} {link}", "80 → 72",
                      "-10.0%", "Eased while red"],
        "PROC-COST": ["PROC-COST Proc-Cost", "Procurement", f"2 of 2 {last} – {running} {link}",
                      "100 → 110", "+15.0%", "Eased"],
        "PROC-AUDIT": ["PROC-AUDIT Proc-Audit", "Procurement",
                       f"2 of 3 {running} – {nxt} {link} incl. 1 added", "50 → 55", "+10.0%",
                       "Tightened"],
        "PROC-MIX": ["PROC-MIX Proc-Mix", "Procurement", f"2 of 2 {last} – {running} {link}",
                     "100 → 110", "-5.0%", "Re-phased"],
    }  # fmt: skip
    assert re.findall(r'<tr data-kpi="([^"]+)" data-verdict="(\w*)"( class="is-eased")?', html) == [
        ("PROC-LEAD", "eased", ' class="is-eased"'),
        ("SALES-WIN", "eased", ' class="is-eased"'),
        ("PROC-COST", "eased", ""),
        ("PROC-AUDIT", "tightened", ""),
        ("PROC-MIX", "rephased", ""),
    ]
    assert dict(re.findall(r'data-count="([\w-]+)">([^<]+)<', html)) == {
        "targets-changed": "7", "periods": "1 period added, 0 removed", "kpis-changed": "5",
        "kpis": "0 KPIs added, 0 removed", "kpis-eased": "3", "contracts": "0",
    }  # fmt: skip
    assert "2 eased while red" in html


def test_a_kpis_periods_open_under_its_row_and_on_its_own_comparison(client, scene, reforecast):
    # given
    client.force_login(scene.pmo)
    audit = reforecast.kpis["PROC-AUDIT"]
    query = {"a": scene.plan.pk, "b": reforecast.draft.pk}

    # when
    listed = client.get(reverse("planversion-compare"), query)
    narrowed = client.get(reverse("planversion-compare"), {**query, "kpi": audit.pk})

    # then
    row = listed.context["page"].object_list[3]
    assert [(p["period"], p["old"], p["new"], p["kind"]) for p in row["periods"]] == [
        (scene.running, 50.0, 55.0, "changed"),
        (reforecast.next, None, 60.0, "added"),
    ]
    assert row["periods_more"] == 0
    page = text(narrowed)
    assert narrowed.status_code == 200
    assert "Targets of PROC-AUDIT Proc-Audit, period by period" in page
    assert (
        f"Procurement · 2 of 3 periods changed, {_day(scene.running)} – {_day(reforecast.next)}"
        " · mean change +10.0% · Tightened"
    ) in page
    assert re.findall(
        r'<tr data-kpi="PROC-AUDIT" data-period="([\d-]+)">', narrowed.content.decode()
    ) == [f"{scene.running:%Y-%m-%d}", f"{reforecast.next:%Y-%m-%d}"]
    assert f"{_day(scene.running)} 50 55 +10.0% No: harder" in page
    assert f"{_day(reforecast.next)} — 60 Added —" in page
    assert 'data-count="kpis-changed">5<' in narrowed.content.decode()


def test_the_comparison_page_has_empty_states(client, scene):
    # given an untouched copy of the current plan
    draft = _draft(scene)
    client.force_login(scene.pmo)

    # when
    page = text(client.get(reverse("planversion-compare"), {"a": scene.plan.pk, "b": draft.pk}))

    # then
    assert "No target changed." in page
    assert "No contract changed." in page


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"a": "99999", "b": "same"}, {"a": ["There is no plan version with this id."]}),
        ({"a": "same", "b": "same"}, {"b": ["Choose two different plan versions."]}),
        ({"a": "x", "b": "same"}, {"a": ["There is no plan version with this id."]}),
        ({"a": "same", "b": "draft", "kpi": "x"}, {"kpi": ["Give a KPI id, e.g. kpi=12."]}),
    ],
)
def test_the_comparison_page_refuses_bad_versions(client, scene, query, errors):
    # given
    draft = _draft(scene)
    client.force_login(scene.pmo)
    ids = {"same": str(scene.plan.pk), "draft": str(draft.pk)}
    query = {k: ids.get(v, v) for k, v in query.items()}

    # when
    response = client.get(reverse("planversion-compare"), query)

    # then
    assert response.status_code == 400
    assert response.context["form"].errors == errors


def test_the_comparison_page_takes_a_fixed_number_of_queries(
    client, scene, django_assert_max_num_queries
):
    # given 30 more KPIs, a draft changing every target: two pages of KPIs
    for n in range(30):
        kpi = KpiFactory(department=scene.world.provider, owner=scene.kpi.owner)
        for period in (scene.last, scene.running):
            Target.objects.create(kpi=kpi, plan_version=scene.plan, period=period, value=n)
    draft = _draft(scene)
    Target.objects.filter(plan_version=draft).update(value=F("value") + 1)
    client.force_login(scene.pmo)
    url = reverse("planversion-compare")

    # when
    with django_assert_max_num_queries(45):
        response = client.get(url, {"a": scene.plan.pk, "b": draft.pk})
    with django_assert_max_num_queries(45):
        narrowed = client.get(url, {"a": scene.plan.pk, "b": draft.pk, "kpi": scene.kpi.pk})

    # then
    page = response.context["page"]
    assert (response.status_code, page.paginator.count, len(page.object_list)) == (200, 31, 25)
    assert {len(row["periods"]) for row in page.object_list} == {2}
    assert len(narrowed.context["page"].object_list) == 2


def test_the_targets_page_of_a_draft_says_so_and_shows_the_drafts_targets(client, scene):
    # given
    draft = _draft(scene)
    Target.objects.filter(plan_version=draft, period=scene.running).update(value=22.5)
    client.force_login(scene.pmo)

    # when
    response = client.get(reverse("kpi-targets", args=[scene.kpi.pk]), {"plan_version": draft.pk})

    # then
    page = text(response)
    assert "You are looking at FY27 plan (draft), not the current plan." in page
    assert f"{scene.running.isoformat()}, 22.5" in response.context["form"]["targets"].value()


@pytest.mark.parametrize("status", ["proposed", "superseded"])
def test_the_targets_page_refuses_a_proposed_or_superseded_version(client, scene, status):
    # given
    draft = _draft(scene)
    if status == "proposed":
        services.plan_version_propose(actor=scene.pmo, plan_version=draft)
        shown, message = (
            draft,
            (
                "FY27 plan is proposed for approval: its targets stay as proposed while it waits "
                "for an executive's approval. Withdraw it to draft to change its targets."
            ),
        )
    else:
        approve(pmo=scene.pmo, executive=scene.executive, plan_version=draft)
        shown, message = (
            scene.plan,
            (
                "Approved plan is superseded: superseded plan versions are frozen. Set targets in "
                "the current plan or in a draft."
            ),
        )
    client.force_login(scene.pmo)
    url = reverse("kpi-targets", args=[scene.kpi.pk])
    before = list(Target.objects.order_by("pk").values_list("plan_version", "period", "value"))

    # when
    got = client.get(url, {"plan_version": shown.pk})
    posted = client.post(
        url,
        {"plan_version": shown.pk, "targets": f"{scene.running}, 1", "reason": "Try"},
    )

    # then
    assert got.status_code == 409
    assert message in text(got)
    assert posted.status_code == 400
    assert posted.context["form"].errors == {"plan_version": [message]}
    assert list(Target.objects.order_by("pk").values_list("plan_version", "period", "value")) == (
        before
    )


def test_a_draft_page_with_many_contracts_takes_a_fixed_number_of_queries(
    client, scene, django_assert_max_num_queries
):
    # given a draft carrying 12 contracts
    for n in range(11):
        agreed(scene.world, code=f"PROC-SALES-C{n}", title=f"C{n}")
    draft = _draft(scene)
    client.force_login(scene.pmo)

    # when
    with django_assert_max_num_queries(30):
        response = client.get(draft.get_absolute_url())

    # then
    assert response.content.decode().count('data-state="carried"') == 12
