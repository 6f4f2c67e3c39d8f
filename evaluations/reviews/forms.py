"""Forms of the review admin: shape only. Every rule lives in evaluations.reviews.services; a form that needs
one (the cycle's form) asks the service's own check and shows its errors on the fields."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.bounds import BoundedFormDateField
from core.errors import ApplicationError, InvalidInput
from departments.models import Department
from evaluations.models import Kpi
from evaluations.reviews import services as reviews
from evaluations.reviews.models import ImprovementAction, ImprovementReview, ReviewCycle
from processes.admin.common import error_text as process_error_text

# The services speak English to logs and the API; staff read these, by stable error code.
ERROR_MESSAGES = {
    "cycle_without_departments": _("Choose the departments to review, or review all departments."),
    "invalid_run_day": _(
        "The day must lie within the next period (1–7 weekly, 1–28 monthly, 1–90 quarterly)."
    ),
    "invalid_run_time": _("A time of day, e.g. 08:00."),
    "unknown_period": _("Choose weekly, monthly or quarterly."),
    "name_required": _("A name is required."),
    "invalid_email": _("Not an e-mail address."),
    "scorecard_required": _("Sampling needs an active scorecard."),
    "chair_cannot_sample": _("Sampling is done in the chair's name: choose a chair who may sample cases."),
    "cannot_administer_cycles": _("Only the quality office administers review cycles."),
    "period_not_closed": _("This period has not ended yet."),
    "cannot_record_minutes": _("Only the chair or the quality office records the minutes."),
    "review_closed": _("This review is closed: decide the action in the next one."),
    "due_date_in_past": _("The due date lies in the past."),
    "department_not_in_review": _("This review did not review this department."),
    "owner_required": _("An owner is required."),
    "owner_not_in_department": _("The owner must work in the action's department."),
    "cannot_reassign": _("Only the department's lead or the quality office hands an action over."),
    "title_required": _("A title is required."),
    "unknown_kpi": _("Unknown KPI."),
    "goal_required": _("Give the KPI value the action should reach."),
    "goal_without_kpi": _("A goal needs a KPI to be measured by."),
    "goal_not_an_improvement": _("The goal is no improvement on the baseline."),
    "cannot_create_action": _(
        "Only the department's lead or the quality office decides its improvement actions."
    ),
    "cannot_change_action": _("Only the owner, the department's lead or the quality office moves an action."),
    "cannot_verify_action": _("Only the quality office judges whether an action worked."),
    "action_step_skipped": _("An action goes step by step: open → in progress → done → checked."),
    "action_transition_not_allowed": _("The action cannot go back to that status."),
    "action_checked": _("A checked action cannot be changed."),
    "unknown_status": _("Unknown status."),
}


def error_message(code: str, fallback: str) -> str:
    known = ERROR_MESSAGES.get(code)
    return str(known) if known is not None else fallback


def error_text(exc: ApplicationError) -> str:
    """A domain error as one line for the admin's message bar, in the user's language when known."""
    if exc.code in ERROR_MESSAGES:
        return str(ERROR_MESSAGES[exc.code])
    return process_error_text(exc)


def add_service_errors(form: forms.Form, exc: InvalidInput) -> None:
    """A domain error's `fields` as form errors (the whole message when it names no known field)."""
    fields = exc.extra.get("fields") or {}
    codes = exc.extra.get("field_codes") or {}
    placed = False
    for name, messages in fields.items():
        target = {"kpi": "kpi_code"}.get(name, name)
        if target in form.fields:
            form.add_error(target, [error_message(codes.get(name, ""), str(m)) for m in messages])
            placed = True
    if not placed:
        form.add_error(None, error_text(exc))


class ReviewCycleForm(forms.ModelForm):
    class Meta:
        model = ReviewCycle
        fields = [
            "name",
            "kind",
            "run_day",
            "run_time",
            "all_departments",
            "departments",
            "notify_leads",
            "notify_quality_office",
            "extra_recipients",
            "chair",
            "inspection_scorecard",
            "inspection_level",
            "inspection_sample_size",
            "is_active",
        ]
        widgets = {"extra_recipients": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            reviews.review_cycle_check(**{**data, "departments": list(data.get("departments") or [])})
        except InvalidInput as exc:
            add_service_errors(self, exc)
        return data


class ReviewMinutesForm(forms.ModelForm):
    close_review = forms.BooleanField(
        label=_("close the review"),
        required=False,
        help_text=_("The meeting is over: the minutes are final and no more actions are added."),
    )

    class Meta:
        model = ImprovementReview
        fields = ["minutes"]
        widgets = {"minutes": forms.Textarea(attrs={"rows": 8, "cols": 100})}


class ActionCreateForm(forms.Form):
    review = forms.ModelChoiceField(label=_("review"), queryset=ImprovementReview.objects.none())
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.filter(is_active=True)
    )
    owner = forms.ModelChoiceField(
        label=_("owner"),
        queryset=get_user_model().objects.filter(is_active=True, memberships__isnull=False).distinct(),
        help_text=_("Someone who works in the department."),
    )
    title = forms.CharField(label=_("title"), max_length=300)
    description = forms.CharField(
        label=_("description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    kind = forms.ChoiceField(label=_("kind"), choices=ImprovementAction.Kind.choices)
    kpi_code = forms.ChoiceField(label=_("KPI"), choices=[("", "—"), *Kpi.Code.choices], required=False)
    baseline = forms.DecimalField(
        label=_("baseline"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the department's value in the reviewed period."),
    )
    goal = forms.DecimalField(label=_("goal"), max_digits=14, decimal_places=2, required=False)
    due_date = BoundedFormDateField(label=_("due date"), help_text=_("YYYY-MM-DD"))

    def __init__(self, *args, reviews_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if reviews_queryset is not None:
            self.fields["review"].queryset = reviews_queryset


class ActionEditForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=300)
    description = forms.CharField(
        label=_("description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    owner = forms.ModelChoiceField(label=_("owner"), queryset=get_user_model().objects.none())
    due_date = BoundedFormDateField(label=_("due date"))
    goal = forms.DecimalField(label=_("goal"), max_digits=14, decimal_places=2, required=False)

    def __init__(self, *args, action: ImprovementAction, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "title": action.title,
                "description": action.description,
                "owner": action.owner_id,
                "due_date": action.due_date,
                "goal": action.goal,
            },
        )
        super().__init__(*args, **kwargs)
        owners = reviews.owners_for(action.department)
        self.fields["owner"].queryset = get_user_model().objects.filter(
            pk__in=[*owners.values_list("pk", flat=True), action.owner_id]
        )
        if not action.kpi_code:
            del self.fields["goal"]


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ImprovementAction.Status.choices, widget=forms.HiddenInput)
    note = forms.CharField(label=_("note"), max_length=4000, required=False)
    result_value = forms.DecimalField(label=_("result"), max_digits=14, decimal_places=2, required=False)
