"""What every API serializer of Baton shares."""

from __future__ import annotations

import copy

from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, which introspects the model to build its fields on every instance
    (a third of a state change's answer time in a profile). The fields depend only on the class
    (its Meta and declared fields, never the instance or the context), so they are built once per
    class and copied for each instance, as a plain Serializer copies its declared fields."""

    def get_fields(self):
        cls = type(self)
        template = cls.__dict__.get("_field_template")
        if template is None:
            template = super().get_fields()
            cls._field_template = template
        return copy.deepcopy(template)
