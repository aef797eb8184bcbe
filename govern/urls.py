from django.contrib import admin
from django.urls import include, path

from govern.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("govern.api.urls")),
    path("api/v1/", include("kpis.api.urls")),
    path("api/v1/", include("dependencies.api.urls")),
    path("api/v1/", include("decisions.api.urls")),
    path("", include("govern.page_urls")),
    path("", include("kpis.urls")),
    path("", include("dependencies.urls")),
    path("", include("decisions.urls")),
]

handler403 = "govern.views.error_403"
handler404 = "govern.views.error_404"
handler500 = "govern.views.error_500"
