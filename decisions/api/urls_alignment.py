"""Routes for the alignment assessments: /api/v1/alignment-assessments/ (list, record,
retrieve, correct with PATCH, /{id}/history/); no PUT and no DELETE (405)."""

from rest_framework.routers import SimpleRouter

from decisions.api.views_alignment import AlignmentAssessmentViewSet

router = SimpleRouter()
router.register(
    "alignment-assessments", AlignmentAssessmentViewSet, basename="api-alignment-assessment"
)

urlpatterns = router.urls
