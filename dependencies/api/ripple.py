"""The ripple API: GET /api/v1/ripple/?node=<type>:<id or code>&depth=<n>. Thin: parses, calls
`dependencies.ripple_selectors.ripple_of`, serializes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from dependencies.api.ripple_serializers import RippleSerializer
from dependencies.ripple_selectors import MAX_DEPTH, NODE_LIMIT, parse_depth, ripple_of
from govern.api.schema import ERROR_DESCRIPTIONS, ErrorResponseSerializer

RIPPLE_EXAMPLE = {
    "start": {
        "key": "contract:1", "type": "contract", "id": 1, "depth": 0, "path": ["contract:1"],
        "via": "", "department": 2, "department_name": "Procurement", "visible": True,
        "label": "PROC-PROD-CASTINGS — Castings supply", "url": "/contracts/1/",
        "status": "breached", "status_label": "Breached", "tone": "danger", "exception": None,
    },
    "max_depth": None, "reach": 4.0, "reached": 3, "truncated": False,
    "tradeoff_required": True,
    "counts": {
        "objective": 0, "initiative": 0, "milestone": 0, "kpi": 1, "contract": 0, "department": 2,
    },
    "departments": [
        {"id": 2, "code": "PROC", "name": "Procurement"},
        {"id": 3, "code": "PROD", "name": "Production"},
    ],
    "other_departments": [{"id": 3, "code": "PROD", "name": "Production"}],
    "nodes": [
        {
            "key": "department:2", "type": "department", "id": 2, "depth": 1,
            "path": ["contract:1", "department:2"], "via": "owned_by", "department": 2,
            "department_name": "Procurement", "visible": True, "label": "Procurement",
            "url": "/departments/2/", "status": "", "status_label": "", "tone": "neutral",
            "exception": None,
        },
        {
            "key": "kpi:7", "type": "kpi", "id": 7, "depth": 1, "path": ["contract:1", "kpi:7"],
            "via": "depends_on", "department": 3, "department_name": "Production",
            "visible": True, "label": "PROD-THRU — Throughput", "url": "/kpis/7/",
            "status": "amber", "status_label": "Amber", "tone": "warning", "exception": None,
        },
        {
            "key": "department:3", "type": "department", "id": 3, "depth": 2,
            "path": ["contract:1", "kpi:7", "department:3"], "via": "owned_by",
            "department": 3, "department_name": "Production", "visible": False, "label": None,
            "url": None, "status": None, "status_label": None, "tone": "neutral",
            "exception": None,
        },
    ],
}  # fmt: skip


class RippleView(APIView):
    """The downstream set reached from one node of the dependency graph."""

    @extend_schema(
        summary="The ripple effect of one node: what it reaches downstream, with the paths",
        description=(
            "From a KPI, milestone, initiative, objective, contract or department, the nodes "
            "reached through the dependency graph (edges point downstream; departments are "
            "sinks), each with its depth and one shortest path, and the summary: reach score, "
            "departments, objectives, KPIs and contracts touched. The start must be visible to "
            f"you (else 404). Reached nodes you may not see come with their type and department "
            f"only. `nodes` lists the nearest {NODE_LIMIT}; the counts cover all. See "
            "docs/ripple.md."
        ),
        parameters=[
            OpenApiParameter(
                "node",
                str,
                required=True,
                description=(
                    "The start node: `<type>:<id>`, or for a KPI, contract or department "
                    "`<type>:<code>` (e.g. `kpi:PROC-OTD`, `contract:PROC-PROD-CASTINGS`)."
                ),
            ),
            OpenApiParameter(
                "depth",
                int,
                required=False,
                description=f"Stop this many edges from the start (1–{MAX_DEPTH}).",
            ),
        ],
        responses={
            200: RippleSerializer,
            400: OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS["400"]),
            404: OpenApiResponse(
                ErrorResponseSerializer,
                description="No such node, or not visible to you.",
            ),
        },
        examples=[OpenApiExample("A breached contract", value=RIPPLE_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        result = ripple_of(
            user=request.user,
            node=request.query_params.get("node", ""),
            max_depth=parse_depth(request.query_params.get("depth")),
        )
        return Response(RippleSerializer(result).data)
