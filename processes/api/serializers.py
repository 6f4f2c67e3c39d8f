"""Input serializers (one per state change: shape and limits only, the rules live in the services)
and output serializers (read what the selectors prefetched and what `page_context` loaded)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.base import ModelSerializer, Serializer
from core.bounds import StrictCharField
from departments import access
from departments.models import Department, Membership
from processes import definitions, policy
from processes.clock import sla_state
from processes.customers.messages import ExtensionReason
from processes.models import (
    Case,
    CaseEvent,
    CustomerMessage,
    Handoff,
    PauseSegment,
    Priority,
    ServiceProcess,
    Stage,
    Transition,
)

NOTE_MAX = 4000
TEXT_MAX = 20000


# ==================================================================================================
# Output
# ==================================================================================================
class SlaSerializer(Serializer):
    clock = serializers.ChoiceField(
        choices=["response", "resolution", "none"],
        help_text="The clock that runs now: response while pending, resolution once accepted.",
    )
    badge = serializers.ChoiceField(choices=["on_time", "due_soon", "breached", "paused", "done"])
    due_at = serializers.DateTimeField(allow_null=True, read_only=True)
    business_seconds_left = serializers.IntegerField(
        allow_null=True, help_text="Business seconds left in the receiving calendar; negative when overdue."
    )


class HandoffSerializer(ModelSerializer):
    case = StrictCharField(source="case.reference", help_text="Case reference.")
    from_department = StrictCharField(source="from_department.code", allow_null=True)
    to_department = StrictCharField(source="to_department.code")
    to_stage = StrictCharField(source="to_stage.code", allow_null=True)
    assignee = StrictCharField(source="assignee.username", allow_null=True)
    response_breached = serializers.SerializerMethodField()
    resolution_breached = serializers.SerializerMethodField()
    paused = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()

    class Meta:
        model = Handoff
        fields = [
            "id",
            "case",
            "kind",
            "status",
            "from_department",
            "to_department",
            "to_stage",
            "priority",
            "note",
            "assignee",
            "requested_at",
            "accepted_at",
            "completed_at",
            "returned_at",
            "return_reason",
            "response_target_seconds",
            "resolution_target_seconds",
            "response_due_at",
            "resolution_due_at",
            "response_breached",
            "resolution_breached",
            "response_breached_at",
            "resolution_breached_at",
            "escalation_level",
            "paused",
            "paused_at",
            "paused_seconds",
            "seconds_to_accept",
            "seconds_to_complete",
            "sla",
        ]
        read_only_fields = fields

    def get_response_breached(self, handoff: Handoff) -> bool:
        return handoff.response_breached_at is not None

    def get_resolution_breached(self, handoff: Handoff) -> bool:
        return handoff.resolution_breached_at is not None

    def get_paused(self, handoff: Handoff) -> bool:
        return handoff.paused_at is not None

    @extend_schema_field(SlaSerializer)
    def get_sla(self, handoff: Handoff) -> dict[str, Any]:
        schedule = self.context["schedules"].get(handoff.to_department.calendar_id)
        state = sla_state(handoff, schedule, self.context["now"])
        return SlaSerializer(state).data


class OpenHandoffSerializer(HandoffSerializer):
    """The case's open handoff, inside the case (so without the case reference)."""

    class Meta(HandoffSerializer.Meta):
        fields = [f for f in HandoffSerializer.Meta.fields if f != "case"]
        read_only_fields = fields


class CustomerSerializer(Serializer):
    id = StrictCharField()
    name = StrictCharField()
    phone = StrictCharField()
    masked = serializers.BooleanField(help_text="False only for callers allowed to see personal data.")


