"""The REST API: thin views over the selectors (reads) and the services (writes).

Every list is scoped by a selector to what the requesting user may see. One object goes through the
permissions gate: 404 when the user may not see it, 403 when they see it but may not do what they
ask. Writes validate the input's shape with a serializer and hand `validated_data` to one service,
which checks the permission again, validates the rules and writes the audit event.
"""

from __future__ import annotations

from django.db.models import Model
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from govern import filtersets, notifications, selectors, services
from govern import permissions as perms
from govern.api import serializers as s
from govern.api.schema import ErrorResponseSerializer
from govern.choices import ObjectiveLevel
from govern.models import Department, Membership, Notification, Person, PlanVersion

# --- Shared behaviour -------------------------------------------------------------------------


class GovernViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # List (scoped, filtered, ordered, paginated), retrieve and history for one governed model.
    # (Comments, not a docstring: the schema shows each concrete viewset's own docstring.)
    #
    # `gated_actions` maps an action to the permission it needs on the object, checked by the gate
    # before the input is even read. `add_gate`: the model whose creation is refused up front when
    # the user may create none at all (models that do not depend on a department).

    gated_actions: dict[str, str] = {
        "update": perms.CHANGE,
        "partial_update": perms.CHANGE,
        "destroy": perms.DELETE,
    }
    add_gate: type[Model] | None = None

    def get_object(self):
        queryset = self.get_queryset()
        obj = perms.access(
            queryset.model, self.request.user, self.kwargs[self.lookup_field], queryset=queryset
        )
        needed = self.gated_actions.get(self.action)
        if needed is not None:
            perms.ensure_allowed(self.request.user, needed, obj)
        return obj

    def reload(self, obj: Model) -> Model:
        """The object as the list shows it (with the selector's annotations), after a write."""
        return self.get_queryset().get(pk=obj.pk)

    @extend_schema(
        summary="History: the audit events of this object, newest first",
        responses=s.AuditEventSerializer(many=True),
    )
    @action(
        detail=True, methods=["get"], filter_backends=[], serializer_class=s.AuditEventSerializer
    )
    def history(self, request, pk=None):
        subject = self.get_object()
        page = self.paginate_queryset(selectors.audit_history(subject=subject, limit=None))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CreateWithService:
    # POST: gate, validate the shape, call `service_create(data)`, answer with the stored object.
    def create(self, request, *args, **kwargs):
        if self.add_gate is not None:
            perms.ensure_can_add(request.user, self.add_gate)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = self.service_create(dict(serializer.validated_data))
        return Response(
            self.get_serializer(self.reload(created)).data, status=status.HTTP_201_CREATED
        )


