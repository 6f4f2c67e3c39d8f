"""The REST API (docs/integrations.md): thin views over the selectors (reads) and processes.services (writes).

Here the reads and the intake (`POST /cases/`, which shares its URL with the list); the other state
changes are in actions.py, one view each. Lists compute what their serializers need once per page.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import LIST_ERRORS, READ_ERRORS, error_responses
from core.api.filters import StableOrderingFilter
from core.api.pagination import EventFeedPagination, PagePagination
from core.api.parsers import BoundedJSONParser
from core.errors import StateConflict
from departments.audit import audit_record
from departments.models import AuditEntry
from processes import policy, services
from processes.api import filters, selectors
from processes.api import serializers as s
from processes.clock import ScheduleCache
from processes.customers import lookup as customer_lookup
from processes.models import Case, Handoff


def validated_input(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def audit_pii(request: Request, cases: list[Case], context: dict[str, Any], object_type: str) -> None:
    """Every answer that carries customer data unmasked is recorded for the auditors."""
    if context.get("see_pii") and cases:
        audit_record(
            kind=AuditEntry.Kind.PII_VIEW,
            request=request,
            object_type=object_type,
            object_id=cases[0].reference if len(cases) == 1 else "",
            detail={"references": [case.reference for case in cases], "via": "api"},
        )


def case_response(request: Request, case: Case, *, status_code: int = status.HTTP_200_OK) -> Response:
    context = selectors.page_context(user=request.user, handoffs=selectors.open_handoffs_of([case]))
    audit_pii(request, [case], context, "case")
    return Response(s.CaseDetailSerializer(case, context=context).data, status=status_code)


def fresh_case(request: Request, reference: str, *, status_code: int = status.HTTP_200_OK) -> Response:
    return case_response(
        request, selectors.case_get(user=request.user, reference=reference), status_code=status_code
    )


def fresh_handoff(request: Request, handoff_id: int) -> Response:
    handoff = selectors.handoff_get(user=request.user, handoff_id=handoff_id)
    context = selectors.page_context(user=request.user, handoffs=[handoff])
    return Response(s.HandoffSerializer(handoff, context=context).data)


def _changed_context(request: Request, case: Case) -> dict[str, Any]:
    """What the answer to a state change needs, from what the service returns: its calendars
    (the process's copy the change used) and the caller's PII right (its permissions, kept per
    process). A state change answered this way costs no query besides the change's own."""
    schedules = getattr(case, "schedules", None) or ScheduleCache()
    return {"schedules": schedules, "now": timezone.now(), "see_pii": policy.can_see_pii(request.user)}


def changed_case(request: Request, case: Case, *, status_code: int = status.HTTP_200_OK) -> Response:
    """The case as the state change left it, with its open handoff (the service sets both)."""
    if not hasattr(case, "open_handoffs"):
        return fresh_case(request, case.reference, status_code=status_code)
    context = _changed_context(request, case)
    audit_pii(request, [case], context, "case")
    return Response(s.CaseDetailSerializer(case, context=context).data, status=status_code)


def changed_handoff(request: Request, handoff: Handoff) -> Response:
    return Response(s.HandoffSerializer(handoff, context=_changed_context(request, handoff.case)).data)


class JsonView(APIView):
    """State changes take JSON bodies only: one documented request format."""

    parser_classes = [BoundedJSONParser]


class PageListView(generics.ListAPIView):
    """A list whose serializer context is computed for the page being rendered (`page_attrs`)."""

    parser_classes = [BoundedJSONParser]
    pagination_class = PagePagination
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]

    def page_attrs(self, page: list) -> dict[str, Any]:
        return {}

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), **self.page_attrs(page)}
        data = self.get_serializer_class()(page, many=True, context=context).data
        return self.get_paginated_response(data)


class CasePageMixin:
    def page_attrs(self, page: list) -> dict[str, Any]:
        context = selectors.page_context(user=self.request.user, handoffs=selectors.open_handoffs_of(page))
        audit_pii(self.request, page, context, "case_list")
        return context


class HandoffPageMixin:
    def page_attrs(self, page: list) -> dict[str, Any]:
        return selectors.page_context(user=self.request.user, handoffs=page)


