"""The contracts API: scoped CRUD on drafts, the lifecycle (propose, agree, fulfil, cancel), the
versions with their diff, and the amendments. Thin: reads through `dependencies.selectors`,
writes through `dependencies.services`.

Every response about one contract carries `ETag: "<revision>"`; writes honour `If-Match` (or a
`revision` in the body): a stale one answers 409 and changes nothing.
"""

from __future__ import annotations

import re

from django.db.models import Model
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from dependencies import filtersets, selectors
from dependencies import permissions as contract_perms
from dependencies.api import serializers as s
from dependencies.models import Amendment, Contract, ContractVersion
from dependencies.services import amendments as amendment_services
from dependencies.services import contracts as contract_services
from govern import permissions as perms
from govern.api.schema import ErrorResponseSerializer
from govern.api.serializers import AuditEventSerializer
from govern.api.views import GovernViewSet
from govern.selectors import audit_history

ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
ETAG_HEADER = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The ETag you read, e.g. "7": a stale one answers 409 and changes nothing.',
)
CONTRACT_PK = OpenApiParameter(
    "contract_pk", int, OpenApiParameter.PATH, description="The contract's id."
)
NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="The number.")
STALE_409 = OpenApiResponse(
    ErrorResponseSerializer,
    description="A stale revision (`stale`, with the current one in `details.revision`), or "
    "the contract's state forbids it (e.g. `terms_frozen`: agreed terms change by amendment).",
)

CONTRACT_EXAMPLE = {
    "code": "PROC-PROD-CASTINGS", "title": "Castings supply to the foundry line",
    "provider_department": "PROC", "provider_owner": 12, "consumer_department": "PROD",
    "consumer_owner": 15, "deliverable": "2,000 castings a week, to the line",
    "acceptance_criteria": "First-pass quality ≥ 98%", "due_date": None,
    "service_kpi": "PROC-OTD", "service_comparison": "gte", "service_threshold": 95,
    "service_level": "on-time ≥ 95%", "criticality": 5, "consumer_kpis": ["PROD-THROUGHPUT"],
}  # fmt: skip


