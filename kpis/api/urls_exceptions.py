"""Routes for exceptions: /api/v1/exceptions/ with acknowledge, assign and history."""

from rest_framework.routers import SimpleRouter

from kpis.api.exception_views import ExceptionViewSet

router = SimpleRouter()
router.register("exceptions", ExceptionViewSet, basename="api-exception")

urlpatterns = router.urls
