"""Forms of the admin: opening a case and the action forms of the case page.

They only parse what was typed. Every rule (state, department, reasons, amounts) is checked again by
the service the admin calls, which is what makes a stale page or a hand-made POST harmless.
"""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import localized_name
from processes.customers.messages import ExtensionReason
from processes.models import Case, PauseSegment, Priority, ServiceProcess, Stage
from processes.selectors import Action


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


class ActionForm(forms.Form):
    """One action of the case page. `action` names its URL; `submit` is the button."""

    action: ClassVar[str]
    heading: ClassVar[str]
    submit: ClassVar[str]
    danger: ClassVar[bool] = False

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.action)
        super().__init__(*args, **kwargs)


class HandoffActionForm(ActionForm):
    """Names the handoff the page showed, so that a stale page never acts on a newer handoff."""

    handoff = forms.IntegerField(widget=forms.HiddenInput)


class AcceptForm(HandoffActionForm):
    action = Action.ACCEPT
    heading = _("Accept the handoff")
    submit = _("Accept")


class ClaimForm(HandoffActionForm):
    action = Action.CLAIM
    heading = _("Take the handoff as yours")
    submit = _("Claim for me")


class ReturnForm(HandoffActionForm):
    action = Action.RETURN
    heading = _("Return to the sending department")
    submit = _("Return to sender")
    danger = True
    reason = _reason()


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


class PauseForm(HandoffActionForm):
    action = Action.PAUSE
    heading = _("Pause: waiting on the customer or an outside party")
    submit = _("Pause the clock")
    cause = forms.ChoiceField(label=_("cause"), choices=PauseSegment.Cause.choices)
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ResumeForm(HandoffActionForm):
    action = Action.RESUME
    heading = _("Resume the clock")
    submit = _("Resume the clock")


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


class CloseForm(ActionForm):
    action = Action.CLOSE
    heading = _("Close after the call-back")
    submit = _("Close the case")


class ReopenForm(ActionForm):
    action = Action.REOPEN
    heading = _("Reopen the case")
    submit = _("Reopen")
    reason = _reason()


class CancelForm(ActionForm):
    action = Action.CANCEL
    heading = _("Cancel the case")
    submit = _("Cancel the case")
    danger = True
    reason = _reason()


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


class CommentForm(ActionForm):
    action = Action.COMMENT
    heading = _("Comment")
    submit = _("Add comment")
    text = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}))


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.action: form
    for form in (
        AcceptForm,
        ClaimForm,
        ReturnForm,
        ForwardForm,
        PauseForm,
        ResumeForm,
        ResolveForm,
        DecideCompensationForm,
        CloseForm,
        ReopenForm,
        CancelForm,
        ExtendDeadlineForm,
        CommentForm,
    )
}
