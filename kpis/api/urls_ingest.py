"""Routes for actuals: /api/v1/measurements/ and spreadsheet /api/v1/imports/."""

from rest_framework.routers import SimpleRouter

from kpis.api.ingest_views import ImportJobViewSet, MeasurementViewSet

router = SimpleRouter()
router.register("measurements", MeasurementViewSet, basename="api-measurement")
router.register("imports", ImportJobViewSet, basename="api-import")

urlpatterns = router.urls
