import datetime as dt

from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from govern import services, views
from govern.choices import Role
from govern.errors import ConflictError
from govern.middleware import ApplicationErrorMiddleware
from tests.factories import PASSWORD, InitiativeFactory, MilestoneFactory, person_with_role
from tests.govern.pages.helpers import text


def test_login_with_a_bad_password_shows_an_error(client, viewer):
    # given
    url = reverse("login")

    # when
    response = client.post(url, {"username": viewer.username, "password": "wrong"})

    # then
    assert response.status_code == 200
    assert (
        "Please enter a correct username and password. Note that both fields may be case-sensitive."
    ) in text(response)
    assert "_auth_user_id" not in client.session


def test_login_lands_on_the_dashboard(client, viewer):
    # given
    url = reverse("login")

    # when
    response = client.post(url, {"username": viewer.username, "password": PASSWORD}, follow=True)

    # then
    assert response.redirect_chain == [(reverse("dashboard"), 302)]
    assert "Dashboard" in text(response)


def test_logout_is_a_post_from_the_header(client, viewer):
    # given
    client.force_login(viewer)
    page = client.get(reverse("dashboard")).content.decode()

    # when
    response = client.post(reverse("logout"))

    # then
    assert f'<form method="post" action="{reverse("logout")}"' in page
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_the_navigation_hides_admin_from_people_who_are_not_staff(client, viewer):
    # given
    client.force_login(viewer)

    # when
    response = client.get(reverse("dashboard"))

    # then
    nav = text(response).split("No approved plan", 1)[0].strip()
    assert nav == (
        "Skip to content Govern Dashboard Objectives Initiatives Exceptions Decisions Reviews KPIs "
        "Contracts "
        "People Departments Plans"
    )
    assert reverse("admin:index") not in response.content.decode()


def test_the_navigation_shows_admin_to_staff(client, department):
    # given
    staff = person_with_role(Role.PMO, department, is_staff=True)
    client.force_login(staff)

    # when
    response = client.get(reverse("dashboard"))

    # then
    assert f'<a href="{reverse("admin:index")}">Admin</a>' in response.content.decode()


def test_the_header_names_the_current_plan_version(client, pmo, executive):
    # given
    client.force_login(pmo)
    before = text(client.get(reverse("dashboard")))
    version = services.plan_version_create_draft(actor=pmo, name="FY26 baseline")
    services.plan_version_propose(actor=pmo, plan_version=version)
    services.plan_version_approve(actor=executive, plan_version=version, reason="Board")

    # when
    after = text(client.get(reverse("person-list")))

    # then
    assert "No approved plan" in before
    assert "Plan: FY26 baseline" in after


def test_the_dashboard_summarises_what_the_user_can_see(
    client, contributor, department, other_department
):
    # given
    today = timezone.localdate()
    mine = InitiativeFactory(name="Key accounts", department=department, owner=contributor)
    MilestoneFactory(
        initiative=mine, name="Plans agreed", owner=contributor,
        due_date=today - dt.timedelta(days=4),
    )  # fmt: skip
    MilestoneFactory(initiative=mine, name="Reviews held", due_date=today + dt.timedelta(days=9))
    hidden = InitiativeFactory(name="Supplier audit", department=other_department)
    MilestoneFactory(initiative=hidden, due_date=today - dt.timedelta(days=20))
    client.force_login(contributor)

    # when
    response = client.get(reverse("dashboard"))

    # then
    page = text(response)
    assert "0 Open exceptions 0 Objectives 1 Active initiative 1 Overdue milestone" in page
    assert (
        f"Plans agreed Key accounts Sales {contributor} "
        f"{today - dt.timedelta(days=4):%-d %b %Y} 4 days"
    ) in page
    assert "My work Initiatives I own Key accounts Active Sales · 0/2 milestones done" in page
    assert "My open milestones Plans agreed Overdue" in page
    assert "Supplier audit" not in page


def test_an_outsider_sees_an_empty_dashboard(client, outsider, department):
    # given
    MilestoneFactory(
        initiative=InitiativeFactory(department=department), due_date=dt.date(2020, 1, 1)
    )
    client.force_login(outsider)

    # when
    page = text(client.get(reverse("dashboard")))

    # then
    assert "0 Open exceptions 0 Objectives 0 Active initiatives 0 Overdue milestones" in page
    assert "No open exceptions." in page
    assert "Nothing is overdue." in page


def test_the_403_page_says_why(client, viewer, department):
    # given
    initiative = InitiativeFactory(name="CRM", department=department)
    client.force_login(viewer)

    # when
    response = client.get(reverse("initiative-update", args=[initiative.pk]))

    # then
    assert response.status_code == 403
    assert "You cannot do this You may not change this initiative (CRM)." in text(response)


def test_the_404_page_does_not_confirm_the_object_exists(client, viewer, other_department):
    # given
    initiative = InitiativeFactory(name="Supplier audit", department=other_department)
    client.force_login(viewer)

    # when
    response = client.get(initiative.get_absolute_url())

    # then
    assert response.status_code == 404
    assert "Page not found" in text(response)
    assert "Supplier audit" not in text(response)


def test_the_500_page_stands_alone_and_runs_no_query(db, rf, django_assert_num_queries):
    # given
    request = rf.get("/")

    # when
    with django_assert_num_queries(0):
        response = views.error_500(request)

    # then
    assert response.status_code == 500
    assert "Something went wrong on our side" in text(response)


def test_the_middleware_turns_an_application_error_into_a_clear_page(viewer):
    # given
    request = RequestFactory().get("/initiatives/")
    request.user = viewer
    middleware = ApplicationErrorMiddleware(lambda request: None)

    # when
    response = middleware.process_exception(
        request, ConflictError("Another plan version is already the current one.")
    )

    # then
    assert response.status_code == 409
    assert "This cannot be done Another plan version is already the current one." in text(response)


def test_the_middleware_leaves_api_errors_to_the_api(viewer):
    # given
    request = RequestFactory().get("/api/v1/initiatives/")
    request.user = viewer
    middleware = ApplicationErrorMiddleware(lambda request: None)

    # when
    response = middleware.process_exception(request, ConflictError("Conflict"))

    # then
    assert response is None


def test_the_dashboard_lists_the_most_severe_exceptions_the_user_may_see(
    client, viewer, department, other_department
):
    # given
    from tests.factories import KpiExceptionFactory

    KpiExceptionFactory(
        title="SALES-INTAKE is red: Order intake", kpi__department=department, severity=12.5
    )
    KpiExceptionFactory(
        title="SALES-DSO is amber: Days sales outstanding", kpi__department=department,
        severity=30.0,
    )  # fmt: skip
    KpiExceptionFactory(
        title="PROC-OTD is red: Supplier delivery", kpi__department=other_department
    )
    client.force_login(viewer)

    # when
    page = text(client.get(reverse("dashboard")))

    # then: most severe first, and nothing from a department the viewer is not in
    assert "2 Open exceptions" in page
    assert page.index("SALES-DSO is amber") < page.index("SALES-INTAKE is red")
    assert "PROC-OTD" not in page
