"""`manage.py search_rebuild`: build every ticket's search document again (issue #19).

The services keep the documents current; this is for repairs (a restore of the ticket table
alone, a change of segmentation) and prints how many tickets it indexed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tickets.search import search_documents_rebuild


class Command(BaseCommand):
    help = "Build every ticket's full-text search document again."

    def handle(self, *args, **options) -> None:
        count = search_documents_rebuild()
        self.stdout.write(f"{count} ticket(s) indexed.")
