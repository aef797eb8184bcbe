"""Each demo login sees the pages its role may see, and no others (issue 2's acceptance)."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from govern.models import Initiative

NAV_PAGES = ["/", "/objectives/", "/initiatives/", "/people/", "/departments/", "/plans/"]
PROCUREMENT_INITIATIVE = "Casting-alloy supplier consolidation"
SALES_INITIATIVE = "Mid-market distributor programme"

# username: (is staff, sees Procurement's initiative, sees Sales', may create initiatives,
#            may edit Procurement's initiative)
DEMO_ROLES = {
    "admin": (True, True, True, True, True),
    "ceo": (False, True, True, False, False),
    "cfo": (False, True, True, False, False),
    "pmo": (True, True, True, True, True),
    "proc.lead": (False, True, False, True, True),
    "sales.lead": (False, False, True, True, False),
    "proc.buyer": (False, True, False, False, False),
    "sales.analyst": (False, False, True, False, False),
    "auditor": (False, False, False, False, False),
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", today="2026-11-20", stdout=StringIO())
    return {
        "proc": Initiative.objects.get(name=PROCUREMENT_INITIATIVE),
        "sales": Initiative.objects.get(name=SALES_INITIATIVE),
    }


def test_every_demo_role_sees_what_it_may_and_nothing_else(client, demo):
    for username, (staff, sees_proc, sees_sales, may_add, may_edit) in DEMO_ROLES.items():
        # given
        client.logout()
        assert client.login(username=username, password=settings.GOVERN_DEMO_PASSWORD), username

        # when
        pages = {url: client.get(url) for url in NAV_PAGES}
        initiatives = pages["/initiatives/"].content.decode()
        proc_page = client.get(f"/initiatives/{demo['proc'].pk}/")
        admin = client.get("/admin/")

        # then
        assert {url: r.status_code for url, r in pages.items()} == dict.fromkeys(NAV_PAGES, 200)
        assert ("/admin/" in pages["/"].content.decode()) is staff, username
        assert admin.status_code == (200 if staff else 302), username
        assert (PROCUREMENT_INITIATIVE in initiatives) is sees_proc, username
        assert (SALES_INITIATIVE in initiatives) is sees_sales, username
        assert ("New initiative" in initiatives) is may_add, username
        assert proc_page.status_code == (200 if sees_proc else 404), username
        if sees_proc:
            edit_url = f"/initiatives/{demo['proc'].pk}/edit/"
            assert (edit_url in proc_page.content.decode()) is may_edit, username
            assert client.get(edit_url).status_code == (200 if may_edit else 403), username


def test_the_auditor_reads_finance_but_changes_nothing(client, demo):
    # given
    client.login(username="auditor", password=settings.GOVERN_DEMO_PASSWORD)
    before = list(Initiative.objects.filter(department__code="FIN").values_list("name", "fte"))
    finance = Initiative.objects.filter(department__code="FIN").first()

    # when
    page = client.get(f"/initiatives/{finance.pk}/")
    attempt = client.post(f"/initiatives/{finance.pk}/edit/", {"name": "Renamed", "fte": "9"})

    # then
    assert page.status_code == 200
    assert attempt.status_code == 403
    after = list(Initiative.objects.filter(department__code="FIN").values_list("name", "fte"))
    assert after == before
