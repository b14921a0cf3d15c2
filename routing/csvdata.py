"""Reading labelled ticket texts from CSV exports, and splitting them for evaluation.

Exports come from spreadsheets and other desks: UTF-8 with or without a byte-order mark, or
GBK from Chinese Excel; optionally gzip-compressed; with multi-line quoted descriptions and
pasted logs far longer than the csv module's default 128 KiB field limit. No Django imports.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

# The csv module refuses fields longer than 128 KiB by default; a pasted log can be longer.
# The limit is process-wide, so it is only ever raised. C long is 32 bits on some platforms.
_FIELD_SIZE_LIMIT = min(sys.maxsize, 2**31 - 1)

# Tried in order. GB18030 is a superset of GBK and GB2312, so it also reads their files.
_ENCODINGS = ("utf-8-sig", "gb18030")


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    with open(path, "rb") as handle:
        magic = handle.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open  # gzip by content, not by name
    try:
        with opener(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc


def decode(data: bytes, source: object = "input") -> str:
    """Text of a CSV file: UTF-8 (a BOM is removed), else GB18030/GBK."""
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{source} is neither UTF-8 nor GBK/GB18030 text")


def read_labelled_csv(
    path: str | os.PathLike[str], text_columns: Sequence[str], label_column: str
) -> tuple[list[str], list[str], int]:
    """Texts, labels and the number of dropped rows of a labelled CSV file (.csv or .csv.gz).

    The first row names the columns. Several text columns (e.g. subject and description)
    are joined with a newline, skipping empty ones. Rows whose label is empty are dropped and
    counted; rows with an empty text are kept (the classifier handles them). Completely
    blank lines are ignored and not counted. Raises ValueError for a missing file, an
    undecodable file or a missing column (naming the available columns).
    """
    source = Path(path)
    text = decode(_read_bytes(source), source)
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_SIZE_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ValueError(f"{source} is empty: expected a header row") from None
    except csv.Error as exc:
        raise ValueError(f"{source} is not valid CSV: {exc}") from exc

    wanted = [*text_columns, label_column]
    missing = [name for name in wanted if name not in header]
    if missing:
        raise ValueError(
            f"column(s) {', '.join(map(repr, missing))} not in {source}; "
            f"available columns: {', '.join(map(repr, header))}"
        )
    text_indices = [header.index(name) for name in text_columns]
    label_index = header.index(label_column)

    texts: list[str] = []
    labels: list[str] = []
    dropped = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            label = row[label_index].strip() if label_index < len(row) else ""
            if not label:
                dropped += 1
                continue
            parts = (row[i].strip() for i in text_indices if i < len(row))
            texts.append("\n".join(part for part in parts if part))
            labels.append(label)
    except csv.Error as exc:
        raise ValueError(f"{source} line {reader.line_num}: {exc}") from exc
    return texts, labels, dropped


def stratified_split(
    texts: Sequence[str], labels: Sequence[str], test_size: float, seed: int
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(train_texts, test_texts, train_labels, test_labels), stratified by label.

    Same order as scikit-learn's train_test_split, and the same split as
    ``train_test_split(texts, labels, test_size=…, random_state=seed, stratify=labels)`` when
    every label has at least two examples. A label with a single example cannot be in both
    halves, so it goes to the training side. If the test share is too small to hold one
    example of every label, the split falls back to an unstratified shuffle.
    """
    from sklearn.model_selection import train_test_split

    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    counts = Counter(labels)
    singles = [i for i, label in enumerate(labels) if counts[label] == 1]
    rest = [i for i, label in enumerate(labels) if counts[label] > 1]
    if not rest:
        raise ValueError("no label has two examples: cannot split into train and test")
    rest_labels = [labels[i] for i in rest]
    try:
        train_idx, test_idx = train_test_split(
            rest, test_size=test_size, random_state=seed, stratify=rest_labels
        )
    except ValueError:
        # Too few test slots for one example per class: a plain shuffle still gives a split.
        train_idx, test_idx = train_test_split(rest, test_size=test_size, random_state=seed)
    train_idx = list(train_idx) + singles
    return (
        [texts[i] for i in train_idx],
        [texts[i] for i in test_idx],
        [labels[i] for i in train_idx],
        [labels[i] for i in test_idx],
    )
