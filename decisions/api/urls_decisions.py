"""Routes for the decision log: /api/v1/decisions/ (list, log, retrieve), /{id}/decide/,
/{id}/supersede/, /{id}/log/, /{id}/history/ and /verify/ (the chain's status)."""

from rest_framework.routers import SimpleRouter

from decisions.api.views import DecisionViewSet

router = SimpleRouter()
router.register("decisions", DecisionViewSet, basename="api-decision")

urlpatterns = router.urls
