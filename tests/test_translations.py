"""Every user-facing string ships in Simplified Chinese: no catalogue of the project (its own
or an app's) has an untranslated or fuzzy entry."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(
    path
    for path in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")
    if ".venv" not in path.parts and ".data" not in path.parts
)


def test_the_project_and_its_apps_have_catalogues():
    names = {path.relative_to(ROOT).parts[0] for path in CATALOGUES}
    assert {"locale", "tickets"} <= names


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_entry_is_translated(catalogue):
    po = polib.pofile(str(catalogue))
    missing = [
        entry.msgid
        for entry in po
        if not entry.obsolete and (not entry.translated() or "fuzzy" in entry.flags)
    ]
    assert missing == []
