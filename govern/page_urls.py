"""The server-rendered pages. Every governed model gets the same surface: list, detail, create,
update, delete (where the service allows it), named `<entity>-<action>`."""

from django.contrib.auth import views as auth_views
from django.urls import path

from govern import views, views_notifications, views_plans

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.dashboard, name="dashboard"),
    # Departments
    path("departments/", views.department_list, name="department-list"),
    path("departments/new/", views.department_create, name="department-create"),
    path("departments/<int:pk>/", views.department_detail, name="department-detail"),
    path("departments/<int:pk>/edit/", views.department_update, name="department-update"),
    path("departments/<int:pk>/delete/", views.department_delete, name="department-delete"),
    # People and their roles
    path("people/", views.person_list, name="person-list"),
    path("people/new/", views.person_create, name="person-create"),
    path("people/<int:pk>/", views.person_detail, name="person-detail"),
    path("people/<int:pk>/edit/", views.person_update, name="person-update"),
    path("people/<int:pk>/roles/new/", views.membership_create, name="membership-create"),
    path("roles/<int:pk>/edit/", views.membership_update, name="membership-update"),
    path("roles/<int:pk>/delete/", views.membership_delete, name="membership-delete"),
    # Objectives
    path("objectives/", views.objective_list, name="objective-list"),
    path("objectives/new/", views.objective_create, name="objective-create"),
    path("objectives/<int:pk>/", views.objective_detail, name="objective-detail"),
    path("objectives/<int:pk>/edit/", views.objective_update, name="objective-update"),
    path("objectives/<int:pk>/delete/", views.objective_delete, name="objective-delete"),
    # Initiatives and their milestones
    path("initiatives/", views.initiative_list, name="initiative-list"),
    path("initiatives/new/", views.initiative_create, name="initiative-create"),
    path("initiatives/<int:pk>/", views.initiative_detail, name="initiative-detail"),
    path("initiatives/<int:pk>/edit/", views.initiative_update, name="initiative-update"),
    path("initiatives/<int:pk>/delete/", views.initiative_delete, name="initiative-delete"),
    path("initiatives/<int:pk>/milestones/new/", views.milestone_create, name="milestone-create"),
    path("milestones/<int:pk>/edit/", views.milestone_update, name="milestone-update"),
    path("milestones/<int:pk>/delete/", views.milestone_delete, name="milestone-delete"),
    path("milestones/<int:pk>/progress/", views.milestone_progress, name="milestone-progress"),
    # Plan versions: the lifecycle, a draft's contracts, two versions compared
    path("plans/", views_plans.plan_version_list, name="planversion-list"),
    path("plans/new/", views_plans.plan_version_create, name="planversion-create"),
    path("plans/compare/", views_plans.plan_version_compare, name="planversion-compare"),
    path("plans/<int:pk>/", views_plans.plan_version_detail, name="planversion-detail"),
    path("plans/<int:pk>/edit/", views_plans.plan_version_update, name="planversion-update"),
    path("plans/<int:pk>/delete/", views_plans.plan_version_delete, name="planversion-delete"),
    path("plans/<int:pk>/propose/", views_plans.plan_version_propose, name="planversion-propose"),
    path(
        "plans/<int:pk>/withdraw/", views_plans.plan_version_withdraw, name="planversion-withdraw"
    ),
    path("plans/<int:pk>/approve/", views_plans.plan_version_approve, name="planversion-approve"),
    path(
        "plans/<int:pk>/contracts/<int:contract_pk>/drop/",
        views_plans.plan_contract_drop,
        name="planversion-contract-drop",
    ),
    path(
        "plans/<int:pk>/contracts/<int:contract_pk>/restore/",
        views_plans.plan_contract_restore,
        name="planversion-contract-restore",
    ),
    # Notifications and my settings
    path("notifications/", views_notifications.notification_list, name="notification-list"),
    path(
        "notifications/read-all/",
        views_notifications.notification_read_all,
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/",
        views_notifications.notification_open,
        name="notification-open",
    ),
    path(
        "notifications/<int:pk>/read/",
        views_notifications.notification_read,
        name="notification-read",
    ),
    path("me/settings/", views_notifications.my_settings, name="my-settings"),
]
