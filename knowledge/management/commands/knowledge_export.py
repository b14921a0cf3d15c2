"""`manage.py knowledge_export FILE` — articles as CSV (or Markdown files with --markdown),
in the shape `knowledge_import` reads."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from knowledge.choices import ArticleStatus
from knowledge.importing import export_rows, write_csv, write_markdown
from knowledge.models import Article


class Command(BaseCommand):
    help = "Export knowledge articles (published by default) as CSV or Markdown files."

    def add_arguments(self, parser):
        parser.add_argument("target", help="a .csv file, '-' for standard output, or a folder")
        parser.add_argument("--markdown", action="store_true", help="one .md file per article")
        parser.add_argument("--all", action="store_true", help="every status, not only published")

    def handle(self, *args, target, markdown, **options):
        queryset = Article.objects.order_by("id")
        if not options["all"]:
            queryset = queryset.filter(status=ArticleStatus.PUBLISHED)
        rows = export_rows(queryset)
        if markdown:
            write_markdown(rows, Path(target))
        elif target == "-":
            write_csv(rows, sys.stdout)
        else:
            with open(target, "w", newline="", encoding="utf-8") as stream:
                write_csv(rows, stream)
        self.stderr.write(f"{len(rows)} exported.")
