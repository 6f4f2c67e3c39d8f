"""Query-string filters and ordering of the API's lists (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms

from core.bounds import BoundedDateTimeFilter, StrictBooleanFilter, StrictFilterSet, TextFilter
from departments.models import Department
from processes.api import selectors
from processes.customers import crypto
from processes.models import Case, Handoff, Priority, ServiceProcess


class _CustomerKeyField(forms.CharField):
    """A full phone or customer number, cleaned into its blind index (a malformed one is a 400)."""

    make = staticmethod(crypto.phone_key)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return self.make(value)
        except crypto.Malformed as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class _CustomerIdKeyField(_CustomerKeyField):
    make = staticmethod(crypto.customer_id_key)


class _PhoneFilter(django_filters.CharFilter):
    field_class = _CustomerKeyField


class _CustomerIdFilter(django_filters.CharFilter):
    field_class = _CustomerIdKeyField


class CaseFilter(StrictFilterSet):
    customer_phone = _PhoneFilter(
        field_name="customer_phone_key",
        max_length=32,
        help_text="The customer's full phone number (exact match; spaces, dashes and +86 allowed).",
    )
    customer_id = _CustomerIdFilter(
        field_name="customer_id_key", max_length=64, help_text="The customer's number (exact match)."
    )
    process = TextFilter(field_name="process__code", max_length=50, help_text="Process code.")
    status = django_filters.ChoiceFilter(choices=Case.Status.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    channel = django_filters.ChoiceFilter(choices=Case.Channel.choices)
    department = TextFilter(
        field_name="current_department__code", max_length=50, help_text="Code of the current department."
    )
    stage = TextFilter(
        field_name="current_stage__code", max_length=50, help_text="Code of the current stage."
    )
    source = TextFilter(max_length=50)
    external_id = TextFilter(max_length=100)
    updated_since = BoundedDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after this time (ISO 8601)."
    )
    created_since = BoundedDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedDateTimeFilter(field_name="created_at", lookup_expr="lt")
    due_before = BoundedDateTimeFilter(
        field_name="due_at", lookup_expr="lt", help_text="End-to-end due before this time."
    )

    class Meta:
        model = Case
        fields: list[str] = []


class HandoffFilter(StrictFilterSet):
    department = TextFilter(
        field_name="to_department__code", max_length=50, help_text="Code of the receiving department."
    )
    from_department = TextFilter(field_name="from_department__code", max_length=50)
    status = django_filters.ChoiceFilter(choices=Handoff.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Handoff.Kind.choices)
    case = TextFilter(field_name="case__reference", max_length=30, help_text="Case reference.")
    breached = StrictBooleanFilter(
        method="filter_breached", help_text="Response or resolution target breached."
    )
    due_before = BoundedDateTimeFilter(
        method="filter_due_before",
        help_text="The running clock (response while pending, else resolution) is due before this time.",
    )

    class Meta:
        model = Handoff
        fields: list[str] = []

    def filter_breached(self, queryset, name, value):
        return queryset if value is None else selectors.handoffs_breached(queryset, value)

    def filter_due_before(self, queryset, name, value):
        return selectors.handoffs_due_before(queryset, value)


class DepartmentFilter(StrictFilterSet):
    is_active = StrictBooleanFilter()
    parent = TextFilter(field_name="parent__code", max_length=50)

    class Meta:
        model = Department
        fields: list[str] = []


class ProcessFilter(StrictFilterSet):
    is_active = StrictBooleanFilter()
    category = django_filters.ChoiceFilter(choices=ServiceProcess.Category.choices)

    class Meta:
        model = ServiceProcess
        fields: list[str] = []
