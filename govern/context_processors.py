"""Template context for the base layout: the navigation, marked with what the user may open."""

from django.http import HttpRequest

from govern.selectors import current_plan_version


def navigation(request: HttpRequest) -> dict:
    if not request.user.is_authenticated:
        return {}
    return {"current_plan": current_plan_version()}