class CaseSerializer(ModelSerializer):
    process = StrictCharField(source="process.code")
    stage = StrictCharField(source="current_stage.code", allow_null=True)
    department = StrictCharField(source="current_department.code", allow_null=True)
    customer = serializers.SerializerMethodField()
    open_handoff = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "reference",
            "process",
            "title",
            "status",
            "priority",
            "channel",
            "stage",
            "department",
            "customer",
            "due_at",
            "regulatory_deadline",
            "regulatory_extensions",
            "source",
            "external_id",
            "reopen_count",
            "compensation_approval",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "cancelled_at",
            "open_handoff",
        ]
        read_only_fields = fields

    @extend_schema_field(CustomerSerializer)
    def get_customer(self, case: Case) -> dict[str, Any]:
        if self.context["see_pii"]:
            values = {"id": case.customer_id, "name": case.customer_name, "phone": case.customer_phone}
        else:
            values = {
                "id": policy.mask_id(case.customer_id),
                "name": policy.mask_name(case.customer_name),
                "phone": policy.mask_phone(case.customer_phone),
            }
        return {**values, "masked": not self.context["see_pii"]}

    @extend_schema_field(OpenHandoffSerializer(allow_null=True))
    def get_open_handoff(self, case: Case) -> dict[str, Any] | None:
        handoffs = getattr(case, "open_handoffs", [])
        if not handoffs:
            return None
        return OpenHandoffSerializer(handoffs[0], context=self.context).data


class CaseChangeSerializer(CaseSerializer):
    """A case in the changes feed (its own component: the feed's page has no `count`)."""


class CaseDetailSerializer(CaseSerializer):
    recovery_measure = serializers.ChoiceField(
        choices=Case.Recovery.choices, allow_blank=True, read_only=True
    )

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "description",
            "resolution",
            "recovery_measure",
            "compensation_amount",
        ]
        read_only_fields = fields


class EventSerializer(ModelSerializer):
    actor = StrictCharField(source="actor.username", allow_null=True)
    department = StrictCharField(source="department.code", allow_null=True)
    handoff = serializers.IntegerField(source="handoff_id", allow_null=True)
    payload = serializers.DictField(help_text="Details of the event; keys depend on `kind`.")

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "created_at", "actor", "department", "handoff", "payload"]
        read_only_fields = fields


class MemberSerializer(ModelSerializer):
    username = StrictCharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["username", "role"]
        read_only_fields = fields


class CalendarSummarySerializer(Serializer):
    code = StrictCharField()
    name = StrictCharField()
    time_zone = StrictCharField()
    always_open = serializers.BooleanField()


class DepartmentSerializer(ModelSerializer):
    parent = StrictCharField(source="parent.code", allow_null=True)
    calendar = CalendarSummarySerializer()
    members = MemberSerializer(source="memberships", many=True)

    class Meta:
        model = Department
        fields = ["code", "name", "name_en", "parent", "calendar", "team_email", "is_active", "members"]
        read_only_fields = fields


