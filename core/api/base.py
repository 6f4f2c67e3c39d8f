"""What every API serializer of Baton shares."""

from __future__ import annotations

import copy

from rest_framework import serializers
from rest_framework.fields import DictField, ListField


def _fresh(field: serializers.Field) -> serializers.Field:
    """A copy of an unbound template field for one serializer instance.

    A plain field's binding (`bind()` sets its name, parent and source) only assigns attributes, so a
    shallow copy is as good as DRF's deep copy, which re-runs the field's constructor. A field holding
    other fields (a nested serializer, a list or dict of a child) binds those children to itself, so
    it is copied deeply as DRF does: a shared child would reach another request's context."""
    if isinstance(field, serializers.BaseSerializer | ListField | DictField) or hasattr(field, "child"):
        return copy.deepcopy(field)
    clone = object.__new__(type(field))  # copy.copy's generic protocol costs three times as much
    clone.__dict__.update(field.__dict__)
    return clone


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, which introspects the model to build its fields on every instance
    (a third of a state change's answer time in a profile). The fields depend only on the class
    (its Meta and declared fields, never the instance or the context), so they are built once per
    class and copied for each instance (`_fresh`)."""

    def get_fields(self):
        cls = type(self)
        template = cls.__dict__.get("_field_template")
        if template is None:
            template = super().get_fields()
            cls._field_template = template
        return {name: _fresh(field) for name, field in template.items()}


class Serializer(serializers.Serializer):
    """DRF's Serializer, copying its declared fields for each instance as `_fresh` does."""

    def get_fields(self):
        return {name: _fresh(field) for name, field in self._declared_fields.items()}
