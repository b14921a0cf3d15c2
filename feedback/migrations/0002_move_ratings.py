"""Ratings move from `portal` (a UI namespace) to `feedback`: copy every row, keeping its id,
before `portal.0002_delete_rating` drops the old table. Idempotent; reversible (copies back)."""

from django.db import migrations


def copy_ratings(apps, schema_editor):
    try:
        old = apps.get_model("portal", "Rating")
    except LookupError:  # replayed after the move (tests): nothing left to copy
        return
    new = apps.get_model("feedback", "Rating")
    existing = set(new.objects.values_list("ticket_id", flat=True))
    new.objects.bulk_create(
        [
            new(
                id=row.id,
                ticket_id=row.ticket_id,
                rated_by_id=row.rated_by_id,
                score=row.score,
                comment=row.comment,
                created_at=row.created_at,
            )
            for row in old.objects.all().iterator()
            if row.ticket_id not in existing
        ]
    )
    if new.objects.exists():
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('feedback_rating', 'id'), "
                "(SELECT MAX(id) FROM feedback_rating))"
            )


def copy_back(apps, schema_editor):
    old = apps.get_model("portal", "Rating")
    new = apps.get_model("feedback", "Rating")
    old.objects.bulk_create(
        [
            old(
                id=row.id,
                ticket_id=row.ticket_id,
                rated_by_id=row.rated_by_id,
                score=row.score,
                comment=row.comment,
                created_at=row.created_at,
            )
            for row in new.objects.all().iterator()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial"), ("portal", "0001_initial")]
    operations = [migrations.RunPython(copy_ratings, copy_back)]
