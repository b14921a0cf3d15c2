"""Rule rows for the survey kinds (moved from pre-rendered messages to kinds), so
administrators see and can switch them like every other kind."""

from django.db import migrations

DEFAULTS = {
    "feedback.survey": (True, True, False),
    "feedback.survey_reminder": (True, True, False),
}


def create(apps, schema_editor):
    Rule = apps.get_model("notifications", "NotificationRule")
    for kind, (inbox, email, webhook) in DEFAULTS.items():
        Rule.objects.get_or_create(
            kind=kind, defaults={"inbox": inbox, "email": email, "webhook": webhook}
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_default_rules")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
