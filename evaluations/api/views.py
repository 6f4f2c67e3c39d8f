"""The evaluations part of /api/v1/ (docs/integrations.md): thin views over evaluations.selectors (reads, always
within the caller's scope: 404 outside it) and evaluations.services (writes: 400/403/409 from the
domain errors, mapped to JSON by the project's one exception handler, core.api.errors)."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import LIST_ERRORS, WRITE_ERRORS, error_responses
from core.api.filters import StableOrderingFilter
from core.api.pagination import PagePagination
from core.api.parsers import BoundedJSONParser
from core.errors import NotFound
from core.text import localized_name
from evaluations import selectors, services
from evaluations.api import filters
from evaluations.api import serializers as s
from processes import policy as process_policy


def _validated(serializer_class: type[serializers.Serializer], request: Request, data=None) -> dict[str, Any]:
    serializer = serializer_class(data=request.data if data is None else data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class JsonView(APIView):
    parser_classes = [BoundedJSONParser]


class ListView(generics.ListAPIView):
    parser_classes = [BoundedJSONParser]
    pagination_class = PagePagination
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]


# == evaluations ====================================================================================
@extend_schema(tags=["evaluations"])
class EvaluationListView(ListView):
    """Evaluations of the caller's departments (a lead's own; every department for the quality office
    and auditors), each with its KPI scores and the targets and weights they were computed with."""

    serializer_class = s.EvaluationSerializer
    filterset_class = filters.EvaluationFilter
    ordering_fields = ["period_start", "overall_score", "department__code", "computed_at"]
    ordering = ["-period_start", "department__code"]

    def get_queryset(self):
        return selectors.evaluation_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "kpis": selectors.kpis_by_code()}

    @extend_schema(
        operation_id="evaluations_list",
        responses={200: s.EvaluationSerializer(many=True), **error_responses(*LIST_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["evaluations"])
class EvaluationDetailView(JsonView):
    @extend_schema(
        operation_id="evaluation_retrieve",
        responses={200: s.EvaluationSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, evaluation_id: int) -> Response:
        evaluation = selectors.evaluation_get(user=request.user, pk=evaluation_id)
        return Response(s.EvaluationSerializer(evaluation, context={"kpis": selectors.kpis_by_code()}).data)


@extend_schema(tags=["evaluations"])
class KpiListView(JsonView):
    @extend_schema(
        operation_id="kpis_list", responses={200: s.KpiSerializer(many=True), **error_responses(401, 429)}
    )
    def get(self, request: Request) -> Response:
        """The KPI definitions: targets and weights the next computation will use."""
        rows = sorted(selectors.kpis_by_code().values(), key=lambda k: (k.order, k.code))
        return Response(s.KpiSerializer(rows, many=True).data)


# == analytics ======================================================================================
@extend_schema(tags=["analytics"])
class HandoffFlowView(JsonView):
    @extend_schema(
        operation_id="analytics_handoff_flow",
        parameters=[
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="First day (Asia/Shanghai).", required=True
            ),
            OpenApiParameter(
                "end", OpenApiTypes.DATE, description="Last day included; at most 400 days.", required=True
            ),
        ],
        responses={200: s.FlowSerializer, **error_responses(400, 401, 429)},
        description=(
            "From-department × to-department matrix of the handoffs requested between `start` and `end`: "
            "count, how many the receiving side returned (bounce rate) and the median business minutes "
            "to accept. `from_department` null is intake. Outside the quality office only pairs that "
            "touch one of the caller's departments."
        ),
    )
    def get(self, request: Request) -> Response:
        query = _validated(s.FlowQuerySerializer, request, data=request.query_params)
        flow = selectors.handoff_flow(user=request.user, start=query["start"], end=query["end"])
        departments = {d.pk: d for d in [*flow.targets, *[x for x in flow.sources if x is not None]]}
        body = {
            "start": flow.start,
            "end": flow.end,
            "departments": [
                {"code": d.code, "name": localized_name(d)}
                for d in sorted(departments.values(), key=lambda d: d.code)
            ],
            "cells": [
                {
                    "from_department": departments[source].code if source else None,
                    "to_department": departments[target].code,
                    "count": cell.count,
                    "returned": cell.returned,
                    "bounce_rate": cell.bounce_rate,
                    "accepted": cell.accepted,
                    "median_minutes_to_accept": cell.median_minutes_to_accept,
                }
                for (source, target), cell in sorted(
                    flow.cells.items(),
                    key=lambda item: (
                        departments[item[0][0]].code if item[0][0] else "",
                        departments[item[0][1]].code,
                    ),
                )
            ],
        }
        return Response(s.FlowSerializer(body).data)


# == customer feedback ==============================================================================
@extend_schema(tags=["feedback"])
class CaseFeedbackView(JsonView):
    @extend_schema(
        operation_id="case_feedback_list",
        responses={200: s.FeedbackSerializer(many=True), **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, reference: str) -> Response:
        """The survey answers recorded for a case."""
        case = _case(request, reference)
        rows = selectors.feedback_list(user=request.user).filter(case=case).order_by("responded_at", "pk")
        return Response(s.FeedbackSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="case_feedback_record",
        request=s.FeedbackInputSerializer,
        responses={
            201: OpenApiResponse(s.FeedbackSerializer, description="Recorded."),
            200: OpenApiResponse(
                s.FeedbackSerializer,
                description="This case and `survey_id` were recorded before with the same answers: that row.",
            ),
            **error_responses(*WRITE_ERRORS),
        },
        description=(
            "Record a customer's answer from the survey platform: CSAT 1–5 and/or NPS 0–10. Idempotent "
            "per case and `survey_id`: sending it again answers 200 with the row recorded the first time; "
            "the same `survey_id` with different answers is 409 `feedback_conflict` (`feedback` names the "
            "recorded row). It counts for every department that handled the case (docs/kpis.md)."
        ),
    )
    def post(self, request: Request, reference: str) -> Response:
        case = _case(request, reference)
        data = _validated(s.FeedbackInputSerializer, request)
        feedback, created = services.feedback_record(case=case, actor=request.user, **data)
        return Response(
            s.FeedbackSerializer(feedback).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _case(request: Request, reference: str):
    case = process_policy.visible_cases(request.user).filter(reference=reference).first()
    if case is None:
        raise NotFound(f"No case {reference} in your departments.", code="not_found")
    return case


# == inspections ====================================================================================
@extend_schema(tags=["inspections"])
class ScorecardListView(JsonView):
    @extend_schema(
        operation_id="scorecards_list",
        responses={200: s.ScorecardSerializer(many=True), **error_responses(401, 429)},
    )
    def get(self, request: Request) -> Response:
        """Scorecards with their criteria (codes, weights, maxima) and level weights."""
        return Response(s.ScorecardSerializer(selectors.scorecard_list(), many=True).data)


@extend_schema(tags=["inspections"])
class InspectionListView(ListView):
    """Inspections of the caller's departments and those assigned to the caller."""

    serializer_class = s.InspectionSerializer
    filterset_class = filters.InspectionFilter
    ordering_fields = ["assigned_at", "completed_at", "score"]
    ordering = ["-assigned_at"]

    def get_queryset(self):
        return selectors.inspection_list(user=self.request.user)

    @extend_schema(
        operation_id="inspections_list",
        responses={200: s.InspectionSerializer(many=True), **error_responses(*LIST_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="inspection_record",
        request=s.InspectionCreateInputSerializer,
        responses={201: s.InspectionSerializer, **error_responses(*WRITE_ERRORS)},
        description=(
            "Inspect a resolved case for a department at a level and record it at once: every criterion "
            "of the scorecard scored within its maximum, or 400 naming each bad score and nothing saved. "
            "409 `inspection_exists` when the case is already inspected for that department and level "
            "(`inspection` names it: complete it with `…/complete/`)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.InspectionCreateInputSerializer, request)
        inspection = services.inspection_record(actor=request.user, **data)
        fresh = selectors.inspection_get(user=request.user, pk=inspection.pk)
        return Response(s.InspectionSerializer(fresh).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["inspections"])
class InspectionDetailView(JsonView):
    @extend_schema(
        operation_id="inspection_retrieve",
        responses={200: s.InspectionSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, inspection_id: int) -> Response:
        return Response(
            s.InspectionSerializer(selectors.inspection_get(user=request.user, pk=inspection_id)).data
        )


@extend_schema(tags=["inspections"])
class InspectionCompleteView(JsonView):
    @extend_schema(
        operation_id="inspection_complete",
        request=s.InspectionCompleteInputSerializer,
        responses={200: s.InspectionSerializer, **error_responses(*WRITE_ERRORS)},
        description="Complete an assigned inspection with a score per criterion (409 if completed already).",
    )
    def post(self, request: Request, inspection_id: int) -> Response:
        inspection = selectors.inspection_get(user=request.user, pk=inspection_id)
        services.inspection_record(
            inspection=inspection,
            actor=request.user,
            **_validated(s.InspectionCompleteInputSerializer, request),
        )
        return Response(
            s.InspectionSerializer(selectors.inspection_get(user=request.user, pk=inspection_id)).data
        )
