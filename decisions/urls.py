"""The decision log pages, named `decision-<action>` (the navigation marks them by that prefix).
There is no edit and no delete: a correction supersedes."""

from django.urls import include, path

from decisions import views

urlpatterns = [
    path("decisions/", views.decision_list, name="decision-list"),
    path("decisions/new/", views.decision_create, name="decision-create"),
    path("decisions/<int:pk>/", views.decision_detail, name="decision-detail"),
    path("decisions/<int:pk>/decide/", views.decision_decide, name="decision-decide"),
    path("decisions/<int:pk>/supersede/", views.decision_supersede, name="decision-supersede"),
    path("", include("decisions.urls_contingency")),
    path("", include("decisions.urls_sessions")),
    path("", include("decisions.urls_alignment")),
]
