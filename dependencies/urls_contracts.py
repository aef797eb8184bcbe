"""The contract pages, named `contract-<action>` (the navigation marks them by that prefix)."""

from django.urls import path

from dependencies import views

urlpatterns = [
    path("contracts/", views.contract_list, name="contract-list"),
    path("contracts/new/", views.contract_create, name="contract-create"),
    path("contracts/matrix/", views.contract_matrix, name="contract-matrix"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract-detail"),
    path("contracts/<int:pk>/edit/", views.contract_update, name="contract-update"),
    path("contracts/<int:pk>/delete/", views.contract_delete, name="contract-delete"),
    path("contracts/<int:pk>/propose/", views.contract_propose, name="contract-propose"),
    path("contracts/<int:pk>/agree/", views.contract_agree, name="contract-agree"),
    path("contracts/<int:pk>/fulfil/", views.contract_fulfil, name="contract-fulfil"),
    path("contracts/<int:pk>/cancel/", views.contract_cancel, name="contract-cancel"),
    path("contracts/<int:pk>/versions/", views.contract_versions, name="contract-versions"),
    path(
        "contracts/<int:pk>/versions/compare/",
        views.contract_compare,
        name="contract-compare",
    ),
    path(
        "contracts/<int:pk>/amendments/new/",
        views.amendment_create,
        name="contract-amendment-create",
    ),
    path(
        "contracts/<int:pk>/amendments/<int:number>/respond/",
        views.amendment_respond,
        name="contract-amendment-respond",
    ),
    path(
        "contracts/<int:pk>/amendments/<int:number>/override/",
        views.amendment_override,
        name="contract-amendment-override",
    ),
    path(
        "contracts/<int:pk>/amendments/<int:number>/withdraw/",
        views.amendment_withdraw,
        name="contract-amendment-withdraw",
    ),
]
