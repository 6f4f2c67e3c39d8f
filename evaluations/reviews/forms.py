"""Forms of the review admin: shape only. Every rule lives in evaluations.reviews.services; a form that needs
one (the cycle's form) asks the service's own check and shows its errors on the fields."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.bounds import BoundedFormDateField
from core.errors import InvalidInput
from core.messages import add_service_errors
from departments.models import Department
from evaluations.models import Kpi
from evaluations.reviews import services as reviews
from evaluations.reviews.models import ImprovementAction, ImprovementReview, ReviewCycle


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
