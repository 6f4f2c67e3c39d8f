"""Forms of the admin: opening a case and the action forms of the case page.

An action form parses what was typed and hands it to its one service function (`perform`), which
checks every rule (state, department, reasons, amounts) again: that is what makes a stale page or a
hand-made POST harmless. Defining an `ActionForm` with an `action` registers it on the case page
(`ACTION_FORMS`), offered when the action's rule offers it (processes.rules).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound, StateConflict
from core.text import localized_name
from processes import selectors, services
from processes.customers.messages import ExtensionReason
from processes.models import Case, Handoff, PauseSegment, Priority, ServiceProcess, Stage
from processes.rules import Action


class CaseOpenForm(forms.Form):
    process = forms.ModelChoiceField(
        label=_("process"), queryset=ServiceProcess.objects.filter(is_active=True).order_by("code")
    )
    title = forms.CharField(label=_("title"), max_length=300)
    channel = forms.ChoiceField(label=_("channel"), choices=[("", "---------"), *Case.Channel.choices])
    priority = forms.ChoiceField(label=_("priority"), choices=Priority.choices, initial=Priority.NORMAL)
    description = forms.CharField(
        label=_("description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    customer_id = forms.CharField(label=_("customer id"), max_length=64, required=False)
    customer_name = forms.CharField(label=_("customer name"), max_length=200, required=False)
    customer_phone = forms.CharField(label=_("customer phone"), max_length=32, required=False)
    customer_email = forms.EmailField(label=_("customer e-mail"), required=False)
    note = forms.CharField(
        label=_("note to the first department"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["process"].label_from_instance = localized_name


def _reason(label=None) -> forms.CharField:
    return forms.CharField(label=label or _("reason"), widget=forms.Textarea(attrs={"rows": 2}))


# action name → its form; filled by every ActionForm that names an `action`.
ACTION_FORMS: dict[str, type[ActionForm]] = {}


class ActionForm(forms.Form):
    """One action of the case page. `action` names its URL; `submit` is the button; `perform` calls
    the service with the cleaned data and says what happened."""

    action: ClassVar[str]
    heading: ClassVar[str]
    submit: ClassVar[str]
    danger: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "action" in cls.__dict__:
            if cls.action in ACTION_FORMS:
                raise ValueError(f"two forms for the action {cls.action!r}")
            ACTION_FORMS[cls.action] = cls

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.action)
        super().__init__(*args, **kwargs)

    @classmethod
    def page_kwargs(cls, page: selectors.CasePage) -> dict[str, Any]:
        """What the form needs to be shown on the case page."""
        return {}

    @classmethod
    def post_kwargs(cls, case: Case) -> dict[str, Any]:
        """What the form needs to parse a POST on `case`."""
        return {}

    def perform(self, actor, case: Case) -> str:
        raise NotImplementedError


class HandoffActionForm(ActionForm):
    """Names the handoff the page showed, so that a stale page never acts on a newer handoff."""

    handoff = forms.IntegerField(widget=forms.HiddenInput)

    @classmethod
    def page_kwargs(cls, page: selectors.CasePage) -> dict[str, Any]:
        return {"initial": {"handoff": page.open_handoff.pk}}

    def handoff_of(self, case: Case, *, open_only: bool = False) -> Handoff:
        """The handoff the page named, on this case (`open_only`: still open, else `stale_page`)."""
        handoff = Handoff.objects.filter(case=case, pk=self.cleaned_data["handoff"]).first()
        if handoff is None:
            raise NotFound("No such handoff on this case.")
        if open_only and not handoff.is_open:
            raise StateConflict("The handoff named by the page is no longer open.", code="stale_page")
        return handoff


class AcceptForm(HandoffActionForm):
    action = Action.ACCEPT
    heading = _("Accept the handoff")
    submit = _("Accept")

    def perform(self, actor, case):
        services.handoff_accept(handoff=self.handoff_of(case), actor=actor)
        return gettext("Handoff accepted: the resolution clock runs.")


class ClaimForm(HandoffActionForm):
    action = Action.CLAIM
    heading = _("Take the handoff as yours")
    submit = _("Claim for me")

    def perform(self, actor, case):
        services.handoff_claim(handoff=self.handoff_of(case), actor=actor)
        return gettext("You have claimed the handoff.")


class ReturnForm(HandoffActionForm):
    action = Action.RETURN
    heading = _("Return to the sending department")
    submit = _("Return to sender")
    danger = True
    reason = _reason()

    def perform(self, actor, case):
        handoff = services.handoff_return(
            handoff=self.handoff_of(case), actor=actor, reason=self.cleaned_data["reason"]
        )
        return gettext("Handoff returned to %(department)s.") % {
            "department": localized_name(handoff.from_department)
        }


class ForwardForm(HandoffActionForm):
    action = Action.FORWARD
    heading = _("Forward to the next stage")
    submit = _("Forward")
    to_stage = forms.ChoiceField(label=_("to stage"))
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, targets: list[Stage] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [
            (stage.code, f"{localized_name(stage)} · {localized_name(stage.department)}") for stage in targets
        ]

    @classmethod
    def page_kwargs(cls, page):
        return {**super().page_kwargs(page), "targets": page.forward_targets}

    @classmethod
    def post_kwargs(cls, case):
        return {"targets": selectors.forward_targets(selectors.open_handoff(case))}

    def perform(self, actor, case):
        self.handoff_of(case, open_only=True)
        data = self.cleaned_data
        handoff = services.case_forward(case=case, to_stage=data["to_stage"], actor=actor, note=data["note"])
        return gettext("Forwarded to %(department)s.") % {"department": localized_name(handoff.to_department)}


class PauseForm(HandoffActionForm):
    action = Action.PAUSE
    heading = _("Pause: waiting on the customer or an outside party")
    submit = _("Pause the clock")
    cause = forms.ChoiceField(label=_("cause"), choices=PauseSegment.Cause.choices)
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def perform(self, actor, case):
        data = self.cleaned_data
        services.handoff_pause(
            handoff=self.handoff_of(case), actor=actor, cause=data["cause"], note=data["note"]
        )
        return gettext("The resolution clock is paused.")


class ResumeForm(HandoffActionForm):
    action = Action.RESUME
    heading = _("Resume the clock")
    submit = _("Resume the clock")

    def perform(self, actor, case):
        services.handoff_resume(handoff=self.handoff_of(case), actor=actor)
        return gettext("The resolution clock runs again.")


class ResolveForm(ActionForm):
    action = Action.RESOLVE
    heading = _("Resolve with service recovery")
    submit = _("Resolve")
    resolution = forms.CharField(label=_("resolution"), widget=forms.Textarea(attrs={"rows": 3}))
    recovery_measure = forms.ChoiceField(
        label=_("recovery measure"), choices=[("", "---------"), *Case.Recovery.choices]
    )
    compensation_amount = forms.DecimalField(
        label=_("compensation amount"), max_digits=12, decimal_places=2, min_value=0, required=False
    )

    def perform(self, actor, case):
        data = self.cleaned_data
        case = services.case_resolve(
            case=case,
            actor=actor,
            resolution=data["resolution"],
            recovery_measure=data["recovery_measure"],
            compensation_amount=data["compensation_amount"],
        )
        if case.compensation_approval == Case.Approval.PENDING:
            return gettext("The compensation now awaits approval by %(department)s.") % {
                "department": localized_name(case.process.compensation_approver)
            }
        return gettext("Case resolved.")


class DecideCompensationForm(ActionForm):
    APPROVE, REJECT = "approve", "reject"

    action = Action.DECIDE_COMPENSATION
    heading = _("Decide the compensation")
    submit = _("Decide")
    decision = forms.ChoiceField(
        label=_("decision"),
        choices=[(APPROVE, _("approve the compensation")), (REJECT, _("reject the compensation"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("note (required to reject)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def perform(self, actor, case):
        approve = self.cleaned_data["decision"] == self.APPROVE
        services.compensation_decide(case=case, actor=actor, approve=approve, note=self.cleaned_data["note"])
        if approve:
            return gettext("Compensation approved: the case is resolved.")
        return gettext("Compensation rejected: the case went back to the resolving department.")


class CloseForm(ActionForm):
    action = Action.CLOSE
    heading = _("Close after the call-back")
    submit = _("Close the case")

    def perform(self, actor, case):
        services.case_close(case=case, actor=actor)
        return gettext("Case closed.")


class ReopenForm(ActionForm):
    action = Action.REOPEN
    heading = _("Reopen the case")
    submit = _("Reopen")
    reason = _reason()

    def perform(self, actor, case):
        services.case_reopen(case=case, actor=actor, reason=self.cleaned_data["reason"])
        return gettext("Case reopened.")


class CancelForm(ActionForm):
    action = Action.CANCEL
    heading = _("Cancel the case")
    submit = _("Cancel the case")
    danger = True
    reason = _reason()

    def perform(self, actor, case):
        services.case_cancel(case=case, actor=actor, reason=self.cleaned_data["reason"])
        return gettext("Case cancelled.")


class ExtendDeadlineForm(ActionForm):
    action = Action.EXTEND_DEADLINE
    heading = _("Extend the regulatory deadline")
    submit = _("Extend the regulatory deadline")
    reason = _reason()
    reason_category = forms.ChoiceField(
        label=_("reason told to the customer"),
        choices=ExtensionReason.choices,
        initial=ExtensionReason.INVESTIGATION,
        required=False,
    )

    def perform(self, actor, case):
        case = services.case_extend_deadline(
            case=case,
            actor=actor,
            reason=self.cleaned_data["reason"],
            reason_category=self.cleaned_data.get("reason_category") or ExtensionReason.INVESTIGATION,
        )
        return gettext(
            "The regulatory deadline is now %(date)s; a message to the customer is on its way."
        ) % {"date": case.regulatory_deadline.isoformat()}


class CommentForm(ActionForm):
    action = Action.COMMENT
    heading = _("Comment")
    submit = _("Add comment")
    text = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}))

    def perform(self, actor, case):
        services.case_comment(case=case, actor=actor, text=self.cleaned_data["text"])
        return gettext("Comment added.")


class TransferForm(HandoffActionForm):
    action = Action.TRANSFER
    heading = _("Hand over to a colleague")
    submit = _("Hand over")
    to_user = forms.ModelChoiceField(label=_("colleague"), queryset=get_user_model().objects.none())

    def __init__(self, *args, department_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True)
        if department_id is not None:  # the page lists the department's members; the service checks
            users = users.filter(memberships__department_id=department_id).order_by("username")
        self.fields["to_user"].queryset = users
        self.fields["to_user"].label_from_instance = selectors.user_label

    @classmethod
    def page_kwargs(cls, page):
        return {**super().page_kwargs(page), "department_id": page.open_handoff.to_department_id}

    def perform(self, actor, case):
        to_user = self.cleaned_data["to_user"]
        services.handoff_transfer(handoff=self.handoff_of(case), actor=actor, to_user=to_user)
        return gettext("Handed over to %(user)s.") % {"user": selectors.user_label(to_user)}
