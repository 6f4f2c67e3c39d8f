"""Forms of the evaluations admin pages: shape only; every rule lives in evaluations.services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.bounds import BoundedFormDateField, BoundedFormDateTimeField
from departments.models import Department
from evaluations.models import CustomerFeedback, Level, Scorecard
from evaluations.periods import PeriodKind


class CaseReferenceField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("label", _("case reference"))
        kwargs.setdefault("help_text", _("e.g. CMP-202611-000123"))
        super().__init__(**kwargs)


class FeedbackForm(forms.Form):
    case = CaseReferenceField()
    survey_id = forms.CharField(label=_("survey id"), max_length=100)
    csat = forms.TypedChoiceField(
        label=_("CSAT (1–5)"),
        choices=[("", "—"), *[(i, str(i)) for i in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    nps = forms.TypedChoiceField(
        label=_("NPS answer (0–10)"),
        choices=[("", "—"), *[(i, str(i)) for i in range(11)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    channel = forms.ChoiceField(label=_("channel"), choices=CustomerFeedback.Channel.choices)
    comment = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    responded_at = BoundedFormDateTimeField(
        label=_("answered at"), required=False, help_text=_("Empty: now.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey_id"].initial = f"admin-{timezone.localtime():%Y%m%d%H%M%S}"
        self.fields["channel"].initial = CustomerFeedback.Channel.PHONE


class InspectionAssignForm(forms.Form):
    case = CaseReferenceField()
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.filter(is_active=True)
    )
    level = forms.ChoiceField(label=_("level"), choices=Level.choices)
    scorecard = forms.ModelChoiceField(
        label=_("scorecard"), queryset=Scorecard.objects.filter(is_active=True)
    )
    inspector = forms.ModelChoiceField(
        label=_("inspector"),
        queryset=get_user_model().objects.filter(is_active=True, memberships__isnull=False).distinct(),
        required=False,
        help_text=_("Empty: any permitted inspector may take it."),
    )


class InspectionRecordForm(forms.Form):
    """One field per criterion of the inspection's scorecard, each bounded by its maximum."""

    comment = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"score_{criterion.code}"] = forms.DecimalField(
                label=f"{criterion.name} (≤ {criterion.max_score}, ×{criterion.weight})",
                min_value=0,
                max_value=criterion.max_score,
                decimal_places=2,
                max_digits=8,
            )
        self.order_fields([f"score_{c.code}" for c in self.criteria] + ["comment"])

    def scores(self) -> dict[str, object]:
        return {c.code: self.cleaned_data[f"score_{c.code}"] for c in self.criteria}


class SampleForm(forms.Form):
    kind = forms.ChoiceField(label=_("period"), choices=PeriodKind.choices, initial=PeriodKind.MONTHLY)
    start = BoundedFormDateField(
        label=_("period start"), help_text=_("A Monday, the 1st of a month or of a quarter.")
    )
    per_department = forms.IntegerField(
        label=_("cases per department"), min_value=1, max_value=100, initial=3
    )
    level = forms.ChoiceField(label=_("level"), choices=Level.choices, initial=Level.QUALITY_OFFICE)
    scorecard = forms.ModelChoiceField(
        label=_("scorecard"), queryset=Scorecard.objects.filter(is_active=True)
    )


class ComputeForm(forms.Form):
    kind = forms.ChoiceField(label=_("period"), choices=PeriodKind.choices, initial=PeriodKind.MONTHLY)
    start = BoundedFormDateField(
        label=_("period start"), help_text=_("A Monday, the 1st of a month or of a quarter.")
    )


class FlowForm(forms.Form):
    METRICS = [
        ("count", _("number of handoffs")),
        ("median", _("median minutes to accept")),
        ("bounce", _("bounce rate")),
    ]

    start = BoundedFormDateField(label=_("from"))
    end = BoundedFormDateField(label=_("to (included)"))
    metric = forms.ChoiceField(label=_("colour by"), choices=METRICS, required=False)
