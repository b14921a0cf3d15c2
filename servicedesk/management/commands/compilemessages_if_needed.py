"""Compile the translation catalogues (.po → .mo) whose .mo is missing or older.

Uses `polib` rather than GNU gettext's msgfmt so a fresh machine needs no system package;
the .mo files are build output and are not committed.
"""

from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile .po catalogues into .mo files where the .mo is missing or stale."
    requires_system_checks = []

    def handle(self, *args, **options):
        compiled = 0
        # The project's catalogue plus each app's own `locale/` (apps keep their strings beside
        # their code, so parallel work on two apps never edits one shared catalogue).
        roots = [Path(p) for p in settings.LOCALE_PATHS]
        base = Path(settings.BASE_DIR)
        roots += [
            Path(app.path) / "locale"
            for app in apps.get_app_configs()
            if Path(app.path).is_relative_to(base) and ".venv" not in Path(app.path).parts
        ]
        roots = [root for root in dict.fromkeys(roots) if root.is_dir()]
        for root in roots:
            for po_path in root.rglob("*.po"):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        if options["verbosity"] > 1 or compiled:
            self.stdout.write(f"compiled {compiled} catalogue(s)")
