"""Routes for KPI definitions: /api/v1/kpis/ with series, targets and history."""

from rest_framework.routers import SimpleRouter

from kpis.api.kpi_views import KpiViewSet

router = SimpleRouter()
router.register("kpis", KpiViewSet, basename="api-kpi")

urlpatterns = router.urls