class UpdateWithService:
    # PUT / PATCH: gate the object, validate the shape, call `service_update(instance, data)`.
    def update(self, request, *args, partial=False, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        updated = self.service_update(instance, dict(serializer.validated_data))
        return Response(self.get_serializer(self.reload(updated)).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class DestroyWithService:
    # DELETE: gate the object, call `service_delete(instance)`.
    def destroy(self, request, *args, **kwargs):
        self.service_delete(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Departments, people, memberships ---------------------------------------------------------


class DepartmentViewSet(CreateWithService, UpdateWithService, DestroyWithService, GovernViewSet):
    """Departments. Everyone sees their own departments, executives and PMO see all; only the PMO
    changes them."""

    serializer_class = s.DepartmentSerializer
    filterset_class = filtersets.DepartmentFilterSet
    search_fields = filtersets.DepartmentFilterSet.search_fields
    ordering_fields = ["code", "name", "member_count", "initiative_count", "created_at"]
    add_gate = Department

    def get_queryset(self):
        return selectors.department_list(user=self.request.user)

    def service_create(self, data):
        return services.department_create(actor=self.request.user, **data)

    def service_update(self, department, data):
        return services.department_update(actor=self.request.user, department=department, data=data)

    def service_delete(self, department):
        services.department_delete(actor=self.request.user, department=department)


class PersonViewSet(CreateWithService, UpdateWithService, GovernViewSet):
    """People are never deleted: set `is_active` to false to deactivate an account."""

    serializer_class = s.PersonSerializer
    filterset_class = filtersets.PersonFilterSet
    search_fields = filtersets.PersonFilterSet.search_fields
    ordering_fields = ["username", "first_name", "last_name", "email", "date_joined"]
    add_gate = Person

    def get_serializer_class(self):
        if self.action == "create":
            return s.PersonCreateSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        return selectors.person_list(user=self.request.user)

    def service_create(self, data):
        return services.person_create(actor=self.request.user, **data)

    def service_update(self, person, data):
        return services.person_update(actor=self.request.user, person=person, data=data)


class MembershipViewSet(CreateWithService, UpdateWithService, DestroyWithService, GovernViewSet):
    """Who belongs to which department, with which role. Only the PMO changes memberships."""

    serializer_class = s.MembershipSerializer
    filterset_class = filtersets.MembershipFilterSet
    search_fields = ("person__username", "person__first_name", "person__last_name")
    ordering_fields = ["role", "department__name", "person__last_name", "created_at"]
    add_gate = Membership

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.MembershipUpdateSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        return selectors.membership_list(user=self.request.user)

    def service_create(self, data):
        return services.membership_create(actor=self.request.user, **data)

    def service_update(self, membership, data):
        return services.membership_update(
            actor=self.request.user, membership=membership, role=data.get("role", membership.role)
        )

    def service_delete(self, membership):
        services.membership_delete(actor=self.request.user, membership=membership)


# --- Objectives, initiatives, milestones ------------------------------------------------------

TREE_FILTERS = ("department", "level", "q")


class ObjectiveViewSet(CreateWithService, UpdateWithService, DestroyWithService, GovernViewSet):
    """Strategic and annual objectives (the Hoshin cascade). The PMO maintains them; department
    leads maintain their departments' annual objectives."""

    serializer_class = s.ObjectiveSerializer
    filterset_class = filtersets.ObjectiveFilterSet
    search_fields = filtersets.ObjectiveFilterSet.search_fields
    ordering_fields = ["title", "level", "start_date", "end_date", "weight", "progress"]

    def get_queryset(self):
        return selectors.objective_list(user=self.request.user)

    def service_create(self, data):
        return services.objective_create(actor=self.request.user, **data)

    def service_update(self, objective, data):
        return services.objective_update(actor=self.request.user, objective=objective, data=data)

    def service_delete(self, objective):
        services.objective_delete(actor=self.request.user, objective=objective)

    @extend_schema(
        summary="The visible objectives as a cascade (strategic → annual)",
        parameters=[
            OpenApiParameter("department", int, description="Only this department's objectives"),
            OpenApiParameter("level", str, enum=ObjectiveLevel.values),
            OpenApiParameter("q", str, description="Search in titles and descriptions"),
        ],
        responses=s.ObjectiveTreeNodeSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def tree(self, request):
        filters = {
            key: request.query_params[key] for key in TREE_FILTERS if key in request.query_params
        }
        roots = selectors.objective_tree(user=request.user, filters=filters)
        return Response(s.ObjectiveTreeNodeSerializer(roots, many=True).data)


class InitiativeViewSet(CreateWithService, UpdateWithService, DestroyWithService, GovernViewSet):
    """Initiatives: time-boxed efforts owned by one department and one person. Written by the PMO
    and the department's leads."""

    serializer_class = s.InitiativeSerializer
    filterset_class = filtersets.InitiativeFilterSet
    search_fields = filtersets.InitiativeFilterSet.search_fields
    ordering_fields = [
        "name", "start_date", "end_date", "budget", "fte", "status", "milestone_count",
        "milestones_overdue",
    ]  # fmt: skip

    def get_queryset(self):
        return selectors.initiative_list(user=self.request.user)

    def service_create(self, data):
        return services.initiative_create(actor=self.request.user, **data)

    def service_update(self, initiative, data):
        objectives = data.pop("objectives", None)
        return services.initiative_update(
            actor=self.request.user, initiative=initiative, data=data, objectives=objectives
        )

    def service_delete(self, initiative):
        services.initiative_delete(actor=self.request.user, initiative=initiative)


class MilestoneViewSet(CreateWithService, UpdateWithService, DestroyWithService, GovernViewSet):
    """Milestones of initiatives. Written by the PMO and the department's leads; a milestone's owner
    reports progress on it."""

    serializer_class = s.MilestoneSerializer
    filterset_class = filtersets.MilestoneFilterSet
    search_fields = filtersets.MilestoneFilterSet.search_fields
    ordering_fields = ["due_date", "completed_date", "name", "status", "overdue"]
    gated_actions = {**GovernViewSet.gated_actions, "progress": perms.PROGRESS}

    def get_queryset(self):
        return selectors.milestone_list(user=self.request.user)

    def service_create(self, data):
        return services.milestone_create(actor=self.request.user, **data)

    def service_update(self, milestone, data):
        return services.milestone_update(actor=self.request.user, milestone=milestone, data=data)

    def service_delete(self, milestone):
        services.milestone_delete(actor=self.request.user, milestone=milestone)

    @extend_schema(
        summary="Report progress: status and completion date (open to the milestone's owner)",
        request=s.MilestoneProgressSerializer,
        responses=s.MilestoneSerializer,
    )
    @action(detail=True, methods=["post"], serializer_class=s.MilestoneProgressSerializer)
    def progress(self, request, pk=None):
        milestone = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone = services.milestone_report_progress(
            actor=request.user, milestone=milestone, **serializer.validated_data
        )
        return Response(
            s.MilestoneSerializer(
                self.reload(milestone), context=self.get_serializer_context()
            ).data
        )


# --- Plan versions ----------------------------------------------------------------------------


class PlanVersionViewSet(CreateWithService, UpdateWithService, DestroyWithService, GovernViewSet):
    """Only drafts can be edited or deleted; approving a draft supersedes the current version."""

    serializer_class = s.PlanVersionSerializer
    filterset_class = filtersets.PlanVersionFilterSet
    search_fields = filtersets.PlanVersionFilterSet.search_fields
    ordering_fields = ["name", "status", "created_at", "approved_at"]
    gated_actions = {**GovernViewSet.gated_actions, "approve": perms.APPROVE}
    add_gate = PlanVersion

    def get_queryset(self):
        return selectors.plan_version_list(user=self.request.user)

    def service_create(self, data):
        return services.plan_version_create(actor=self.request.user, **data)

    def service_update(self, plan_version, data):
        return services.plan_version_update(
            actor=self.request.user, plan_version=plan_version, data=data
        )

    def service_delete(self, plan_version):
        services.plan_version_delete(actor=self.request.user, plan_version=plan_version)

    @extend_schema(
        summary="Approve a draft: it becomes the current plan, the previous one is superseded",
        request=s.PlanVersionApproveSerializer,
        responses=s.PlanVersionSerializer,
    )
    @action(detail=True, methods=["post"], serializer_class=s.PlanVersionApproveSerializer)
    def approve(self, request, pk=None):
        plan_version = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approved = services.plan_version_approve(
            actor=request.user, plan_version=plan_version, **serializer.validated_data
        )
        return Response(
            s.PlanVersionSerializer(
                self.reload(approved), context=self.get_serializer_context()
            ).data
        )

    @extend_schema(
        summary="The current (approved) plan version",
        responses={
            200: s.PlanVersionSerializer,
            404: OpenApiResponse(
                ErrorResponseSerializer, description="No plan version has been approved yet."
            ),
        },
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def current(self, request):
        current = selectors.current_plan_version()
        if current is None:
            raise NotFound("No plan version has been approved yet.")
        return Response(self.get_serializer(current).data)


# --- Audit log, the current user, tokens ------------------------------------------------------


class ReadsEverything(BasePermission):
    """The full audit log is open to the people who read every department: executives and PMO."""

    message = "The audit log is open to executives and the PMO only."

    def has_permission(self, request, view) -> bool:
        return perms.scope_for(request.user).reads_everything


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every governance action, newest first. Each object's own history is at `…/{id}/history/`."""

    serializer_class = s.AuditEventSerializer
    permission_classes = [IsAuthenticated, ReadsEverything]
    filterset_fields = {
        "action": ["exact"],
        "subject_type": ["exact"],
        "subject_id": ["exact"],
        "actor": ["exact"],
        "occurred_at": ["gte", "lte"],
    }
    search_fields = ("subject_name", "actor_name", "reason")
    ordering_fields = ["occurred_at"]

    def get_queryset(self):
        return selectors.audit_log(user=self.request.user)


class MeView(APIView):
    @extend_schema(
        summary="The current user, their memberships and what they may do",
        responses=s.MeSerializer,
    )
    def get(self, request):
        return Response(s.MeSerializer(self._me(request.user)).data)

    @extend_schema(
        summary="Change your own settings: how notifications reach you by email",
        request=s.MeUpdateSerializer,
        responses=s.MeSerializer,
        examples=[
            OpenApiExample(
                "One email a day",
                value={"notification_delivery": "daily_digest"},
                request_only=True,
            )
        ],
    )
    def patch(self, request):
        serializer = s.MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = request.user
        if "notification_delivery" in serializer.validated_data:
            user = notifications.notification_delivery_set(
                actor=user,
                person=user,
                delivery=serializer.validated_data["notification_delivery"],
            )
        return Response(s.MeSerializer(self._me(user)).data)

    def _me(self, user) -> dict:
        scope = perms.scope_for(user)
        me = {
            "id": user.pk,
            "username": user.username,
            "display_name": str(user),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "job_title": user.job_title,
            "memberships": selectors.membership_list(user=user, filters={"person": user.pk}),
            "reads_everything": scope.reads_everything,
            "is_pmo": scope.is_pmo,
            "is_executive": scope.is_executive,
            "lead_departments": sorted(scope.lead_departments),
            "notification_delivery": user.notification_delivery,
        }
        return me


# --- Notifications ----------------------------------------------------------------------------

NOTIFICATION_EXAMPLE = {
    "id": 311, "kind": "exception_opened", "kind_display": "New exception",
    "title": "New exception: PROC-OTD is red: Supplier on-time delivery",
    "body": "A new exception needs a decision by 11 Apr 2026 06:00.\n\n…",
    "link": "/exceptions/41/", "subject_type": "kpis.kpiexception", "subject_id": "41",
    "created_at": "2026-04-08T06:00:00Z", "read_at": None, "is_unread": True,
}  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="Your notifications, newest first",
        description="Only your own. `unread=true` keeps the unread ones; `kind` filters by kind.",
        examples=[
            OpenApiExample("A new exception", value=NOTIFICATION_EXAMPLE, response_only=True)
        ],
    ),
    retrieve=extend_schema(
        summary="One of your notifications",
        examples=[
            OpenApiExample("A new exception", value=NOTIFICATION_EXAMPLE, response_only=True)
        ],
    ),
)
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your in-app notifications. Everyone sees and marks only their own: another person's
    notification answers 404."""

    serializer_class = s.NotificationSerializer
    filterset_class = filtersets.NotificationFilterSet
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    def get_object(self):
        queryset = self.get_queryset()
        return perms.access(
            Notification, self.request.user, self.kwargs[self.lookup_field], queryset=queryset
        )

    @extend_schema(summary="Mark one of your notifications read", request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def read(self, request, pk=None):
        notification = notifications.notification_mark_read(
            actor=request.user, notification=self.get_object()
        )
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary="Mark all your notifications read",
        request=None,
        responses=s.NotificationsMarkedSerializer,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="read-all",
        filter_backends=[],
        pagination_class=None,
        serializer_class=s.NotificationsMarkedSerializer,
    )
    def read_all(self, request):
        marked = notifications.notifications_mark_all_read(actor=request.user)
        return Response({"marked": marked})


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for the API token to send as `Authorization: Token …`."""

    authentication_classes = ()

    @extend_schema(
        summary="Obtain an API token",
        request=AuthTokenSerializer,
        responses=s.TokenSerializer,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
