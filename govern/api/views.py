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
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dependencies import selectors as contract_selectors
from dependencies.models import Contract
from dependencies.services import plan_versions as contract_plans
from govern import filtersets, notifications, selectors, services
from govern import permissions as perms
from govern.api import serializers as s
from govern.api.schema import ErrorResponseSerializer
from govern.choices import ObjectiveLevel
from govern.models import Department, Membership, Notification, Person, PlanVersion
from kpis import selectors as kpi_selectors

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


COMPARE_ROWS = 500  # rows per list of a comparison; the counts are always complete
STATUS_409 = OpenApiResponse(
    ErrorResponseSerializer,
    description="Its status forbids it: only a draft is edited, deleted or proposed (and has "
    "contracts dropped or restored); only a proposed version is withdrawn or approved.",
)
CONTRACT_ID = OpenApiParameter(
    "contract_id", int, OpenApiParameter.PATH, description="The contract's id."
)
WITH_MISSING = "Give the id of the plan version to compare with, e.g. ?with=3."
DETAIL_PERIODS = "periods"  # ?detail=periods: the comparison's rows per KPI and period too


@extend_schema_view(
    create=extend_schema(
        summary="Make a draft from the current version (or the one named in `based_on`)",
        description="The draft gets every target of that version and the terms of its contracts "
        "still open, in the same transaction (PMO).",
        request=s.PlanVersionCreateSerializer,
        responses={201: s.PlanVersionSerializer},
    ),
)
class PlanVersionViewSet(CreateWithService, UpdateWithService, DestroyWithService, GovernViewSet):
    """Plan versions: draft (PMO) → proposed (PMO) → approved, the one current version (an
    executive) → superseded. Only drafts are edited or deleted; a proposed version goes back to
    draft to be changed (withdraw). Any two versions compare."""

    serializer_class = s.PlanVersionSerializer
    filterset_class = filtersets.PlanVersionFilterSet
    search_fields = filtersets.PlanVersionFilterSet.search_fields
    ordering_fields = ["name", "status", "created_at", "approved_at"]
    gated_actions = {
        **GovernViewSet.gated_actions,
        "approve": perms.APPROVE,
        "propose": perms.PROPOSE,
        "withdraw": perms.WITHDRAW,
        "contract_drop": perms.CHANGE,
        "contract_restore": perms.CHANGE,
    }
    add_gate = PlanVersion

    def get_queryset(self):
        return selectors.plan_version_list(user=self.request.user)

    def get_serializer_class(self):
        return {
            "create": s.PlanVersionCreateSerializer,
            "propose": s.PlanVersionProposeSerializer,
            "withdraw": s.PlanVersionWithdrawSerializer,
            "approve": s.PlanVersionApproveSerializer,
            "contract_drop": s.PlanContractActionSerializer,
            "contract_restore": s.PlanContractActionSerializer,
        }.get(self.action, self.serializer_class)

    def create(self, request, *args, **kwargs):
        perms.ensure_can_add(request.user, PlanVersion)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = services.plan_version_create_draft(actor=request.user, **serializer.validated_data)
        return self._answer(draft, status.HTTP_201_CREATED)

    def service_update(self, plan_version, data):
        return services.plan_version_update(
            actor=self.request.user, plan_version=plan_version, data=data
        )

    def service_delete(self, plan_version):
        services.plan_version_delete(actor=self.request.user, plan_version=plan_version)

    def _answer(self, plan_version, code: int = status.HTTP_200_OK) -> Response:
        body = s.PlanVersionSerializer(
            self.reload(plan_version), context=self.get_serializer_context()
        ).data
        return Response(body, status=code)

    def _input(self, request) -> dict:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(
        summary="Propose a draft for approval (PMO): it can no longer be edited",
        request=s.PlanVersionProposeSerializer,
        responses={200: s.PlanVersionSerializer, 409: STATUS_409},
    )
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        plan_version = self.get_object()
        data = self._input(request)
        return self._answer(
            services.plan_version_propose(actor=request.user, plan_version=plan_version, **data)
        )

    @extend_schema(
        summary="Take a proposed version back to draft, with a reason (PMO or an executive)",
        request=s.PlanVersionWithdrawSerializer,
        responses={200: s.PlanVersionSerializer, 409: STATUS_409},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        plan_version = self.get_object()
        data = self._input(request)
        return self._answer(
            services.plan_version_withdraw(actor=request.user, plan_version=plan_version, **data)
        )

    @extend_schema(
        summary="Approve a proposed version (an executive): it becomes the current plan",
        description="The version it replaces is superseded; the contracts it carries move to it "
        "and those the PMO dropped are cancelled; variance is recomputed against its targets "
        "for the periods still running or to come (periods already ended keep theirs).",
        request=s.PlanVersionApproveSerializer,
        responses={200: s.PlanVersionSerializer, 409: STATUS_409},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        plan_version = self.get_object()
        data = self._input(request)
        return self._answer(
            services.plan_version_approve(actor=request.user, plan_version=plan_version, **data)
        )

    def _contract_action(self, request, contract_id, write):
        plan_version = self.get_object()
        contract = perms.access(Contract, request.user, contract_id)
        data = self._input(request)
        row = write(actor=request.user, plan_version=plan_version, contract=contract, **data)
        return Response(s.PlanContractSerializer(row).data)

    @extend_schema(
        summary="Drop a contract from a draft (PMO): its approval will cancel the contract",
        parameters=[CONTRACT_ID],
        request=s.PlanContractActionSerializer,
        responses={200: s.PlanContractSerializer, 409: STATUS_409},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"contracts/(?P<contract_id>\d+)/drop",
        url_name="contract-drop",
    )
    def contract_drop(self, request, pk=None, contract_id=None):
        return self._contract_action(request, contract_id, contract_plans.plan_contract_drop)

    @extend_schema(
        summary="Carry a dropped contract in a draft again (PMO)",
        parameters=[CONTRACT_ID],
        request=s.PlanContractActionSerializer,
        responses={200: s.PlanContractSerializer, 409: STATUS_409},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"contracts/(?P<contract_id>\d+)/restore",
        url_name="contract-restore",
    )
    def contract_restore(self, request, pk=None, contract_id=None):
        return self._contract_action(request, contract_id, contract_plans.plan_contract_restore)

    @extend_schema(
        summary="Compare this version (a) with another (b): targets per KPI, and contracts",
        description="Over the KPIs and contracts you may see: one row per KPI whose targets "
        "differ (periods changed of those planned, first and last, the first one's old → new, "
        "the mean change %, the verdict: eased, tightened, re-phased), the KPIs eased while red "
        "first, then the other eased ones, then the rest, each by code; with `detail=periods` "
        "also one row per KPI and period (old, new, change %, eased); the KPIs planned in only "
        "one of the two; the contracts added, changed (term by term), removed and dropped. "
        f"Each list is cut at {COMPARE_ROWS} rows; `kpi` narrows the target lists to one KPI. "
        "The counts are always those of the whole comparison.",
        parameters=[
            OpenApiParameter(
                "with", int, required=True, description="The id of the other plan version (b)."
            ),
            OpenApiParameter(
                "detail",
                str,
                enum=[DETAIL_PERIODS],
                description="`periods`: add `targets.rows`, one per differing KPI and period.",
            ),
            OpenApiParameter(
                "kpi", int, description="Narrow `targets.kpis` and `targets.rows` to this KPI."
            ),
        ],
        responses={
            200: s.PlanCompareSerializer,
            400: OpenApiResponse(
                ErrorResponseSerializer,
                description="`with` is missing, not an id, or not another plan version; "
                "`detail` is not `periods`; `kpi` is not an id.",
            ),
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def compare(self, request, pk=None):
        a = self.get_object()
        b = self._other(a, request.query_params.get("with"))
        detail, kpi = self._compare_options(request.query_params)
        targets = kpi_selectors.plan_target_changes(user=request.user, a=a, b=b, kpi=kpi)
        contracts = contract_selectors.plan_contract_changes(user=request.user, a=a, b=b)
        body = {
            "a": a,
            "b": b,
            "targets": {
                "changed_count": targets.changed,
                "eased_count": targets.eased,
                "periods_added_count": targets.periods_added,
                "periods_removed_count": targets.periods_removed,
                "kpis_changed_count": targets.kpis_changed,
                "kpis_eased_count": targets.kpis_eased,
                "kpis_eased_while_red_count": targets.kpis_eased_while_red,
                "kpis": targets.kpis[:COMPARE_ROWS],
                **({"rows": targets.rows[:COMPARE_ROWS]} if detail else {}),
                "kpis_added_count": targets.kpis_added_count,
                "kpis_added": targets.kpis_added[:COMPARE_ROWS],
                "kpis_removed_count": targets.kpis_removed_count,
                "kpis_removed": targets.kpis_removed[:COMPARE_ROWS],
            },
            "contracts": {
                "a_count": contracts.a_count,
                "b_count": contracts.b_count,
                **{
                    name: getattr(contracts, name)[:COMPARE_ROWS]
                    for name in ("added", "changed", "removed", "dropped")
                },
            },
        }
        return Response(s.PlanCompareSerializer(body).data)

    @staticmethod
    def _compare_options(params) -> tuple[bool, int | None]:
        """`detail=periods` (the rows per KPI and period wanted) and `kpi` (an id, or None);
        400 on either field otherwise."""
        errors = {}
        detail = params.get("detail", "").strip()
        if detail not in ("", DETAIL_PERIODS):
            errors["detail"] = [f"{detail!r} is not a detail; give detail={DETAIL_PERIODS}."]
        kpi = params.get("kpi", "").strip()
        if kpi and not (kpi.isdigit() and int(kpi) > 0):
            errors["kpi"] = [f"{kpi!r} is not a KPI id, e.g. kpi=12."]
        if errors:
            raise ValidationError(errors)
        return detail == DETAIL_PERIODS, int(kpi) if kpi else None

    def _other(self, a: PlanVersion, raw: str | None) -> PlanVersion:
        """The version named by `with`, among those the user may see; 400 on `with` otherwise."""
        raw = (raw or "").strip()
        if not raw:
            raise ValidationError({"with": [WITH_MISSING]})
        if not raw.isdigit():
            raise ValidationError({"with": [f"{raw!r} is not a plan version id. {WITH_MISSING}"]})
        other = selectors.plan_version_list(user=self.request.user).filter(pk=int(raw)).first()
        if other is None:
            raise ValidationError({"with": [f"There is no plan version {raw}."]})
        if other.pk == a.pk:
            raise ValidationError({"with": ["Give another plan version than the one compared."]})
        return other

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
