"""The dates and times Baton accepts from outside, checked where input enters (API, filters, forms).

Year 1 or 9999 is a typo or a probe, never a bank's case: it overflows when moved between time zones
(a 500) or is stored and then skews every period computed over it. Every date or time field of the
API's inputs and filters is one of these (tests/api/test_dates_at_the_edge.py walks them all).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
# A time written with a date in range is in range whatever its offset (at most ±24 h).
EARLIEST_TIME = datetime(1899, 12, 31, tzinfo=UTC)
LATEST_TIME = datetime(3000, 1, 2, tzinfo=UTC)
MESSAGE = "Give a date between 1900-01-01 and 2999-12-31."
# What the OpenAPI schema says of these fields: a year from 1900 to 2999 (JSON Schema has no date range).
YEAR_PATTERN = "^(19[0-9]{2}|2[0-9]{3})-"
DATE_SCHEMA = {"type": "string", "format": "date", "pattern": YEAR_PATTERN}
DATE_TIME_SCHEMA = {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN}
# Text inputs: no NUL character (DRF refuses it), and a required one holds more than white space
# (DRF trims it): said in the schema, so that what it allows the API accepts.
TEXT_PATTERN = "^[^\\x00]*$"
NON_BLANK_TEXT_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


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
def year_as_written_ok(value) -> bool:
    """A date or time given as text has its year (as written, whatever its offset) in range: what
    the schema's pattern says, so both agree on e.g. 2999-12-31T23:00-10:00."""
    return not isinstance(value, str) or re.match(YEAR_PATTERN, value.strip()) is not None


class BoundedFormDateField(forms.DateField):
    def to_python(self, value):
        if value not in self.empty_values and not year_as_written_ok(value):
            raise ValidationError(MESSAGE, code="out_of_range")
        result = super().to_python(value)
        if result is not None and not in_range(result):
            raise ValidationError(MESSAGE, code="out_of_range")
        return result


class BoundedFormDateTimeField(forms.DateTimeField):
    def to_python(self, value):
        if value not in self.empty_values and not year_as_written_ok(value):
            raise ValidationError(MESSAGE, code="out_of_range")
        try:
            result = super().to_python(value)
        except OverflowError as exc:  # made aware in a time zone past year 9999
            raise ValidationError(MESSAGE, code="out_of_range") from exc
        if result is not None and not in_range(result):
            raise ValidationError(MESSAGE, code="out_of_range")
        return result


class _PresentMeansGiven:
    """A query parameter that is present must hold a value: `?since=` is an error, not "no filter"."""

    def to_python(self, value):
        if value == "":
            raise ValidationError(MESSAGE, code="required")
        return super().to_python(value)


class _FilterDateField(_PresentMeansGiven, BoundedFormDateField):
    pass


class _FilterDateTimeField(_PresentMeansGiven, BoundedFormDateTimeField):
    pass


@extend_schema_field(DATE_SCHEMA)
class BoundedDateFilter(django_filters.DateFilter):
    field_class = _FilterDateField


@extend_schema_field(DATE_TIME_SCHEMA)
class BoundedDateTimeFilter(django_filters.DateTimeFilter):
    field_class = _FilterDateTimeField


# -- DRF serializers ---------------------------------------------------------------------------------
@extend_schema_field(DATE_SCHEMA)
class BoundedDateField(serializers.DateField):
    def to_internal_value(self, value):
        if not year_as_written_ok(value):
            raise serializers.ValidationError(MESSAGE, code="out_of_range")
        result = super().to_internal_value(value)
        if not in_range(result):
            raise serializers.ValidationError(MESSAGE, code="out_of_range")
        return result


@extend_schema_field(DATE_TIME_SCHEMA)
class BoundedDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        if not year_as_written_ok(value):
            raise serializers.ValidationError(MESSAGE, code="out_of_range")
        result = super().to_internal_value(value)
        if not in_range(result):
            raise serializers.ValidationError(MESSAGE, code="out_of_range")
        return result


class StrictCharField(serializers.CharField):
    """Text as typed: a number or a boolean is not text (DRF's CharField turns 5 into "5", which the
    schema's `type: string` does not allow). The schema pattern comes from
    processes.api.schema.StrictCharFieldExtension."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# -- query filters -----------------------------------------------------------------------------------
class _StrictBooleanField(forms.Field):
    """`true` or `false` (also 1/0): anything else is an error, not "no filter"."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value is None:
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError("Give true or false.", code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = _StrictBooleanField


class StrictFilterSet(django_filters.FilterSet):
    """A filter named in the query must be given a value: `?status=` or `?breached=` is a 400 (the
    schema's enums and booleans do not include ""), not a quietly ignored filter. Text filters keep
    "" (an empty string is text)."""

    def is_valid(self):
        valid = super().is_valid()
        for name, value in self.data.items():
            flt = self.filters.get(name)
            if value == "" and flt is not None and not isinstance(flt, django_filters.CharFilter):
                self.form.add_error(
                    name, ValidationError("Give a value or leave the parameter out.", code="required")
                )
                valid = False
        return valid


@functools.cache
def _text_filter_class(max_length: int) -> type[django_filters.CharFilter]:
    schema = {"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN}
    return extend_schema_field(schema)(type(f"TextFilter{max_length}", (django_filters.CharFilter,), {}))


def TextFilter(*, max_length: int, **kwargs) -> django_filters.CharFilter:
    """A text filter whose schema says what Django's form field takes: at most `max_length`
    characters and no NUL (which it refuses)."""
    return _text_filter_class(max_length)(max_length=max_length, **kwargs)
