"""The review sessions API: list, plan, read (with the agenda and the minutes) and change planned
sessions; generate the agenda again, start, close; walk the agenda (decide, defer, note an item);
read the minutes. Thin: reads through `decisions.selectors_sessions`, writes through
`decisions.services.sessions`.

Sessions are never deleted (the minutes are a record): DELETE and PUT answer 405.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from decisions import selectors_sessions as selectors
from decisions.api import serializers_sessions as s
from decisions.filtersets_sessions import ReviewSessionFilterSet
from decisions.services import sessions as services
from govern.api.schema import ErrorResponseSerializer
from govern.api.views import GovernViewSet

STATE_409 = OpenApiResponse(
    ErrorResponseSerializer,
    description="The session's state forbids it: `session_closed` (closed: nothing changes), "
    "`session_started` (only while planned), `session_not_started` (start it first), "
    "`item_decided` (the item was decided already).",
)
RUN_403 = OpenApiResponse(
    ErrorResponseSerializer,
    description="You may see the session but not run it (the PMO, executives and its chair "
    "run it); for a decision: you may not decide it (the message says who may) and did not ask "
    "to `propose` it.",
)
ITEM_ID = OpenApiParameter(
    "item_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The agenda item's id."
)
SESSION_EXAMPLE = {
    "cadence": "weekly_operations",
    "scheduled_for": "2026-06-01T09:00:00+02:00",
    "departments": ["PROC", "PROD"],
    "attendees": [12, 15],
    "agenda_share": 0.2,
}
DECIDE_EXAMPLE = {
    "title": "Expedite a second castings supplier",
    "chosen_option": "Qualify the second supplier within six weeks",
    "rationale": "The current supplier's furnace is six months away.",
    "reallocations": [
        {"from_initiative": 9, "to_department": "PROC", "amount": "120000", "unit": "currency"}
    ],
}


@extend_schema_view(
    list=extend_schema(
        summary="Review sessions you may see: upcoming first (soonest first), then past",
        description="Filters: `cadence`, `status`, `department` (sessions whose scope names it), "
        "`q` (title, minutes).",
    ),
    retrieve=extend_schema(
        summary="One session, with its agenda and its minutes",
        responses={200: s.ReviewSessionDetailSerializer},
    ),
    create=extend_schema(
        summary="Plan a session (the PMO, executives); its agenda is generated at once",
        description="The agenda: the worst `agenda_share` of the open exceptions in scope by "
        "severity (ceil(share × count), at least one), then the decisions due for their "
        "effectiveness review, then the contracts at risk or breached.",
        request=s.ReviewSessionInputSerializer,
        responses={201: s.ReviewSessionDetailSerializer},
        examples=[OpenApiExample("A weekly operations review", value=SESSION_EXAMPLE)],
    ),
    partial_update=extend_schema(
        summary="Change a planned session (a new date, scope or share regenerates the agenda)",
        request=s.ReviewSessionInputSerializer,
        responses={200: s.ReviewSessionDetailSerializer, 409: STATE_409},
    ),
)
class ReviewSessionViewSet(GovernViewSet):
    """Review sessions: a cadence, a scope (departments), a date, attendees and a chair; an
    agenda generated from the open exceptions, worst first, plus decisions due for review and
    contracts at risk; walked item by item into decisions, deferrals and notes; closed with
    minutes. Everyone sees the sessions of their departments, those of the whole organisation
    and those they attend; the PMO, executives and the chair run them. Never deleted."""

    serializer_class = s.ReviewSessionSerializer
    filterset_class = ReviewSessionFilterSet
    search_fields = ReviewSessionFilterSet.search_fields
    ordering_fields = ["scheduled_for", "title", "status", "created_at"]
    gated_actions: dict[str, str] = {}
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.session_list(user=self.request.user)

    def get_serializer_class(self):
        return {
            "retrieve": s.ReviewSessionDetailSerializer,
            "create": s.ReviewSessionInputSerializer,
            "partial_update": s.ReviewSessionInputSerializer,
            "close": s.SessionCloseSerializer,
            "decide": s.ItemDecideSerializer,
            "defer": s.ItemDeferSerializer,
            "note": s.ItemNoteSerializer,
        }.get(self.action, self.serializer_class)

    def _session(self, *, for_write: bool = False):
        return selectors.session_get(
            user=self.request.user, pk=self.kwargs[self.lookup_field], for_write=for_write
        )

    def _answer(self, session, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.reload(session)
        body = s.ReviewSessionDetailSerializer(fresh, context=self.get_serializer_context()).data
        response = Response(body, status=code)
        if code == status.HTTP_201_CREATED:
            location = reverse("api-review-session-detail", args=[fresh.pk])
            response["Location"] = self.request.build_absolute_uri(location)
        return response

    def _input(self):
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer

    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    def create(self, request, *args, **kwargs):
        data = dict(self._input().validated_data)
        session = services.session_create(actor=request.user, data=data)
        return self._answer(session, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        session = self._session(for_write=True)
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.session_update(
            actor=request.user, session=session, data=dict(serializer.validated_data)
        )
        return self._answer(updated)

    @extend_schema(
        summary="Generate the agenda again from what is open now (planned sessions)",
        request=None,
        responses={200: s.ReviewSessionDetailSerializer, 403: RUN_403, 409: STATE_409},
    )
    @action(detail=True, methods=["post"], url_path="generate-agenda")
    def generate_agenda(self, request, pk=None):
        session = self._session(for_write=True)
        return self._answer(services.session_generate_agenda(actor=request.user, session=session))

    @extend_schema(
        summary="Start the session: its agenda is fixed and can be walked",
        request=None,
        responses={200: s.ReviewSessionDetailSerializer, 403: RUN_403, 409: STATE_409},
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        session = self._session(for_write=True)
        return self._answer(services.session_start(actor=request.user, session=session))

    @extend_schema(
        summary="Close the session with the summary of its minutes (final)",
        request=s.SessionCloseSerializer,
        responses={200: s.ReviewSessionDetailSerializer, 403: RUN_403, 409: STATE_409},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        session = self._session(for_write=True)
        summary = self._input().validated_data["minutes_summary"]
        return self._answer(
            services.session_close(actor=request.user, session=session, summary=summary)
        )

    @extend_schema(
        summary="The minutes: decided, deferred, noted, still pending",
        responses={200: s.MinutesSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        serializer_class=s.MinutesSerializer,
    )
    def minutes(self, request, pk=None):
        session = self._session()
        return Response(s.MinutesSerializer(selectors.session_minutes(session=session)).data)

    # --- Walking the agenda -------------------------------------------------------------------

    def _item(self, item_id):
        session = self._session()
        return selectors.agenda_item_get(user=self.request.user, session=session, pk=item_id)

    def _item_answer(self, item) -> Response:
        return Response(s.AgendaItemSerializer(item, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Log a decision on an agenda item (a payload like POST /api/v1/decisions/)",
        description="Logged through the decision log with the session and the item's exception "
        "(which moves to decided) or contract; department and KPIs default to the item's (the "
        "exception's KPI). Someone who may not decide it gets 403 unless `propose` is true: then "
        "it is recorded as proposed. The item becomes `decided`.",
        parameters=[ITEM_ID],
        request=s.ItemDecideSerializer,
        responses={200: s.AgendaItemSerializer, 403: RUN_403, 409: STATE_409},
        examples=[OpenApiExample("A decision with a reallocation", value=DECIDE_EXAMPLE)],
    )
    @action(detail=True, methods=["post"], url_path=r"items/(?P<item_id>\d+)/decide")
    def decide(self, request, pk=None, item_id=None):
        item = self._item(item_id)
        data, propose = self._input().data_for_service()
        done = services.agenda_item_decide(
            actor=request.user, item=item, data=data, propose=propose
        )
        return self._item_answer(done)

    @extend_schema(
        summary="Defer an agenda item to an owner and a date after the session",
        parameters=[ITEM_ID],
        request=s.ItemDeferSerializer,
        responses={200: s.AgendaItemSerializer, 403: RUN_403, 409: STATE_409},
    )
    @action(detail=True, methods=["post"], url_path=r"items/(?P<item_id>\d+)/defer")
    def defer(self, request, pk=None, item_id=None):
        item = self._item(item_id)
        data = self._input().validated_data
        done = services.agenda_item_defer(
            actor=request.user,
            item=item,
            owner=data.get("owner"),
            deferred_to=data.get("deferred_to"),
            note=data.get("note", ""),
        )
        return self._item_answer(done)

    @extend_schema(
        summary="Note an agenda item: discussed, no decision needed",
        parameters=[ITEM_ID],
        request=s.ItemNoteSerializer,
        responses={200: s.AgendaItemSerializer, 403: RUN_403, 409: STATE_409},
    )
    @action(detail=True, methods=["post"], url_path=r"items/(?P<item_id>\d+)/note")
    def note(self, request, pk=None, item_id=None):
        item = self._item(item_id)
        note = self._input().validated_data.get("note", "")
        return self._item_answer(
            services.agenda_item_note(actor=request.user, item=item, note=note)
        )
