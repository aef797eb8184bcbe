"""The ripple pages: the panel partial that other pages load with htmx
(`{% url 'ripple-panel' %}?node=kpi:12`) and the full ripple page with its Sankey chart. Thin:
parse, call `ripple_selectors.ripple_of`, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dependencies.choices import NodeType
from dependencies.ripple_charts import drawn_nodes, ripple_sankey
from dependencies.ripple_selectors import MAX_DEPTH, RippleResult, parse_depth, ripple_of
from govern.errors import ApplicationError

PANEL_LIMIT = 15  # nodes listed in the panel; the full page lists the rest


def _listed(result: RippleResult) -> list:
    """The reached nodes a page lists: the departments have their own line."""
    return [n for n in result.nodes if n.type != NodeType.DEPARTMENT]


def _full_url(node: str, depth: int | None = None) -> str:
    query = f"?node={node}" + (f"&depth={depth}" if depth else "")
    return reverse("ripple") + query


@login_required
@require_GET
def ripple_panel(request: HttpRequest) -> HttpResponse:
    """The ripple of `?node=` as a fragment; errors come back as a fragment too, with their
    status (400 for a malformed node, 404 for one not found or not visible)."""
    node = request.GET.get("node", "")
    try:
        depth = parse_depth(request.GET.get("depth"))
        result = ripple_of(user=request.user, node=node, max_depth=depth)
    except ApplicationError as exc:
        return render(
            request, "dependencies/_ripple_panel.html", {"error": exc.message}, status=400
        )
    except Http404:
        return render(
            request,
            "dependencies/_ripple_panel.html",
            {"error": "This node does not exist, or you may not see it."},
            status=404,
        )
    listed = _listed(result)
    return render(
        request,
        "dependencies/_ripple_panel.html",
        {
            "result": result,
            "listed": listed[:PANEL_LIMIT],
            "more": max(len(listed) - PANEL_LIMIT, 0) + (result.total - len(result.nodes)),
            "full_url": _full_url(result.start.key, depth),
        },
    )


@login_required
@require_GET
def ripple_page(request: HttpRequest) -> HttpResponse:
    """The full ripple of `?node=` (with `&depth=`): the Sankey chart and the table of every
    listed node with its path. Without a node, the form to pick one."""
    node = request.GET.get("node", "").strip()
    context: dict = {"node": node, "depth": request.GET.get("depth", ""), "max_depth": MAX_DEPTH}
    if not node:
        return render(request, "dependencies/ripple.html", context)
    try:
        depth = parse_depth(request.GET.get("depth"))
        result = ripple_of(user=request.user, node=node, max_depth=depth)
    except ApplicationError as exc:
        context["errors"] = exc.fields or {"node": [exc.message]}
        return render(request, "dependencies/ripple.html", context, status=400)
    listed = _listed(result)
    context.update(
        result=result,
        listed=listed,
        chart=ripple_sankey(result),
        drawn=len(drawn_nodes(result)),
        depth_groups=_by_depth(listed),
    )
    return render(request, "dependencies/ripple.html", context)


def _by_depth(nodes: list) -> list[tuple[int, list]]:
    groups: dict[int, list] = {}
    for node in nodes:
        groups.setdefault(node.depth, []).append(node)
    return sorted(groups.items())
