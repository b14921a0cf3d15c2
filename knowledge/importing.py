"""Import and export of articles: CSV (a header row naming the fields) or a folder of Markdown
files with front matter.

Import is all or nothing for what is wrong with the *file* (wrong header, not UTF-8, an
external id twice): nothing is written and the message says why. A *row* that cannot be
imported (no title, an unknown system) is skipped and reported; the others are written in one
transaction. Re-importing is idempotent by `external_id`: rows whose id exists are skipped as
"already imported". The rows are written in bulk (10,000 articles in seconds, not minutes)
with the same search vector, version and log entries the services write one by one.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import Category, InformationSystem
from tickets.validation import clean_text

from . import search
from .choices import ArticleEventKind, ArticleStatus, Audience, Language, ScriptLanguage
from .models import (
    SECTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Article,
    ArticleEvent,
    ArticleVersion,
    Scenario,
    Tag,
)
from .services import (
    CONTENT_FIELDS,
    clean_tags,
    default_review_date,
    search_literals,
)

COLUMNS = [
    "external_id", "title", "symptom", "cause", "steps", "fix_script", "fix_language",
    "prevention", "tags", "scenario", "system", "category", "language", "audience",
]  # fmt: skip
SECTION_HEADINGS = {
    "symptom": "symptom",
    "故障现象": "symptom",
    "cause": "cause",
    "原因": "cause",
    "steps": "steps",
    "troubleshooting steps": "steps",
    "排查步骤": "steps",
    "fix script": "fix_script",
    "fix_script": "fix_script",
    "修复脚本": "fix_script",
    "prevention": "prevention",
    "预防措施": "prevention",
}
LANGUAGES = {"en": Language.EN, "zh": Language.ZH_HANS, "zh-hans": Language.ZH_HANS,
             "zh-cn": Language.ZH_HANS, "": ""}  # fmt: skip
CHUNK = 500


class ImportFileError(Exception):
    """What is wrong with the whole file; nothing was imported."""


@dataclass
class ImportReport:
    created: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (row, reason)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("%(name)s is not UTF-8 (byte %(at)d). Save it as UTF-8 (e.g. from GBK) and retry.")
            % {"name": name, "at": exc.start}
        ) from exc


def read_csv(path: Path) -> list[dict[str, str]]:
    text = _decode(path.read_bytes(), path.name)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "title" not in header:
        raise ImportFileError(
            _("The header row must name the fields; it has no “title” column. Expected: %(c)s.")
            % {"c": ", ".join(COLUMNS)}
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ImportFileError(
            _("Unknown columns: %(unknown)s. Expected: %(c)s.")
            % {"unknown": ", ".join(unknown), "c": ", ".join(COLUMNS)}
        )
    reader.fieldnames = header
    try:
        return [{k: (v or "") for k, v in row.items() if k in COLUMNS} for row in reader]
    except csv.Error as exc:
        raise ImportFileError(_("The CSV cannot be read: %(error)s") % {"error": exc}) from exc


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)
_HEADING = re.compile(r"^#{1,3}\s+(.+?)\s*$", re.M)


def parse_markdown(text: str, name: str) -> dict[str, str]:
    """Front matter (`key: value` lines; tags as `a, b` or `[a, b]`) and a body whose
    `## Symptom` / `## 排查步骤` ... headings start the sections (no heading: all steps)."""
    match = _FRONT.match(text)
    if not match:
        raise ImportFileError(
            _("%(name)s has no front matter (a block between --- lines).") % {"name": name}
        )
    row: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in COLUMNS:
            raise ImportFileError(
                _("%(name)s: unknown front matter line “%(line)s”.")
                % {"name": name, "line": line[:80]}
            )
        row[key] = value.strip().strip("[]").strip().strip("\"'")
    body = match.group(2)
    parts = _HEADING.split(body)
    if len(parts) == 1:
        row.setdefault("steps", body.strip())
    else:
        for heading, content in zip(parts[1::2], parts[2::2], strict=True):
            section = SECTION_HEADINGS.get(heading.strip().lower())
            if section is None:
                raise ImportFileError(
                    _("%(name)s: unknown section heading “%(h)s”.") % {"name": name, "h": heading}
                )
            content = content.strip()
            if section == "fix_script":
                content = re.sub(r"\A```[\w-]*\n|\n?```\Z", "", content)
            row[section] = content
    return row


def read_markdown_folder(path: Path) -> list[dict[str, str]]:
    rows = []
    for file in sorted(path.glob("*.md")):
        row = parse_markdown(_decode(file.read_bytes(), file.name), file.name)
        row["_source"] = file.name
        rows.append(row)
    if not rows:
        raise ImportFileError(_("No .md files in %(path)s.") % {"path": path})
    return rows


def read_source(path: Path) -> list[dict[str, str]]:
    if path.is_dir():
        return read_markdown_folder(path)
    if not path.exists():
        raise ImportFileError(_("%(path)s does not exist.") % {"path": path})
    return read_csv(path)


class _Lookup:
    """Systems, categories and scenarios by code or name, read once."""

    def __init__(self) -> None:
        self.maps: dict[str, dict[str, Any]] = {}
        for key, model in (
            ("system", InformationSystem),
            ("category", Category),
            ("scenario", Scenario),
        ):
            values: dict[str, Any] = {}
            for obj in model.objects.all():
                for label in (obj.code, obj.name, obj.name_zh):
                    if label:
                        values.setdefault(label.strip().lower(), obj)
            self.maps[key] = values

    def get(self, key: str, value: str) -> Any:
        if not value.strip():
            return None
        found = self.maps[key].get(value.strip().lower())
        if found is None:
            raise ValueError(_("unknown %(key)s “%(value)s”") % {"key": key, "value": value})
        return found


def _row_values(row: dict[str, str], lookup: _Lookup) -> tuple[dict[str, Any], list[str]]:
    """Validated field values of one row, or ValueError with the reason to skip it."""
    from django.core.exceptions import ValidationError

    try:
        values: dict[str, Any] = {
            "title": clean_text(
                row.get("title"), field="title", max_length=TITLE_MAX_LENGTH, required=True
            ),
        }
        for name in ("symptom", "cause", "steps", "fix_script", "prevention"):
            values[name] = clean_text(
                row.get(name, ""), field=name, max_length=SECTION_MAX_LENGTH, required=False
            )
    except ValidationError as exc:
        reasons = (f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise ValueError("; ".join(reasons)) from exc
    language = LANGUAGES.get(row.get("language", "").strip().lower())
    if language is None:
        raise ValueError(_("unknown language “%(v)s”") % {"v": row.get("language")})
    values["language"] = language or (
        Language.ZH_HANS if search._HANZI.search(values["title"]) else Language.EN
    )
    audience = row.get("audience", "").strip().lower() or Audience.INTERNAL
    if audience not in Audience.values:
        raise ValueError(_("unknown audience “%(v)s”") % {"v": audience})
    values["audience"] = audience
    fix_language = row.get("fix_language", "").strip().lower()
    if fix_language not in ScriptLanguage.values:
        raise ValueError(_("unknown script language “%(v)s”") % {"v": fix_language})
    values["fix_language"] = fix_language
    for key in ("system", "category", "scenario"):
        values[key] = lookup.get(key, row.get(key, ""))
    tags = [t for t in re.split(r"[,，;；]", row.get("tags", "")) if t.strip()]
    return values, tags


def import_articles(
    *, rows: list[dict[str, str]], actor: User, publish: bool = True
) -> ImportReport:
    """Create the articles of `rows` (published, or drafts) in one transaction.

    Guards first, for the whole file: external ids unique within it. Then each row: skipped
    with the reason when invalid or already imported.
    """
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        external_id = (row.get("external_id") or "").strip()
        if external_id:
            if external_id in seen:
                raise ImportFileError(
                    _("External id “%(id)s” appears twice (rows %(a)d and %(b)d).")
                    % {"id": external_id, "a": seen[external_id], "b": number}
                )
            seen[external_id] = number
    existing = set(
        Article.objects.filter(external_id__in=list(seen)).values_list("external_id", flat=True)
    )
    lookup = _Lookup()
    report = ImportReport()
    pending: list[tuple[Article, list[str]]] = []
    for number, row in enumerate(rows, start=2):
        label = row.get("_source") or str(number)
        external_id = (row.get("external_id") or "").strip() or None
        if external_id in existing:
            report.skipped.append((label, _("already imported (external id %s)") % external_id))
            continue
        try:
            values, tags = _row_values(row, lookup)
        except ValueError as exc:
            report.skipped.append((label, str(exc)))
            continue
        # The status is set on construction: the protected state field refuses a later set.
        status = ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT
        pending.append((Article(external_id=external_id, status=status, **values), tags))
    with transaction.atomic():
        for start in range(0, len(pending), CHUNK):
            _write(pending[start : start + CHUNK], actor, publish)
        report.created = len(pending)
    return report


def _write(batch: list[tuple[Article, list[str]]], actor: User, publish: bool) -> None:
    now = timezone.now()
    tag_objects: dict[str, Tag] = {}
    for _article, names in batch:
        for tag in clean_tags(names) if names else []:
            tag_objects[tag.code] = tag
    for article, names in batch:
        article.owner = article.created_by = actor
        article.created_at = now
        if publish:
            article.version = 1
            article.published_at = article.last_reviewed_at = now
            article.review_due_on = default_review_date()
        tags = [tag_objects[t] for t in _codes(names) if t in tag_objects]
        article.search_vector, article.head_vector = search_literals(article, tags)
        article._import_tags = tags
    articles = Article.objects.bulk_create([a for a, _names in batch])
    through = Article.tags.through
    through.objects.bulk_create(
        [through(article_id=a.pk, tag_id=t.pk) for a in articles for t in a._import_tags]
    )
    ArticleEvent.objects.bulk_create(
        [ArticleEvent(article=a, kind=ArticleEventKind.IMPORTED, actor=actor, created_at=now)
         for a in articles]
    )  # fmt: skip
    if publish:
        ArticleVersion.objects.bulk_create(
            [
                ArticleVersion(
                    article=a,
                    number=1,
                    published_by=actor,
                    published_at=now,
                    content={
                        **{name: getattr(a, name) for name in CONTENT_FIELDS},
                        "tags": sorted(t.code for t in a._import_tags),
                        "system": a.system.label if a.system else "",
                        "category": a.category.label if a.category else "",
                        "scenario": a.scenario.label if a.scenario else "",
                    },
                )
                for a in articles
            ]
        )


def _codes(names: list[str]) -> list[str]:
    return [" ".join(n.split()).lower() for n in names if n.strip()]


# --- export ---------------------------------------------------------------------------------


def export_rows(queryset) -> list[dict[str, str]]:
    rows = []
    for article in queryset.select_related("system", "category", "scenario").prefetch_related(
        "tags"
    ):
        rows.append(
            {
                "external_id": article.external_id or f"article-{article.pk}",
                **{
                    name: getattr(article, name)
                    for name in (
                        "title",
                        "symptom",
                        "cause",
                        "steps",
                        "fix_script",
                        "fix_language",
                        "prevention",
                        "language",
                        "audience",
                    )
                },
                "tags": ", ".join(t.code for t in article.tags.all()),
                "scenario": article.scenario.code if article.scenario else "",
                "system": article.system.code if article.system else "",
                "category": article.category.code if article.category else "",
            }
        )
    return rows


def write_csv(rows: list[dict[str, str]], stream) -> None:
    writer = csv.DictWriter(stream, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)


def write_markdown(rows: list[dict[str, str]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        front = "\n".join(
            f"{key}: {row[key]}"
            for key in (
                "external_id",
                "title",
                "tags",
                "scenario",
                "system",
                "category",
                "language",
                "audience",
                "fix_language",
            )
            if row[key]
        )
        sections = []
        for name, heading in (("symptom", "Symptom"), ("cause", "Cause"),
                              ("steps", "Steps"), ("prevention", "Prevention")):  # fmt: skip
            if row[name]:
                sections.append(f"## {heading}\n\n{row[name]}\n")
        if row["fix_script"]:
            sections.append(
                f"## Fix script\n\n```{row['fix_language']}\n{row['fix_script']}\n```\n"
            )
        safe = re.sub(r"[^\w.-]+", "-", row["external_id"])[:80]
        (folder / f"{safe}.md").write_text(f"---\n{front}\n---\n\n" + "\n".join(sections))
