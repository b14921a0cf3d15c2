from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_search_document"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("status", "closed")),
                fields=["closed_at"],
                name="ticket_closed_at",
            ),
        ),
    ]
