"""Improvement reviews and actions in /api/v1/ (docs/integrations.md): `GET /reviews/`, `GET /reviews/{id}/`,
`GET|POST /actions/`, `GET|PATCH /actions/{id}/`.

Reads within the caller's scope (evaluations.reviews.policy; 404 outside it), writes through
evaluations.reviews.services (400/403/409 from the domain errors, through the project's exception handler).
A status change must follow open → in progress → done → verified / not effective: skipping a step is
409 `action_step_skipped`, any other change the path does not allow 409
`action_transition_not_allowed`; a due date in the past is 400 `due_date_in_past`.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.base import ModelSerializer
from core.api.errors import LIST_ERRORS, WRITE_ERRORS, error_responses
from core.api.filters import StableOrderingFilter
from core.api.pagination import PagePagination
from core.api.parsers import BoundedJSONParser
from core.bounds import (
    BoundedDateField,
    BoundedDateFilter,
    StrictBooleanFilter,
    StrictCharField,
    StrictFilterSet,
    TextFilter,
)
from core.errors import NotFound
from departments.models import Department
from evaluations.models import Kpi
from evaluations.periods import PeriodKind, today
from evaluations.reviews import policy
from evaluations.reviews import services as reviews
from evaluations.reviews.findings import findings_in_scope
from evaluations.reviews.models import ImprovementAction, ImprovementActionEvent, ImprovementReview

TEXT_MAX = 4000


def _scope_codes(user) -> set[str] | None:
    ids = policy.review_department_ids(user)
    if ids is None:
        return None
    return set(Department.objects.filter(pk__in=ids).values_list("code", flat=True))


# == output =========================================================================================
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number the database can hold, else a 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class ReviewSerializer(ModelSerializer):
    cycle = serializers.IntegerField(source="cycle_id")
    cycle_name = StrictCharField(source="cycle.name")
    period = serializers.ChoiceField(source="kind", choices=PeriodKind.choices)
    label = serializers.SerializerMethodField(help_text="e.g. `2026-11`, `2026-W45`, `2026-Q4`.")
    departments = serializers.SerializerMethodField()
    action_count = serializers.IntegerField(read_only=True)
    findings = serializers.SerializerMethodField(
        help_text=(
            "What the review found when it ran: scorecards with trend, KPIs below target, biggest "
            "changes, handoff-flow hot spots, breaches and escalations, checked/overdue/open actions, "
            "the inspection sample (customers masked). Limited to the caller's departments."
        )
    )

    class Meta:
        model = ImprovementReview
        fields = [
            "id",
            "cycle",
            "cycle_name",
            "period",
            "label",
            "period_start",
            "period_end",
            "status",
            "run_at",
            "departments",
            "action_count",
            "minutes",
            "closed_at",
            "findings",
        ]
        read_only_fields = fields

    def get_label(self, review: ImprovementReview) -> str:
        return review.period.label

    def get_departments(self, review: ImprovementReview) -> list[str]:
        codes = self.context.get("codes")
        return [d.code for d in review.departments.all() if codes is None or d.code in codes]

    @extend_schema_field(serializers.DictField())
    def get_findings(self, review: ImprovementReview) -> dict[str, Any]:
        return findings_in_scope(review.findings, self.context.get("codes"))


class ActionSerializer(ModelSerializer):
    review_label = serializers.SerializerMethodField()
    department = StrictCharField(source="department.code")
    owner = StrictCharField(source="owner.username")
    kpi = StrictCharField(source="kpi_code", help_text="KPI code; empty when judged by hand.")
    overdue = serializers.SerializerMethodField(help_text="Still to be done and past its due date.")
    next_statuses = serializers.SerializerMethodField(help_text="The statuses a PATCH may move it to.")

    class Meta:
        model = ImprovementAction
        fields = [
            "id",
            "review",
            "review_label",
            "department",
            "owner",
            "title",
            "description",
            "kind",
            "kpi",
            "baseline",
            "goal",
            "due_date",
            "status",
            "overdue",
            "next_statuses",
            "result_value",
            "result_review",
            "verified_at",
            "started_at",
            "done_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_review_label(self, action: ImprovementAction) -> str:
        return f"{action.review.cycle.name} {action.review.period.label}"

    def get_overdue(self, action: ImprovementAction) -> bool:
        return action.is_overdue(self.context.get("today"))

    def get_next_statuses(self, action: ImprovementAction) -> list[str]:
        return sorted(reviews.TRANSITIONS[action.status], key=lambda s: reviews.STEP[s])


class ActionEventSerializer(ModelSerializer):
    actor = StrictCharField(source="actor.username", allow_null=True, default=None)

    class Meta:
        model = ImprovementActionEvent
        fields = ["kind", "from_status", "to_status", "actor", "created_at", "payload"]
        read_only_fields = fields


class ActionDetailSerializer(ActionSerializer):
    events = ActionEventSerializer(many=True, help_text="The action's append-only history.")

    class Meta(ActionSerializer.Meta):
        fields = [*ActionSerializer.Meta.fields, "events"]
        read_only_fields = fields


# == input ==========================================================================================
def _active_user(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise serializers.ValidationError(f"Unknown user {username!r}.", code="unknown_user")
    return user


class ActionCreateInputSerializer(serializers.Serializer):
    review = serializers.IntegerField(help_text="The review that decides the action.")
    department = StrictCharField(max_length=50, help_text="Department code.")
    owner = StrictCharField(max_length=150, help_text="Username of the owner (works in the department).")
    title = StrictCharField(max_length=300)
    description = StrictCharField(max_length=TEXT_MAX, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=ImprovementAction.Kind.choices)
    kpi = serializers.ChoiceField(choices=Kpi.Code.choices, required=False, allow_blank=True, default="")
    baseline = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: the department's value of the KPI in the reviewed period.",
    )
    goal = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="Required with a KPI.",
    )
    due_date = BoundedDateField(help_text="Today or later (Asia/Shanghai).")

    def validate_review(self, pk: int) -> ImprovementReview:
        review = policy.visible_reviews(self.context["request"].user).filter(pk=pk).first()
        if review is None:
            raise serializers.ValidationError(f"No review {pk} in your scope.", code="unknown_review")
        return review

    def validate_department(self, code: str) -> Department:
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise serializers.ValidationError(f"Unknown department {code!r}.", code="unknown_department")
        return department

    def validate_owner(self, username: str):
        return _active_user(username)


class ActionPatchInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=ImprovementAction.Status.choices,
        required=False,
        help_text="open → in_progress → done → verified / not_effective (done → in_progress to reopen).",
    )
    note = StrictCharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    result_value = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="With a verdict.",
    )
    title = StrictCharField(max_length=300, required=False)
    description = StrictCharField(max_length=TEXT_MAX, allow_blank=True, required=False)
    owner = StrictCharField(max_length=150, required=False, help_text="Username of the new owner.")
    due_date = BoundedDateField(required=False)
    goal = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)

    def validate_owner(self, username: str):
        return _active_user(username)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not set(attrs) & {"status", *reviews.EDITABLE}:
            raise serializers.ValidationError("Nothing to change.", code="nothing_to_change")
        return attrs


# == filters ========================================================================================
class ReviewFilter(StrictFilterSet):
    cycle = IdFilter(field_name="cycle_id")
    period = django_filters.ChoiceFilter(field_name="kind", choices=PeriodKind.choices)
    period_start = BoundedDateFilter()
    status = django_filters.ChoiceFilter(choices=ImprovementReview.Status.choices)
    department = TextFilter(method="filter_department", max_length=50, help_text="Department code.")

    class Meta:
        model = ImprovementReview
        fields: list[str] = []

    def filter_department(self, queryset, name, value):
        through = ImprovementReview.departments.through.objects.filter(department__code=value)
        return queryset.filter(pk__in=through.values("improvementreview_id"))


class ActionFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=ImprovementAction.Status.choices)
    kind = django_filters.ChoiceFilter(choices=ImprovementAction.Kind.choices)
    department = TextFilter(field_name="department__code", max_length=50)
    owner = TextFilter(method="filter_owner", max_length=150, help_text="Username, or `me`.")
    review = IdFilter(field_name="review_id")
    kpi = django_filters.ChoiceFilter(field_name="kpi_code", choices=Kpi.Code.choices)
    overdue = StrictBooleanFilter(method="filter_overdue", help_text="Still to be done and past due.")

    class Meta:
        model = ImprovementAction
        fields: list[str] = []

    def filter_owner(self, queryset, name, value):
        if value == "me":
            return queryset.filter(owner=self.request.user)
        return queryset.filter(owner__username=value)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = {"status__in": ImprovementAction.PENDING, "due_date__lt": today()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


# == views ==========================================================================================
def _reviews(user):
    return (
        policy.visible_reviews(user)
        .select_related("cycle")
        .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("code")))
        .annotate(action_count=Count("actions"))
    )


def _actions(user):
    return policy.visible_actions(user).select_related("department", "owner", "review__cycle")


def _action_detail(user, pk: int) -> ImprovementAction:
    events = ImprovementActionEvent.objects.select_related("actor").order_by("created_at", "pk")
    action = _actions(user).prefetch_related(Prefetch("events", queryset=events)).filter(pk=pk).first()
    if action is None:
        raise NotFound(f"No action {pk} in your scope.", code="not_found")
    return action


class _List(generics.ListAPIView):
    parser_classes = [BoundedJSONParser]
    pagination_class = PagePagination
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]


@extend_schema(tags=["reviews"])
class ReviewListView(_List):
    """Improvement reviews of the caller's departments (every review for the quality office), each
    with its findings limited to those departments."""

    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    ordering_fields = ["period_start", "run_at"]
    ordering = ["-period_start", "-pk"]

    def get_queryset(self):
        return _reviews(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "codes": _scope_codes(self.request.user)}

    @extend_schema(
        operation_id="reviews_list",
        responses={200: ReviewSerializer(many=True), **error_responses(*LIST_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["reviews"])
class ReviewDetailView(APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="review_retrieve", responses={200: ReviewSerializer, **error_responses(401, 404, 429)}
    )
    def get(self, request: Request, review_id: int) -> Response:
        review = _reviews(request.user).filter(pk=review_id).first()
        if review is None:
            raise NotFound(f"No review {review_id} in your scope.", code="not_found")
        return Response(ReviewSerializer(review, context={"codes": _scope_codes(request.user)}).data)


@extend_schema(tags=["reviews"])
class ActionListView(_List):
    """Improvement actions of the caller's departments and those the caller owns (`?owner=me`)."""

    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    ordering_fields = ["due_date", "created_at", "updated_at", "status"]
    ordering = ["due_date", "pk"]

    def get_queryset(self):
        return _actions(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": today()}

    @extend_schema(
        operation_id="actions_list",
        responses={200: ActionSerializer(many=True), **error_responses(*LIST_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="action_create",
        request=ActionCreateInputSerializer,
        responses={
            201: OpenApiResponse(ActionDetailSerializer, description="Created."),
            **error_responses(*WRITE_ERRORS),
        },
        description=(
            "Decide an improvement action in a review (the department's lead or the quality office). "
            "400 `due_date_in_past`, `department_not_in_review`, `owner_not_in_department`, "
            "`goal_required`, `goal_not_an_improvement`; 409 `review_closed`."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = ActionCreateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        action = reviews.action_create(
            review=data["review"],
            department=data["department"],
            owner=data["owner"],
            title=data["title"],
            description=data["description"],
            kind=data["kind"],
            kpi_code=data["kpi"],
            baseline=data["baseline"],
            goal=data["goal"],
            due_date=data["due_date"],
            actor=request.user,
        )
        fresh = _action_detail(request.user, action.pk)
        return Response(
            ActionDetailSerializer(fresh, context={"today": today()}).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["reviews"])
class ActionDetailView(APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="action_retrieve",
        responses={200: ActionDetailSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, action_id: int) -> Response:
        action = _action_detail(request.user, action_id)
        return Response(ActionDetailSerializer(action, context={"today": today()}).data)

    @extend_schema(
        operation_id="action_update",
        request=ActionPatchInputSerializer,
        responses={200: ActionDetailSerializer, **error_responses(*WRITE_ERRORS)},
        description=(
            "Change an action's plan (title, description, owner, due date, goal) and/or move its status one "
            "step: open → in_progress → done; done → in_progress; done → verified / not_effective (the "
            "quality office). 409 `action_step_skipped` when a step is skipped, 409 "
            "`action_transition_not_allowed` for any other change the path does not allow (`allowed` "
            "lists the next statuses); 400 `due_date_in_past`. All or nothing."
        ),
    )
    def patch(self, request: Request, action_id: int) -> Response:
        action = _action_detail(request.user, action_id)
        serializer = ActionPatchInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        changes = {name: data[name] for name in reviews.EDITABLE if name in data}
        with transaction.atomic():
            if changes:
                reviews.action_update(action=action, actor=request.user, **changes)
            if "status" in data:
                reviews.action_change_status(
                    action=action,
                    status=data["status"],
                    actor=request.user,
                    note=data.get("note", ""),
                    result_value=data.get("result_value"),
                )
        return Response(
            ActionDetailSerializer(_action_detail(request.user, action_id), context={"today": today()}).data
        )