class TargetSerializer(Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    response_minutes = serializers.IntegerField()
    resolution_minutes = serializers.IntegerField()


class StageSerializer(ModelSerializer):
    department = StrictCharField(source="department.code")
    targets = TargetSerializer(many=True)

    class Meta:
        model = Stage
        fields = [
            "code",
            "name",
            "name_en",
            "department",
            "order",
            "is_initial",
            "is_final",
            "can_resolve",
            "targets",
        ]
        read_only_fields = fields


class TransitionSerializer(ModelSerializer):
    from_stage = StrictCharField(source="from_stage.code")
    to_stage = StrictCharField(source="to_stage.code")

    class Meta:
        model = Transition
        fields = ["from_stage", "to_stage", "is_return", "name"]
        read_only_fields = fields


class EndToEndTargetSerializer(Serializer):
    urgent = serializers.IntegerField(source="e2e_hours_urgent")
    high = serializers.IntegerField(source="e2e_hours_high")
    normal = serializers.IntegerField(source="e2e_hours_normal")
    low = serializers.IntegerField(source="e2e_hours_low")


class ProcessSerializer(ModelSerializer):
    e2e_hours = EndToEndTargetSerializer(source="*", help_text="End-to-end targets in business hours.")
    compensation_approver = StrictCharField(source="compensation_approver.code", allow_null=True)
    second_extension_approver = StrictCharField(source="second_extension_approver.code", allow_null=True)
    stages = StageSerializer(many=True)
    transitions = TransitionSerializer(many=True)

    class Meta:
        model = ServiceProcess
        fields = [
            "code",
            "name",
            "name_en",
            "category",
            "reference_prefix",
            "is_active",
            "e2e_hours",
            "regulatory_days",
            "first_extension_days",
            "second_extension_days",
            "second_extension_approver",
            "compensation_threshold",
            "compensation_approver",
            "reopen_window_days",
            "stages",
            "transitions",
        ]
        read_only_fields = fields


# ==================================================================================================
# Input: one per state change
# ==================================================================================================
class CaseOpenInputSerializer(Serializer):
    process = StrictCharField(max_length=50, help_text="Process code, e.g. `COMPLAINT`.")
    title = StrictCharField(max_length=300)
    channel = serializers.ChoiceField(choices=Case.Channel.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    description = StrictCharField(max_length=TEXT_MAX, allow_blank=True, default="")
    customer_id = StrictCharField(max_length=64, allow_blank=True, default="")
    customer_name = StrictCharField(max_length=200, allow_blank=True, default="")
    customer_phone = StrictCharField(max_length=32, allow_blank=True, default="")
    customer_email = serializers.EmailField(max_length=254, allow_blank=True, default="")
    source = StrictCharField(
        max_length=50, allow_blank=True, default="", help_text="The calling system, e.g. `crm`."
    )
    external_id = StrictCharField(
        max_length=100,
        allow_blank=True,
        default="",
        help_text="The case's id in the calling system: the same `source` + `external_id` opens one case.",
    )
    note = StrictCharField(max_length=NOTE_MAX, allow_blank=True, default="")

    def validate_process(self, code: str) -> ServiceProcess:
        request = self.context.get("request")
        stamp = access.stamp_of(request.user) if request is not None else None
        process = definitions.process_by_code(code, stamp)
        if process is None:
            raise serializers.ValidationError(f"Unknown process {code!r}.", code="unknown_process")
        return process


class ForwardInputSerializer(Serializer):
    to_stage = StrictCharField(max_length=50, help_text="Code of the next stage of the process.")
    note = StrictCharField(max_length=NOTE_MAX, allow_blank=True, default="")


class ResolveInputSerializer(Serializer):
    resolution = StrictCharField(max_length=TEXT_MAX)
    recovery_measure = serializers.ChoiceField(choices=Case.Recovery.choices)
    compensation_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        allow_null=True,
        default=None,
        help_text="Required with `compensation`; above the process's threshold it needs approval.",
    )


class ReasonInputSerializer(Serializer):
    reason = StrictCharField(max_length=NOTE_MAX)


class ReopenInputSerializer(ReasonInputSerializer):
    pass


class CancelInputSerializer(ReasonInputSerializer):
    pass


class ExtendDeadlineInputSerializer(ReasonInputSerializer):
    reason_category = serializers.ChoiceField(
        choices=ExtensionReason.choices,
        default=ExtensionReason.INVESTIGATION,
        help_text="What the customer's message gives as the reason.",
    )


class ReturnInputSerializer(ReasonInputSerializer):
    pass


class CommentInputSerializer(Serializer):
    text = StrictCharField(max_length=TEXT_MAX)


class CustomerNotifiedInputSerializer(Serializer):
    channel = serializers.ChoiceField(
        choices=[*Case.Channel.choices, *CustomerMessage.Channel.choices],
        help_text="How the customer was told (a call: `phone`).",
    )
    about = serializers.ChoiceField(choices=CustomerMessage.Kind.choices, allow_blank=True, default="")
    note = StrictCharField(max_length=NOTE_MAX, allow_blank=True, default="")


class CompensationDecisionInputSerializer(Serializer):
    approve = serializers.BooleanField()
    note = StrictCharField(
        max_length=NOTE_MAX, allow_blank=True, default="", help_text="Required when rejecting."
    )


class PauseInputSerializer(Serializer):
    cause = serializers.ChoiceField(choices=PauseSegment.Cause.choices)
    note = StrictCharField(max_length=NOTE_MAX, allow_blank=True, default="")