# == reference data =================================================================================
@extend_schema(tags=["departments"])
class DepartmentListView(PageListView):
    """Departments in the caller's scope (all for the quality office) with their members' roles."""

    serializer_class = s.DepartmentSerializer
    filterset_class = filters.DepartmentFilter
    ordering_fields = ["code", "name"]
    ordering = ["code"]

    def get_queryset(self):
        return selectors.department_list(user=self.request.user)

    @extend_schema(
        operation_id="departments_list",
        responses={200: s.DepartmentSerializer(many=True), **error_responses(*LIST_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["departments"])
class DepartmentDetailView(JsonView):
    @extend_schema(
        operation_id="department_retrieve",
        responses={200: s.DepartmentSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, code: str) -> Response:
        department = selectors.department_get(user=request.user, code=code)
        return Response(s.DepartmentSerializer(department).data)


@extend_schema(tags=["processes"])
class ProcessListView(PageListView):
    """Service processes with their stages, targets by priority and allowed transitions."""

    serializer_class = s.ProcessSerializer
    filterset_class = filters.ProcessFilter
    ordering_fields = ["code", "name"]
    ordering = ["code"]

    def get_queryset(self):
        return selectors.process_list()

    @extend_schema(
        operation_id="processes_list",
        responses={200: s.ProcessSerializer(many=True), **error_responses(*LIST_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["processes"])
class ProcessDetailView(JsonView):
    @extend_schema(
        operation_id="process_retrieve",
        responses={200: s.ProcessSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(s.ProcessSerializer(selectors.process_get(code=code)).data)


# == cases ==========================================================================================
@extend_schema(tags=["cases"])
class CaseListView(CasePageMixin, PageListView):
    """The cases in the caller's scope (`GET`); open a case, idempotent on source + external_id (`POST`)."""

    serializer_class = s.CaseSerializer
    filterset_class = filters.CaseFilter
    ordering_fields = ["created_at", "updated_at", "due_at", "reference"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.case_list(user=self.request.user)

    @extend_schema(
        operation_id="cases_list",
        description="The cases that went through the caller's departments (all for the quality office), "
        "each with its open handoff and SLA state; customer data masked unless the caller may see it.",
        responses={200: s.CaseSerializer(many=True), **error_responses(*LIST_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if response.status_code == 200 and (
            request.query_params.get("customer_phone") or request.query_params.get("customer_id")
        ):
            # A lookup of a customer: recorded like every other (valid, so the keys parse again).
            keys = customer_lookup.lookup_keys(
                phone=request.query_params.get("customer_phone"),
                customer_id=request.query_params.get("customer_id"),
            )
            found = response.data.get("count", -1) if isinstance(response.data, dict) else -1
            customer_lookup.audit_lookup(
                user=request.user, request=request, keys=keys, via="api", found=found
            )
        return response

    @extend_schema(
        operation_id="case_open",
        request=s.CaseOpenInputSerializer,
        responses={
            201: OpenApiResponse(s.CaseDetailSerializer, description="Opened."),
            200: OpenApiResponse(
                s.CaseDetailSerializer,
                description="This `source` + `external_id` was seen before: that case.",
            ),
            **error_responses(400, 401, 403, 409, 429),
        },
        description=(
            "Opens a case with its intake handoff to the initial stage's department. An external id is "
            "the caller's own: sending the same `source` + `external_id` again (also concurrently) "
            "answers 200 with the case the caller opened the first time; 409 `external_id_reused` if "
            "the caller used it for a case of another process. Other callers' ids are never consulted."
        ),
    )
    def post(self, request: Request) -> Response:
        data = validated_input(s.CaseOpenInputSerializer, request)
        case, created = services.case_open(actor=request.user, **data)
        if created:  # the opener sees what it opened
            return changed_case(request, case, status_code=201)
        shown = selectors.case_for_opener(user=request.user, case_id=case.pk)
        if shown is None:
            raise StateConflict(
                "This source and external id belong to a case outside your departments.",
                code="external_id_taken",
            )
        return case_response(request, shown, status_code=201 if created else 200)


@extend_schema(tags=["cases"])
class CaseDetailView(JsonView):
    @extend_schema(
        operation_id="case_retrieve",
        responses={200: s.CaseDetailSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, reference: str) -> Response:
        return fresh_case(request, reference)


@extend_schema(tags=["cases"])
class CaseEventListView(PageListView):
    """The case's append-only timeline, oldest first, with cursor pages."""

    serializer_class = s.EventSerializer
    pagination_class = EventFeedPagination
    filter_backends: list = []

    def get_queryset(self):
        case = selectors.case_in_scope(user=self.request.user, reference=self.kwargs["reference"])
        return selectors.event_list(case=case)

    @extend_schema(
        operation_id="case_events",
        responses={200: s.EventSerializer(many=True), **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# == handoffs =======================================================================================
@extend_schema(tags=["handoffs"])
class HandoffListView(HandoffPageMixin, PageListView):
    """Handoffs of the cases in the caller's scope: the departments' queues."""

    serializer_class = s.HandoffSerializer
    filterset_class = filters.HandoffFilter
    ordering_fields = ["requested_at", "response_due_at", "resolution_due_at"]
    ordering = ["-requested_at"]

    def get_queryset(self):
        return selectors.handoff_list(user=self.request.user)

    @extend_schema(
        operation_id="handoffs_list",
        responses={200: s.HandoffSerializer(many=True), **error_responses(*LIST_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["handoffs"])
class HandoffDetailView(JsonView):
    @extend_schema(
        operation_id="handoff_retrieve",
        responses={200: s.HandoffSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, handoff_id: int) -> Response:
        return fresh_handoff(request, handoff_id)
