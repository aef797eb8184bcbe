"""Routes for the review sessions: /api/v1/review-sessions/ (list, plan, retrieve with the agenda
and minutes, PATCH while planned), /{id}/generate-agenda/, /{id}/start/, /{id}/close/,
/{id}/minutes/, /{id}/items/{item_id}/decide/, /defer/, /note/ and /{id}/history/."""

from rest_framework.routers import SimpleRouter

from decisions.api.views_sessions import ReviewSessionViewSet

router = SimpleRouter()
router.register("review-sessions", ReviewSessionViewSet, basename="api-review-session")

urlpatterns = router.urls
