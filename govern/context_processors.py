"""Template context for the base layout: the current plan version, the navigation and the
unread count on the notification bell."""

from django.http import HttpRequest
from django.urls import reverse

from govern.selectors import current_plan_version, notification_unread_count

# (label, url name, url-name prefixes that mark the item as the current section)
NAVIGATION = (
    ("Dashboard", "dashboard", ("dashboard",)),
    ("Objectives", "objective-list", ("objective-",)),
    ("Initiatives", "initiative-list", ("initiative-", "milestone-")),
    ("Exceptions", "exception-list", ("exception-",)),
    ("Decisions", "decision-list", ("decision-", "contingency-")),
    ("Reviews", "session-list", ("session-",)),
    ("KPIs", "kpi-list", ("kpi-", "import-")),
    ("Contracts", "contract-list", ("contract-",)),
    ("People", "person-list", ("person-", "membership-", "alignment-")),
    ("Departments", "department-list", ("department-",)),
    ("Plans", "planversion-list", ("planversion-",)),
)


def navigation(request: HttpRequest) -> dict:
    if not request.user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    current = (match.url_name or "") if match else ""
    items = [
        {"label": label, "url": reverse(name), "active": current.startswith(prefixes)}
        for label, name, prefixes in NAVIGATION
    ]
    return {
        "current_plan": current_plan_version(),
        "navigation": items,
        "unread_notifications": notification_unread_count(user=request.user),
    }
