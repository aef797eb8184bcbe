"""The notification pages: the inbox behind the bell in the header, and "My settings" where a
person chooses how notifications reach them by email. Everyone sees only their own notifications:
another person's is a 404, as if it did not exist."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from govern import forms, notifications, permissions, selectors
from govern.models import Notification
from govern.views import form_data, form_methods, form_page, paginate


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    unread_only = request.GET.get("unread") == "true"
    rows = selectors.notification_list(user=user, unread=True if unread_only else None)
    return render(
        request,
        "govern/notifications/list.html",
        {"page": paginate(request, rows), "unread_only": unread_only},
    )


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification to its subject, marking it read on the way."""
    notification = permissions.access(Notification, request.user, pk)
    notifications.notification_mark_read(actor=request.user, notification=notification)
    target = notification.link
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect("notification-list")
    return redirect(target)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = permissions.access(Notification, request.user, pk)
    notifications.notification_mark_read(actor=request.user, notification=notification)
    return redirect(_back(request))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    marked = notifications.notifications_mark_all_read(actor=request.user)
    noun = "notification" if marked == 1 else "notifications"
    messages.success(request, f"Marked {marked} {noun} read.")
    return redirect(_back(request))


@login_required
@form_methods
def my_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.NotificationSettingsForm(
        form_data(request), initial={"notification_delivery": user.notification_delivery}
    )
    if form.is_valid():
        updated = form.submit(
            lambda data: notifications.notification_delivery_set(
                actor=user, person=user, delivery=data["notification_delivery"]
            )
        )
        if updated:
            messages.success(
                request, f"Saved: {updated.get_notification_delivery_display().lower()}."
            )
            return redirect("my-settings")
    if user.email:
        intro = f"Emails go to {user.email}."
    else:
        intro = (
            "You have no email address in Govern, so you get no email whatever you choose here: "
            "ask the PMO to add one to your profile."
        )
    return form_page(
        request,
        form,
        title="My settings",
        intro=intro,
        submit="Save settings",
        cancel_url=user.get_absolute_url(),
    )


def _back(request: HttpRequest) -> str:
    """Back to the notifications page the form was posted from (same site only)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "notification-list"
