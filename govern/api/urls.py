"""Routes under /api/v1/. Route names carry an `api-` prefix so they never clash with the pages."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from govern.api import views

router = SimpleRouter()
router.register("departments", views.DepartmentViewSet, basename="api-department")
router.register("people", views.PersonViewSet, basename="api-person")
router.register("memberships", views.MembershipViewSet, basename="api-membership")
router.register("objectives", views.ObjectiveViewSet, basename="api-objective")
router.register("initiatives", views.InitiativeViewSet, basename="api-initiative")
router.register("milestones", views.MilestoneViewSet, basename="api-milestone")
router.register("plan-versions", views.PlanVersionViewSet, basename="api-planversion")
router.register("audit-events", views.AuditEventViewSet, basename="api-auditevent")
router.register("notifications", views.NotificationViewSet, basename="api-notification")

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
