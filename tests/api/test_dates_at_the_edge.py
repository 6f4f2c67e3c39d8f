"""Every date or time the API reads from a caller (query filters and request bodies) is bounded, so a
year 1 or 9999 is a 400 with a field message wherever it is typed, not only where a probe found it."""

from __future__ import annotations

import importlib
import inspect

import django_filters
import pytest
from rest_framework import serializers

from core import bounds

API_MODULES = [
    "processes.api.filters",
    "processes.api.serializers",
    "processes.api.actions",
    "processes.api.views",
    "evaluations.api.filters",
    "evaluations.api.serializers",
    "evaluations.reviews.api",
    "evaluations.api.views",
]


def _classes(base):
    for name in API_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, base) and cls.__module__ == name:
                yield cls


def test_every_date_filter_of_the_api_is_bounded():
    unbounded = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in _classes(django_filters.FilterSet)
        for name, f in cls.base_filters.items()
        if isinstance(f, django_filters.DateFilter | django_filters.DateTimeFilter)
        and not isinstance(f, bounds.BoundedDateFilter | bounds.BoundedDateTimeFilter)
    ]
    assert not unbounded


def test_every_writable_date_field_of_the_api_is_bounded():
    unbounded = []
    for cls in _classes(serializers.Serializer):
        try:
            fields = cls().fields
        except Exception:
            fields = cls._declared_fields
        for name, f in fields.items():
            if f.read_only:
                continue
            if isinstance(f, serializers.DateField | serializers.DateTimeField) and not isinstance(
                f, bounds.BoundedDateField | bounds.BoundedDateTimeField
            ):
                unbounded.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert not unbounded


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"])
def test_the_bounds_refuse_dates_outside_them(value):
    with pytest.raises(serializers.ValidationError):
        bounds.BoundedDateField().run_validation(value)
    with pytest.raises(serializers.ValidationError):
        bounds.BoundedDateTimeField().run_validation(f"{value}T12:00:00+08:00")
    assert not bounds.BoundedFormDateField(required=False).has_changed(None, None)
    with pytest.raises(Exception, match="1900"):
        bounds.BoundedFormDateTimeField().clean(f"{value} 12:00")
