"""Exception pages: the ranked list, one exception, and its acknowledge, assign and resolve
(target-gaming signals and alignment exceptions only) actions."""

from django.urls import path

from kpis import views_exceptions as views

urlpatterns = [
    path("exceptions/", views.exception_list, name="exception-list"),
    path("exceptions/<int:pk>/", views.exception_detail, name="exception-detail"),
    path(
        "exceptions/<int:pk>/acknowledge/",
        views.exception_acknowledge,
        name="exception-acknowledge",
    ),
    path("exceptions/<int:pk>/assign/", views.exception_assign, name="exception-assign"),
    path("exceptions/<int:pk>/resolve/", views.exception_resolve, name="exception-resolve"),
]
