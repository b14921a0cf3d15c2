"""The notification rules' defaults, one row per kind, so administrators see and edit them."""

from django.db import migrations

# The kinds as they were when this migration was written, with their default channels
# (inbox, e-mail, webhook). Kinds added later fall back to the defaults in
# `notifications.kinds` until an administrator saves a rule for them.
DEFAULTS = {
    "ticket.received": (True, True, False),
    "ticket.waiting_on_you": (True, True, False),
    "ticket.desk_replied": (True, True, False),
    "ticket.please_confirm": (True, True, False),
    "ticket.closed": (True, True, False),
    "ticket.reopened": (True, True, False),
    "ticket.cancelled": (True, True, False),
    "ticket.merged": (True, True, False),
    "announcement.fault": (True, True, False),
    "ticket.assigned_to_you": (True, True, False),
    "ticket.requester_replied": (True, True, False),
    "ticket.requester_confirmed": (True, True, False),
    "ticket.requester_rejected": (True, True, False),
    "ticket.awaiting_verification": (True, True, False),
    "ticket.verification_failed": (True, True, False),
    "ticket.followed_changed": (True, False, False),
    "ticket.unassigned_too_long": (True, True, True),
}


def create(apps, schema_editor):
    Rule = apps.get_model("notifications", "NotificationRule")
    for kind, (inbox, email, webhook) in DEFAULTS.items():
        Rule.objects.get_or_create(
            kind=kind, defaults={"inbox": inbox, "email": email, "webhook": webhook}
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_kinds_rules_preferences")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
