"""`manage.py import_holidays FILE --year 2027`: the yearly official holiday import, scripted."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sla.holidays import ScheduleError, official_schedule_import, parse_schedule


class Command(BaseCommand):
    help = (
        "Import the official holiday schedule of a year (an .ics file or a date list); it "
        "replaces that year's imported dates and takes precedence over the built-in data."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, required=True)

    def handle(self, *args, file: Path, year: int, **options):
        try:
            entries = parse_schedule(file.read_bytes(), file.name)
            count = official_schedule_import(year=year, entries=entries, source=file.name)
        except (OSError, ScheduleError) as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{year}: {count} dates imported from {file.name}.")
