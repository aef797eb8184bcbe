"""The ripple pages: the full view (/ripple/?node=…) and the panel partial other pages load with
htmx (`{% url 'ripple-panel' %}?node=contract:<id>`)."""

from django.urls import path

from dependencies import views_ripple

urlpatterns = [
    path("ripple/", views_ripple.ripple_page, name="ripple"),
    path("ripple/panel/", views_ripple.ripple_panel, name="ripple-panel"),
]
