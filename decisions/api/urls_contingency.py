"""Routes for contingency plans: /api/v1/contingency-plans/ (list, define, retrieve, PATCH),
/{id}/disable/, /{id}/enable/, /{id}/history/ (test against history) and /{id}/proposals/ (the
decisions it proposed)."""

from rest_framework.routers import SimpleRouter

from decisions.api.views_contingency import ContingencyPlanViewSet

router = SimpleRouter()
router.register("contingency-plans", ContingencyPlanViewSet, basename="api-contingency-plan")

urlpatterns = router.urls
