"""Query-string filters of the evaluations API (django-filter)."""

from __future__ import annotations

import django_filters

from core.bounds import BoundedDateFilter, StrictFilterSet, TextFilter
from evaluations.models import Evaluation, Inspection, Level
from evaluations.periods import PeriodKind

GRADES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("none", "no score")]


class EvaluationFilter(StrictFilterSet):
    department = TextFilter(field_name="department__code", max_length=50, help_text="Department code.")
    period = django_filters.ChoiceFilter(
        field_name="kind", choices=PeriodKind.choices, help_text="Period kind."
    )
    period_start = BoundedDateFilter(help_text="The period starting on this day, e.g. 2026-11-01.")
    period_start_after = BoundedDateFilter(field_name="period_start", lookup_expr="gte")
    period_start_before = BoundedDateFilter(field_name="period_start", lookup_expr="lte")
    grade = django_filters.ChoiceFilter(choices=GRADES, method="filter_grade", help_text="A–D, or `none`.")

    class Meta:
        model = Evaluation
        fields: list[str] = []

    def filter_grade(self, queryset, name, value):
        return queryset.filter(grade="" if value == "none" else value)


class InspectionFilter(StrictFilterSet):
    department = TextFilter(field_name="department__code", max_length=50)
    level = django_filters.ChoiceFilter(choices=Level.choices)
    status = django_filters.ChoiceFilter(choices=Inspection.Status.choices)
    case = TextFilter(field_name="case__reference", max_length=30)
    inspector = TextFilter(field_name="inspector__username", max_length=150)
    period_start = BoundedDateFilter(help_text="Sampled for the period starting on this day.")

    class Meta:
        model = Inspection
        fields: list[str] = []
