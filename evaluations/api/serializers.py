"""Input serializers (shape and limits; the rules live in evaluations.services) and output
serializers (reading only what the selectors prefetched)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.base import ModelSerializer
from core.bounds import BoundedDateField, BoundedDateTimeField, StrictCharField
from core.text import localized_name
from departments.models import Department
from evaluations.models import (
    CustomerFeedback,
    Evaluation,
    EvaluationScore,
    Inspection,
    InspectionScore,
    Kpi,
    Level,
    Scorecard,
    ScorecardCriterion,
)
from evaluations.periods import Period, PeriodKind
from processes import policy as process_policy
from processes.models import Case

TEXT_MAX = 4000


# ==================================================================================================
# Output
# ==================================================================================================
class EvaluationScoreSerializer(ModelSerializer):
    kpi = StrictCharField(source="kpi_code", help_text="KPI code (docs/kpis.md).")
    name = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationScore
        fields = [
            "kpi",
            "name",
            "value",
            "unit",
            "target",
            "weight",
            "direction",
            "met",
            "points",
            "sample_size",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "value": {"help_text": "null: no data in the period (never 0 for want of data)."},
            "met": {"help_text": "null: no data, or an informational KPI without a target."},
        }

    def get_name(self, score: EvaluationScore) -> str:
        kpi = self.context.get("kpis", {}).get(score.kpi_code)
        return localized_name(kpi) if kpi else score.get_kpi_code_display()


class EvaluationSerializer(ModelSerializer):
    department = StrictCharField(source="department.code")
    department_name = serializers.SerializerMethodField()
    period = serializers.ChoiceField(source="kind", choices=PeriodKind.choices)
    label = serializers.SerializerMethodField(help_text="e.g. `2026-11`, `2026-W45`, `2026-Q4`.")
    scores = EvaluationScoreSerializer(many=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "department",
            "department_name",
            "period",
            "label",
            "period_start",
            "period_end",
            "overall_score",
            "grade",
            "computed_at",
            "as_of",
            "scores",
        ]
        read_only_fields = fields

    def get_department_name(self, evaluation: Evaluation) -> str:
        return localized_name(evaluation.department)

    def get_label(self, evaluation: Evaluation) -> str:
        return Period(evaluation.kind, evaluation.period_start).label


class FlowDepartmentSerializer(serializers.Serializer):
    code = StrictCharField()
    name = StrictCharField()


class FlowCellSerializer(serializers.Serializer):
    from_department = StrictCharField(allow_null=True, help_text="null: intake (no sender).")
    to_department = StrictCharField()
    count = serializers.IntegerField(help_text="Handoffs requested in the range (withdrawn ones left out).")
    returned = serializers.IntegerField(help_text="Of those, returned by the receiving department.")
    bounce_rate = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    accepted = serializers.IntegerField()
    median_minutes_to_accept = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class FlowSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True, help_text="Last day included.")
    departments = FlowDepartmentSerializer(many=True)
    cells = FlowCellSerializer(many=True)


class FeedbackSerializer(ModelSerializer):
    case = StrictCharField(source="case.reference")

    class Meta:
        model = CustomerFeedback
        fields = [
            "id",
            "case",
            "survey_id",
            "csat",
            "nps",
            "comment",
            "channel",
            "source",
            "responded_at",
            "created_at",
        ]
        read_only_fields = fields


class CriterionSerializer(ModelSerializer):
    class Meta:
        model = ScorecardCriterion
        fields = ["code", "name", "name_en", "weight", "max_score"]
        read_only_fields = fields


class LevelWeightsSerializer(serializers.Serializer):
    self = serializers.IntegerField(source="weight_self")
    department = serializers.IntegerField(source="weight_department")
    quality_office = serializers.IntegerField(source="weight_quality_office")


class ScorecardSerializer(ModelSerializer):
    level_weights = serializers.SerializerMethodField()
    criteria = CriterionSerializer(many=True)

    class Meta:
        model = Scorecard
        fields = ["code", "name", "name_en", "description", "is_active", "level_weights", "criteria"]
        read_only_fields = fields

    @extend_schema_field(LevelWeightsSerializer)
    def get_level_weights(self, scorecard: Scorecard) -> dict[str, Any]:
        return LevelWeightsSerializer(scorecard).data


class InspectionScoreSerializer(ModelSerializer):
    criterion = StrictCharField(source="criterion.code")

    class Meta:
        model = InspectionScore
        fields = ["criterion", "score", "max_score", "weight"]
        read_only_fields = fields


class InspectionSerializer(ModelSerializer):
    case = StrictCharField(source="case.reference")
    department = StrictCharField(source="department.code")
    scorecard = StrictCharField(source="scorecard.code")
    inspector = StrictCharField(source="inspector.username", allow_null=True)
    scores = InspectionScoreSerializer(many=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "case",
            "department",
            "level",
            "scorecard",
            "inspector",
            "status",
            "score",
            "level_weight",
            "case_resolved_at",
            "period_kind",
            "period_start",
            "comment",
            "assigned_at",
            "completed_at",
            "scores",
        ]
        read_only_fields = fields


class KpiSerializer(ModelSerializer):
    class Meta:
        model = Kpi
        fields = ["code", "name", "name_en", "unit", "direction", "target", "weight", "is_active"]
        read_only_fields = fields


# ==================================================================================================
# Input
# ==================================================================================================
class FlowQuerySerializer(serializers.Serializer):
    start = BoundedDateField(help_text="First day (Asia/Shanghai), e.g. 2026-11-01.")
    end = BoundedDateField(help_text="Last day included, e.g. 2026-11-30.")


class FeedbackInputSerializer(serializers.Serializer):
    survey_id = StrictCharField(
        max_length=100, help_text="The survey's id in the survey platform: one answer per case and survey."
    )
    csat = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True, default=None)
    nps = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True, default=None, help_text="0–10."
    )
    comment = StrictCharField(max_length=TEXT_MAX, allow_blank=True, default="")
    channel = serializers.ChoiceField(
        choices=CustomerFeedback.Channel.choices, default=CustomerFeedback.Channel.OTHER
    )
    source = StrictCharField(max_length=50, allow_blank=True, default="", help_text="e.g. `survey`.")
    responded_at = BoundedDateTimeField(
        required=False, allow_null=True, default=None, help_text="When the customer answered; default now."
    )

    def validate_responded_at(self, value):
        # Before 1900 Asia/Shanghai has a local-mean-time offset (+08:05:43) that no RFC 3339 reader
        # accepts back; the API's time filters take the same range.
        if value is not None and not (1900 < value.year < 9000):
            raise serializers.ValidationError("Give a time between 1900 and 9000.", code="out_of_range")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("csat") is None and attrs.get("nps") is None:
            raise serializers.ValidationError(
                "Give a CSAT (1–5), an NPS answer (0–10) or both.", code="no_answer"
            )
        return attrs


def _scores_field() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.DecimalField(max_digits=8, decimal_places=2, coerce_to_string=False),
        allow_empty=False,
        help_text="Criterion code → score (0 … the criterion's maximum). Every criterion must be scored.",
    )


class InspectionCompleteInputSerializer(serializers.Serializer):
    scores = _scores_field()
    comment = StrictCharField(max_length=TEXT_MAX, allow_blank=True, default="")


class InspectionCreateInputSerializer(InspectionCompleteInputSerializer):
    case = StrictCharField(max_length=30, help_text="Case reference.")
    department = StrictCharField(max_length=50, help_text="Code of the inspected department.")
    level = serializers.ChoiceField(choices=Level.choices)
    scorecard = StrictCharField(max_length=50, help_text="Scorecard code.")

    def validate_case(self, reference: str) -> Case:
        # Resolved within the caller's scope: a case the caller cannot see does not exist for it.
        case = process_policy.visible_cases(self.context["request"].user).filter(reference=reference).first()
        if case is None:
            raise serializers.ValidationError(
                f"No case {reference} in your departments.", code="unknown_case"
            )
        return case

    def validate_department(self, code: str) -> Department:
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise serializers.ValidationError(f"Unknown department {code!r}.", code="unknown_department")
        return department

    def validate_scorecard(self, code: str) -> Scorecard:
        scorecard = Scorecard.objects.filter(code=code).first()
        if scorecard is None:
            raise serializers.ValidationError(f"Unknown scorecard {code!r}.", code="unknown_scorecard")
        return scorecard
