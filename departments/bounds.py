"""The dates and times Baton accepts from outside, checked where input enters (API, filters, forms).

Year 1 or 9999 is a typo or a probe, never a bank's case: it overflows when moved between time zones
(a 500) or is stored and then skews every period computed over it. Every date or time field of the
API's inputs and filters is one of these (tests/api/test_dates_at_the_edge.py walks them all).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2999, 12, 31, tzinfo=UTC)
MESSAGE = "Give a date between 1900-01-01 and 2999-12-31."
RANGE_HELP = "Between 1900-01-01 and 2999-12-31."


def in_range(value: date | datetime) -> bool:
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return EARLIEST_TIME <= value <= LATEST_TIME
        return EARLIEST_DATE <= value <= LATEST_DATE
    except (OverflowError, ValueError):
        return False


# -- Django forms (django-filter, admin forms) -------------------------------------------------------
class BoundedFormDateField(forms.DateField):
    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and not in_range(result):
            raise ValidationError(MESSAGE, code="out_of_range")
        return result


class BoundedFormDateTimeField(forms.DateTimeField):
    def to_python(self, value):
        try:
            result = super().to_python(value)
        except OverflowError as exc:  # made aware in a time zone past year 9999
            raise ValidationError(MESSAGE, code="out_of_range") from exc
        if result is not None and not in_range(result):
            raise ValidationError(MESSAGE, code="out_of_range")
        return result


class BoundedDateFilter(django_filters.DateFilter):
    field_class = BoundedFormDateField


class BoundedDateTimeFilter(django_filters.DateTimeFilter):
    field_class = BoundedFormDateTimeField


# -- DRF serializers ---------------------------------------------------------------------------------
class BoundedDateField(serializers.DateField):
    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if not in_range(result):
            raise serializers.ValidationError(MESSAGE, code="out_of_range")
        return result


class BoundedDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if not in_range(result):
            raise serializers.ValidationError(MESSAGE, code="out_of_range")
        return result