def expected_revision(request, body_revision: int | None) -> int | None:
    """The revision the client based its write on: If-Match (`"7"`, `W/"7"`, or `*` for any),
    else `revision` in the body, else None (no check)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return body_revision
    match = ETAG.match(header)
    if match is None:
        raise ValidationError({"If-Match": [f'Send the ETag you read, e.g. "7"; got {header!r}.']})
    revision = int(match.group(1))
    if body_revision is not None and body_revision != revision:
        raise ValidationError(
            {"revision": [f"The body says revision {body_revision}, If-Match says {revision}."]}
        )
    return revision


def with_etag(response: Response, contract: Contract) -> Response:
    response["ETag"] = contract.etag
    return response


@extend_schema_view(
    list=extend_schema(
        summary="Contracts you may see, worst health first",
        description="Filters: `department` (either side), `side` (provider/consumer: that "
        "side is `department`, or one of yours without it), `mine`, `status` (a status or "
        "`negotiating`, `in_force`, `open`, `closed`), `criticality` (at least), `plan_version`, "
        "`q`.",
    ),
    create=extend_schema(
        summary="Draft a contract (PMO)",
        examples=[OpenApiExample("A service-level contract", value=CONTRACT_EXAMPLE)],
        responses={201: s.ContractSerializer},
    ),
    retrieve=extend_schema(summary="One contract (its ETag is the revision)"),
    update=extend_schema(
        summary="Replace a draft's or proposed contract's terms (PMO)",
        description="In force: 409, agreed terms change only through an amendment. An edit "
        "of a proposed contract clears both sides' agreement.",
        parameters=[ETAG_HEADER],
        responses={200: s.ContractSerializer, 409: STALE_409},
    ),
    partial_update=extend_schema(
        summary="Change some terms of a draft or proposed contract (PMO)",
        description="In force: 409, agreed terms change only through an amendment. An edit "
        "of a proposed contract clears both sides' agreement.",
        parameters=[ETAG_HEADER],
        responses={200: s.ContractSerializer, 409: STALE_409},
    ),
    destroy=extend_schema(
        summary="Delete a draft (PMO); others are cancelled instead",
        parameters=[ETAG_HEADER],
        responses={204: None, 409: STALE_409},
    ),
)
class ContractViewSet(GovernViewSet):
    """Dependency contracts between a provider and a consumer department. Everyone sees the
    contracts of their departments (executives and PMO all); the PMO drafts and edits them; each
    side's owner or department leads agree for their side."""

    serializer_class = s.ContractSerializer
    filterset_class = filtersets.ContractFilterSet
    search_fields = filtersets.ContractFilterSet.search_fields
    ordering_fields = ["code", "title", "status", "criticality", "due_date", "updated_at"]
    gated_actions = {
        **GovernViewSet.gated_actions,
        "propose": contract_perms.PROPOSE,
        "agree": contract_perms.RESPOND,
        "fulfil": contract_perms.FULFIL,
        "cancel": contract_perms.CANCEL,
    }

    def get_queryset(self):
        return selectors.contract_list(user=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        contract = self.get_object()
        return with_etag(Response(self.get_serializer(contract).data), contract)

    def create(self, request, *args, **kwargs):
        perms.ensure_can_add(request.user, Contract)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = contract_services.contract_create(actor=request.user, data=serializer.terms())
        response = self._contract_response(contract, status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{contract.pk}/")
        return response

    def update(self, request, *args, partial=False, **kwargs):
        contract = self.get_object()
        serializer = self.get_serializer(contract, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        revision = expected_revision(request, serializer.validated_data.get("revision"))
        contract = contract_services.contract_update(
            actor=request.user, contract=contract, data=serializer.terms(), revision=revision
        )
        return self._contract_response(contract)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        contract = self.get_object()
        contract_services.contract_delete(
            actor=request.user, contract=contract, revision=expected_revision(request, None)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _contract_response(self, contract: Contract, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.reload(contract)
        return with_etag(
            Response(
                s.ContractSerializer(fresh, context=self.get_serializer_context()).data,
                status=code,
            ),
            fresh,
        )

    def _lifecycle(self, request, write):
        contract = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        revision = expected_revision(request, data.pop("revision", None))
        return self._contract_response(
            write(actor=request.user, contract=contract, revision=revision, **data)
        )

    @extend_schema(
        summary="Propose a draft to both sides (PMO, or either side)",
        parameters=[ETAG_HEADER],
        request=s.ContractProposeSerializer,
        responses={200: s.ContractSerializer, 409: STALE_409},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ContractProposeSerializer)
    def propose(self, request, pk=None):
        return self._lifecycle(request, contract_services.contract_propose)

    @extend_schema(
        summary="Agree to a proposed contract for your side (its owner or a department lead)",
        description="When both sides have agreed the contract is `agreed` and version 1 is "
        "written. The PMO does not agree for a side (403).",
        parameters=[ETAG_HEADER],
        request=s.ContractAgreeSerializer,
        responses={200: s.ContractSerializer, 409: STALE_409},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ContractAgreeSerializer)
    def agree(self, request, pk=None):
        return self._lifecycle(request, contract_services.contract_agree)

    @extend_schema(
        summary="Declare an in-force contract fulfilled (provider side, PMO)",
        parameters=[ETAG_HEADER],
        request=s.ContractFulfilSerializer,
        responses={200: s.ContractSerializer, 409: STALE_409},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ContractFulfilSerializer)
    def fulfil(self, request, pk=None):
        return self._lifecycle(request, contract_services.contract_fulfil)

    @extend_schema(
        summary="Cancel a contract, with a reason (PMO)",
        parameters=[ETAG_HEADER],
        request=s.ContractCancelSerializer,
        responses={200: s.ContractSerializer, 409: STALE_409},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ContractCancelSerializer)
    def cancel(self, request, pk=None):
        return self._lifecycle(request, contract_services.contract_cancel)

    @extend_schema(
        summary="History: the contract's and its amendments' audit events, newest first",
        responses=AuditEventSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[], serializer_class=AuditEventSerializer)
    def history(self, request, pk=None):
        contract = self.get_object()
        events = audit_history(
            subject=contract,
            related=selectors.contract_amendments(user=request.user, contract=contract),
            limit=None,
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ContractChildViewSet(viewsets.GenericViewSet):
    # Versions and amendments live under one contract: /contracts/{contract_pk}/…/{number}/.
    # The contract goes through its gate first (404 when the user may not see it).
    lookup_field = "number"
    lookup_value_regex = r"\d+"
    filter_backends: list = []
    model: type[Model]

    def contract(self) -> Contract:
        if not hasattr(self, "_contract"):
            self._contract = selectors.contract_get(
                user=self.request.user, pk=self.kwargs["contract_pk"], linked=False
            )
        return self._contract


COMPARE = OpenApiParameter(
    "compare",
    str,
    description="Two version numbers, e.g. `1,2`: answers the diff instead of the list.",
)


@extend_schema(parameters=[CONTRACT_PK])
@extend_schema_view(
    list=extend_schema(
        summary="The contract's versions, newest first; or `?compare=a,b`: their diff",
        parameters=[COMPARE],
        responses=PolymorphicProxySerializer(
            component_name="VersionListOrCompare",
            serializers=[s.ContractVersionSerializer(many=True), s.VersionCompareSerializer],
            resource_type_field_name=None,
            many=False,
        ),
    ),
    retrieve=extend_schema(summary="One version: every term as agreed", parameters=[NUMBER]),
)
class ContractVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ContractChildViewSet
):
    """Immutable snapshots of a contract's terms: version 1 at agreement, one more per applied
    amendment."""

    serializer_class = s.ContractVersionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ContractVersion.objects.none()
        return selectors.contract_versions(user=self.request.user, contract=self.contract())

    def get_object(self):
        return selectors.contract_version_get(
            user=self.request.user, contract=self.contract(), number=self.kwargs["number"]
        )

    def list(self, request, *args, **kwargs):
        compare = request.query_params.get("compare")
        if compare is None:
            return super().list(request, *args, **kwargs)
        contract = self.contract()
        a, b = selectors.parse_compare(compare)
        rows = selectors.version_compare(contract=contract, a=a, b=b)
        body = {"a": a, "b": b, "changed": [r["field"] for r in rows if r["changed"]], "rows": rows}
        return with_etag(Response(s.VersionCompareSerializer(body).data), contract)


AMENDMENT_EXAMPLE = {
    "changes": {"due_date": "2026-09-30", "service_threshold": 93},
    "reason": "Supplier capacity cut until the new furnace is commissioned",
}


@extend_schema(parameters=[CONTRACT_PK])
@extend_schema_view(
    list=extend_schema(summary="The contract's amendments, newest first"),
    retrieve=extend_schema(summary="One amendment", parameters=[NUMBER]),
    create=extend_schema(
        summary="Propose an amendment to a contract in force (either side, PMO)",
        description="`changes` names only terms that change; the result must pass the same "
        "validation as a new contract. One pending amendment per contract (409).",
        parameters=[ETAG_HEADER],
        request=s.AmendmentProposeSerializer,
        responses={201: s.AmendmentSerializer, 409: STALE_409},
        examples=[OpenApiExample("Move the date, lower the level", value=AMENDMENT_EXAMPLE)],
    ),
)
class AmendmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ContractChildViewSet
):
    """Amendments: the only way agreed terms change. Both sides accept (or the PMO overrides) →
    the next version; either side rejects → nothing changes."""

    serializer_class = s.AmendmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Amendment.objects.none()
        return selectors.contract_amendments(user=self.request.user, contract=self.contract())

    def get_object(self):
        return selectors.amendment_get(
            user=self.request.user, contract=self.contract(), number=self.kwargs["number"]
        )

    def get_serializer_class(self):
        return {
            "create": s.AmendmentProposeSerializer,
            "accept": s.AmendmentRespondSerializer,
            "reject": s.AmendmentRespondSerializer,
            "override": s.AmendmentOverrideSerializer,
            "withdraw": s.AmendmentWithdrawSerializer,
        }.get(self.action, s.AmendmentSerializer)

    def _answer(self, amendment: Amendment, code: int = status.HTTP_200_OK) -> Response:
        amendment = selectors.amendment_get(
            user=self.request.user, contract=self.contract(), number=amendment.number
        )
        amendment.contract.refresh_from_db(fields=["revision", "version_number"])
        return Response(s.AmendmentSerializer(amendment).data, status=code)

    def _input(self, request) -> tuple[dict, int | None]:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        return data, expected_revision(request, data.pop("revision", None))

    def create(self, request, *args, **kwargs):
        contract = self.contract()
        perms.ensure_allowed(request.user, contract_perms.PROPOSE, contract)
        data, revision = self._input(request)
        amendment = amendment_services.amendment_propose(
            actor=request.user, contract=contract, revision=revision, **data
        )
        return self._answer(amendment, status.HTTP_201_CREATED)

    def _respond(self, request, accept: bool):
        amendment = self.get_object()
        perms.ensure_allowed(request.user, contract_perms.RESPOND, amendment)
        data, revision = self._input(request)
        return self._answer(
            amendment_services.amendment_respond(
                actor=request.user, amendment=amendment, accept=accept, revision=revision, **data
            )
        )

    @extend_schema(
        summary="Accept for your side (its owner or a department lead)",
        description="Both sides accepted: the amendment is applied and the next version written.",
        parameters=[NUMBER, ETAG_HEADER],
        request=s.AmendmentRespondSerializer,
        responses={200: s.AmendmentSerializer, 409: STALE_409},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        return self._respond(request, accept=True)

    @extend_schema(
        summary="Reject for your side, with a comment; the terms stay as they are",
        parameters=[NUMBER, ETAG_HEADER],
        request=s.AmendmentRespondSerializer,
        responses={200: s.AmendmentSerializer, 409: STALE_409},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        return self._respond(request, accept=False)

    @extend_schema(
        summary="Apply it without both sides: a PMO override, with a reason",
        parameters=[NUMBER, ETAG_HEADER],
        request=s.AmendmentOverrideSerializer,
        responses={200: s.AmendmentSerializer, 409: STALE_409},
    )
    @action(detail=True, methods=["post"])
    def override(self, request, *args, **kwargs):
        amendment = self.get_object()
        perms.ensure_allowed(request.user, contract_perms.OVERRIDE, amendment)
        data, revision = self._input(request)
        return self._answer(
            amendment_services.amendment_override(
                actor=request.user, amendment=amendment, revision=revision, **data
            )
        )

    @extend_schema(
        summary="Withdraw it (its proposer, PMO); the terms stay as they are",
        parameters=[NUMBER, ETAG_HEADER],
        request=s.AmendmentWithdrawSerializer,
        responses={200: s.AmendmentSerializer, 409: STALE_409},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        amendment = self.get_object()
        data, revision = self._input(request)
        return self._answer(
            amendment_services.amendment_withdraw(
                actor=request.user, amendment=amendment, revision=revision, **data
            )
        )
