"""The built-in KPIs (docs/kpis.md), so that a fresh installation can compute evaluations at once.

The rows are data from then on: the quality office edits names, targets, weights and the active flag,
and this migration never touches a KPI that exists. The same defaults live in
evaluations.services.KPI_DEFAULTS (copied here: a migration must not import code that may change).
"""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    ("response_sla_rate", "响应时效达标率", "Response SLA rate", "percent", "higher", "95", "20"),
    ("resolution_sla_rate", "办结时效达标率", "Resolution SLA rate", "percent", "higher", "90", "20"),
    ("median_minutes_to_accept", "受理用时中位数", "Median minutes to accept", "minutes", "lower", "60", "5"),
    ("p90_minutes_to_accept", "受理用时 P90", "P90 minutes to accept", "minutes", "lower", "240", "5"),
    ("bounce_rate", "退回率", "Bounce-back rate", "percent", "lower", "5", "10"),
    ("reopen_rate", "重开率", "Reopen rate", "percent", "lower", "3", "10"),
    ("csat_avg", "客户满意度", "CSAT average", "score_5", "higher", "4.5", "10"),
    ("nps", "净推荐值", "NPS", "nps", "higher", "30", "10"),
    ("qa_score", "质检得分", "QA inspection score", "score_100", "higher", "85", "10"),
    ("volume", "受理量", "Volume", "count", "higher", None, "0"),
]


def seed(apps, schema_editor):
    Kpi = apps.get_model("evaluations", "Kpi")
    for order, (code, name, name_en, unit, direction, target, weight) in enumerate(DEFAULTS):
        Kpi.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "unit": unit,
                "direction": direction,
                "target": Decimal(target) if target is not None else None,
                "weight": Decimal(weight),
                "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
