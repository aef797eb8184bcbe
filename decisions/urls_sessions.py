"""Review session pages, named `session-<action>` (the navigation marks them by that prefix).
There is no delete: the minutes are a record."""

from django.urls import path

from decisions import views_sessions as views

ITEM = "sessions/<int:pk>/items/<int:item_pk>"

urlpatterns = [
    path("sessions/", views.session_list, name="session-list"),
    path("sessions/new/", views.session_create, name="session-create"),
    path("sessions/<int:pk>/", views.session_detail, name="session-detail"),
    path("sessions/<int:pk>/edit/", views.session_update, name="session-update"),
    path("sessions/<int:pk>/agenda/", views.session_agenda, name="session-agenda"),
    path("sessions/<int:pk>/start/", views.session_start, name="session-start"),
    path("sessions/<int:pk>/close/", views.session_close, name="session-close"),
    path("sessions/<int:pk>/minutes/", views.session_minutes, name="session-minutes"),
    path("sessions/<int:pk>/pack.pdf", views.session_pdf, name="session-pdf"),
    path("sessions/<int:pk>/pack.csv", views.session_csv, name="session-csv"),
    path(f"{ITEM}/decide/", views.item_decide, name="session-item-decide"),
    path(f"{ITEM}/defer/", views.item_defer, name="session-item-defer"),
    path(f"{ITEM}/note/", views.item_note, name="session-item-note"),
]
