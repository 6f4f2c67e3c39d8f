"""State changes of cases and handoffs: one view each, with its own input serializer.

Each registers its own URL (`@action_route`: path under /api/v1/ and URL name), which
processes/api/urls.py includes. Each hands the case's reference or the handoff's id to the service function the admin calls too,
which looks it up within the caller's department scope as it locks it (404 outside it), checks the
department's right (403) and the state (409). The answer is built from the objects the service
returns, so that an integration sees the new open handoff, its due times and SLA state without the
API reading anything again.
"""

from __future__ import annotations

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import converters  # noqa: F401  (registers case_ref and api_id for the routes below)
from core.api.errors import WRITE_ERRORS, error_responses
from processes import services
from processes.api import serializers as s
from processes.api.views import JsonView, changed_case, changed_handoff, validated_input
from processes.customers import messages as customer_messages

# The URLs of the views below, in the order they are defined (processes/api/urls.py includes them).
ROUTES: list[URLPattern] = []


def action_route(route: str, *, name: str):
    """Register the decorated view at /api/v1/<route> under the URL name `api:<name>`."""

    def register(view_class):
        ROUTES.append(path(route, view_class.as_view(), name=name))
        return view_class

    return register


# == cases ==========================================================================================
def _case_action(operation_id: str, request_serializer, description: str, *, ok: int = 200, out=None):
    return extend_schema(
        operation_id=operation_id,
        tags=["cases"],
        request=request_serializer,
        responses={ok: out or s.CaseDetailSerializer, **error_responses(*WRITE_ERRORS)},
        description=description,
    )


@action_route("cases/<case_ref:reference>/forward/", name="case-forward")
class CaseForwardView(JsonView):
    @_case_action(
        "case_forward",
        s.ForwardInputSerializer,
        "Complete the accepted handoff and hand the case to the next stage along an allowed transition.",
    )
    def post(self, request: Request, reference: str) -> Response:
        handoff = services.case_forward(
            case=reference, actor=request.user, **validated_input(s.ForwardInputSerializer, request)
        )
        return changed_case(request, handoff.case)


@action_route("cases/<case_ref:reference>/resolve/", name="case-resolve")
class CaseResolveView(JsonView):
    @_case_action(
        "case_resolve",
        s.ResolveInputSerializer,
        "Resolve with a service-recovery measure. A compensation above the process's threshold goes to "
        "the approving department first (`compensation_approval` = `pending`).",
    )
    def post(self, request: Request, reference: str) -> Response:
        case = services.case_resolve(
            case=reference, actor=request.user, **validated_input(s.ResolveInputSerializer, request)
        )
        return changed_case(request, case)


@action_route("cases/<case_ref:reference>/close/", name="case-close")
class CaseCloseView(JsonView):
    @_case_action(
        "case_close", None, "Close a resolved case (the call-back handoff must have been accepted)."
    )
    def post(self, request: Request, reference: str) -> Response:
        case = services.case_close(case=reference, actor=request.user)
        return changed_case(request, case)


@action_route("cases/<case_ref:reference>/reopen/", name="case-reopen")
class CaseReopenView(JsonView):
    @_case_action(
        "case_reopen",
        s.ReopenInputSerializer,
        "Reopen a resolved or closed case within the process's window; it goes back to the department "
        "that resolved it.",
    )
    def post(self, request: Request, reference: str) -> Response:
        case = services.case_reopen(
            case=reference, actor=request.user, **validated_input(s.ReopenInputSerializer, request)
        )
        return changed_case(request, case)


@action_route("cases/<case_ref:reference>/cancel/", name="case-cancel")
class CaseCancelView(JsonView):
    @_case_action("case_cancel", s.CancelInputSerializer, "Cancel an open case, with a reason.")
    def post(self, request: Request, reference: str) -> Response:
        case = services.case_cancel(
            case=reference, actor=request.user, **validated_input(s.CancelInputSerializer, request)
        )
        return changed_case(request, case)


@action_route("cases/<case_ref:reference>/comments/", name="case-comments")
class CaseCommentView(JsonView):
    @_case_action(
        "case_comment",
        s.CommentInputSerializer,
        "Add a comment to the timeline (any department the case went through).",
        ok=201,
        out=s.EventSerializer,
    )
    def post(self, request: Request, reference: str) -> Response:
        event = services.case_comment(
            case=reference, actor=request.user, **validated_input(s.CommentInputSerializer, request)
        )
        return Response(s.EventSerializer(event).data, status=status.HTTP_201_CREATED)


@action_route("cases/<case_ref:reference>/customer-notified/", name="case-customer-notified")
class CaseCustomerNotifiedView(JsonView):
    @_case_action(
        "case_customer_notified",
        s.CustomerNotifiedInputSerializer,
        "Record that a person told the customer (a call, a letter), with the channel used: the timeline's "
        "`customer_notified` event. Messages Baton sends write that event themselves when they leave.",
        ok=201,
        out=s.EventSerializer,
    )
    def post(self, request: Request, reference: str) -> Response:
        event = customer_messages.case_record_customer_notified(
            case=reference, actor=request.user, **validated_input(s.CustomerNotifiedInputSerializer, request)
        )
        return Response(s.EventSerializer(event).data, status=status.HTTP_201_CREATED)


