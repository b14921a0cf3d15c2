"""Seed the default priority matrix and one rule: monitoring alerts are faults."""

from django.db import migrations


def load_defaults(apps, schema_editor):
    from routing.defaults import PRIORITY_MATRIX

    matrix = apps.get_model("routing", "PriorityMatrix")
    for impact, row in PRIORITY_MATRIX.items():
        for urgency, priority in enumerate(row, start=1):
            matrix.objects.get_or_create(
                impact=impact, urgency=urgency, defaults={"priority": priority}
            )
    rule = apps.get_model("routing", "ClassificationRule")
    request_type = apps.get_model("catalog", "RequestType")
    fault = request_type.objects.filter(code="fault").first()
    if fault is not None and not rule.objects.filter(name="Monitoring alerts are faults").exists():
        rule.objects.create(
            name="Monitoring alerts are faults",
            order=10,
            channel="alert",
            set_request_type=fault,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0001_initial"),
        ("catalog", "0002_default_taxonomy"),
    ]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
