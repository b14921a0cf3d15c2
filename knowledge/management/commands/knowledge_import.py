"""`manage.py knowledge_import FILE` — articles from a CSV file or a folder of Markdown files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from knowledge.importing import ImportFileError, import_articles, read_source


class Command(BaseCommand):
    help = (
        "Import knowledge articles from a CSV file (header: title, symptom, cause, steps, "
        "fix_script, prevention, tags, scenario, system, category, language, audience, "
        "optional external_id, fix_language) or a folder of Markdown files with front matter. "
        "Published unless --draft; idempotent by external_id."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="a .csv file or a folder of .md files")
        parser.add_argument("--draft", action="store_true", help="create drafts, not published")
        parser.add_argument(
            "--owner", help="username of the owner (default: the first active superuser)"
        )

    def handle(self, *args, source, draft, owner, **options):
        if owner:
            actor = User.objects.filter(username=owner, is_active=True).first()
        else:
            actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if actor is None:
            raise CommandError("No owner: pass --owner USERNAME of an active desk member.")
        try:
            rows = read_source(Path(source))
            report = import_articles(rows=rows, actor=actor, publish=not draft)
        except ImportFileError as exc:
            raise CommandError(f"Nothing was imported: {exc}") from exc
        for row, reason in report.skipped:
            self.stdout.write(f"skipped {row}: {reason}")
        self.stdout.write(
            self.style.SUCCESS(f"{report.created} imported, {len(report.skipped)} skipped.")
        )