@action_route("cases/<case_ref:reference>/extend-deadline/", name="case-extend-deadline")
class CaseExtendDeadlineView(JsonView):
    @_case_action(
        "case_extend_deadline",
        s.ExtendDeadlineInputSerializer,
        "Extend the regulatory deadline: the first time by the current department's lead, the second "
        "time by the process's approving department. The customer is sent a message with the new date "
        "and `reason_category` (SMS, else e-mail); its `customer_notified` event follows when it leaves.",
    )
    def post(self, request: Request, reference: str) -> Response:
        case = services.case_extend_deadline(
            case=reference, actor=request.user, **validated_input(s.ExtendDeadlineInputSerializer, request)
        )
        return changed_case(request, case)


@action_route("cases/<case_ref:reference>/compensation-decision/", name="case-compensation-decision")
class CaseCompensationDecisionView(JsonView):
    @_case_action(
        "case_compensation_decision",
        s.CompensationDecisionInputSerializer,
        "The approving department approves (the case is resolved) or rejects (with a note; the case "
        "goes back to the stage that resolved it) a compensation awaiting approval.",
    )
    def post(self, request: Request, reference: str) -> Response:
        case = services.compensation_decide(
            case=reference,
            actor=request.user,
            **validated_input(s.CompensationDecisionInputSerializer, request),
        )
        return changed_case(request, case)


# == handoffs =======================================================================================
def _handoff_action(operation_id: str, request_serializer, description: str):
    return extend_schema(
        operation_id=operation_id,
        tags=["handoffs"],
        request=request_serializer,
        responses={200: s.HandoffSerializer, **error_responses(*WRITE_ERRORS)},
        description=description,
    )


@action_route("handoffs/<api_id:handoff_id>/accept/", name="handoff-accept")
class HandoffAcceptView(JsonView):
    @_handoff_action(
        "handoff_accept",
        None,
        "Accept a pending handoff for its receiving department. Of concurrent accepts exactly one "
        "succeeds; the others get 409 `handoff_not_pending`.",
    )
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = services.handoff_accept(handoff=handoff_id, actor=request.user)
        return changed_handoff(request, handoff)


@action_route("handoffs/<api_id:handoff_id>/return/", name="handoff-return")
class HandoffReturnView(JsonView):
    @_handoff_action(
        "handoff_return",
        s.ReturnInputSerializer,
        "Send the handoff back to the department that sent it, with a reason (a bounce).",
    )
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = services.handoff_return(
            handoff=handoff_id, actor=request.user, **validated_input(s.ReturnInputSerializer, request)
        )
        return changed_handoff(request, handoff)


@action_route("handoffs/<api_id:handoff_id>/claim/", name="handoff-claim")
class HandoffClaimView(JsonView):
    @_handoff_action("handoff_claim", None, "Take an open handoff as an individual (the assignee).")
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = services.handoff_claim(handoff=handoff_id, actor=request.user)
        return changed_handoff(request, handoff)


@action_route("handoffs/<api_id:handoff_id>/pause/", name="handoff-pause")
class HandoffPauseView(JsonView):
    @_handoff_action(
        "handoff_pause",
        s.PauseInputSerializer,
        "Stop the resolution clock of an accepted handoff while waiting on the customer or an outside party.",
    )
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = services.handoff_pause(
            handoff=handoff_id, actor=request.user, **validated_input(s.PauseInputSerializer, request)
        )
        return changed_handoff(request, handoff)


@action_route("handoffs/<api_id:handoff_id>/resume/", name="handoff-resume")
class HandoffResumeView(JsonView):
    @_handoff_action(
        "handoff_resume", None, "Restart the resolution clock; the due time moves by the paused time."
    )
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = services.handoff_resume(handoff=handoff_id, actor=request.user)
        return changed_handoff(request, handoff)


class TransferInputSerializer(serializers.Serializer):
    to_user = serializers.CharField(
        max_length=150, help_text="The username of an active member of the handoff's department."
    )


@action_route("handoffs/<api_id:handoff_id>/transfer/", name="handoff-transfer")
class HandoffTransferView(JsonView):
    @_handoff_action(
        "handoff_transfer",
        TransferInputSerializer,
        "Hand an accepted handoff to another active member of its department (the new assignee): by "
        "its assignee or the department's lead (403 `transfer_not_allowed` for anyone else).",
    )
    def post(self, request: Request, handoff_id: int) -> Response:
        handoff = services.handoff_transfer(
            handoff=handoff_id, actor=request.user, **validated_input(TransferInputSerializer, request)
        )
        return changed_handoff(request, handoff)
