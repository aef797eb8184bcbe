"""Routes for contracts: /api/v1/contracts/ with the lifecycle actions and history, and under each
contract its versions (/versions/, ?compare=a,b) and amendments (/amendments/{number}/accept/…)."""

from rest_framework.routers import SimpleRouter

from dependencies.api.views import AmendmentViewSet, ContractVersionViewSet, ContractViewSet

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="api-contract")
router.register(
    r"contracts/(?P<contract_pk>\d+)/versions",
    ContractVersionViewSet,
    basename="api-contract-version",
)
router.register(
    r"contracts/(?P<contract_pk>\d+)/amendments", AmendmentViewSet, basename="api-amendment"
)

urlpatterns = router.urls
