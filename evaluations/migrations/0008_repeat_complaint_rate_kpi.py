"""The built-in KPI "repeat complaint rate" (docs/kpis.md), added where it is missing; an installation
that already has a KPI of that code keeps it as it is."""

from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    Kpi = apps.get_model("evaluations", "Kpi")
    order = (Kpi.objects.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    Kpi.objects.get_or_create(
        code="repeat_complaint_rate",
        defaults={
            "name": "重复投诉率",
            "name_en": "Repeat complaint rate",
            "unit": "percent",
            "direction": "lower",
            "target": Decimal("5"),
            "weight": Decimal("5"),
            "order": order,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0007_repeat_complaint_rate")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
