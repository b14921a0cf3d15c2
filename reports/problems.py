"""The top-10 repeated problems of a period (用户体验管理 / monthly review).

Tickets of the period are featurised with the ticket classifier's own word + character TF-IDF
(`routing.classifier.build_features`, Chinese and English), then grouped within each
category × system block: two tickets belong together when the cosine similarity of their texts
is at least `THRESHOLD` (connected components of the near-duplicate graph). Each group is named
by its most typical title (the member closest to the group's centroid); its trend is the number
of tickets of the previous period of the same length in the same block that are as close to the
centroid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import scipy.sparse as sp
from django.db import transaction
from django.utils import timezone
from scipy.sparse.csgraph import connected_components

from routing.classifier import build_features, normalize_text
from tickets.models import Ticket

from .models import RepeatedProblem

THRESHOLD = 0.5
TOP = 10
MAX_TICKETS = 20_000
MAX_BLOCK = 3_000
PERIODS = (7, 30)


@dataclass
class Group:
    category_id: int | None
    system_id: int | None
    members: list[int]  # row numbers in the period's matrix
    centroid: np.ndarray
    title: str


def _tickets(start: date, end: date) -> list[tuple]:
    zone = timezone.get_current_timezone()
    since = timezone.datetime.combine(start, timezone.datetime.min.time(), tzinfo=zone)
    until = timezone.datetime.combine(
        end + timedelta(days=1), timezone.datetime.min.time(), tzinfo=zone
    )
    return list(
        Ticket.objects.filter(created_at__gte=since, created_at__lt=until, merged_into__isnull=True)
        .order_by("-id")
        .values_list("id", "title", "category_id", "system_id")[:MAX_TICKETS]
    )


def _components(matrix: sp.csr_matrix) -> list[list[int]]:
    """Connected components of the rows whose cosine similarity reaches THRESHOLD."""
    similarity = (matrix @ matrix.T).tocsr()
    similarity.data = (similarity.data >= THRESHOLD).astype(np.int8)
    similarity.eliminate_zeros()
    _count, labels = connected_components(similarity, directed=False)
    groups: dict[int, list[int]] = defaultdict(list)
    for row, label in enumerate(labels):
        groups[int(label)].append(row)
    return list(groups.values())


def _typical(rows: list[tuple], members: list[int], closeness: np.ndarray) -> str:
    """The group's name: its most frequent title; among equals the one closest to the
    centroid, then the earliest ticket (so the name is stable between runs)."""
    frequency: dict[str, int] = defaultdict(int)
    for member in members:
        frequency[rows[member][1]] += 1
    best = min(
        range(len(members)),
        key=lambda i: (
            -frequency[rows[members[i]][1]],
            -round(float(closeness[i]), 6),
            rows[members[i]][0],
        ),
    )
    return rows[members[best]][1]


def _normalised(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(matrix.multiply(1.0 / norms[:, None]))


def top_problems(*, end: date, days: int) -> list[dict]:
    """The TOP groups of tickets created in the `days` days up to `end`, biggest first."""
    start = end - timedelta(days=days - 1)
    current = _tickets(start, end)
    previous = _tickets(start - timedelta(days=days), start - timedelta(days=1))
    if len(current) < 2:
        return []
    features = build_features(len(current))
    texts = [normalize_text(row[1]) for row in current]
    matrix = _normalised(sp.csr_matrix(features.fit_transform(texts)))
    before = (
        _normalised(sp.csr_matrix(features.transform([normalize_text(r[1]) for r in previous])))
        if previous
        else None
    )
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for row_number, (_id, _title, category_id, system_id) in enumerate(current):
        blocks[(category_id, system_id)].append(row_number)
    previous_blocks: dict[tuple, list[int]] = defaultdict(list)
    for row_number, (_id, _title, category_id, system_id) in enumerate(previous):
        previous_blocks[(category_id, system_id)].append(row_number)
    groups: list[Group] = []
    for (category_id, system_id), rows in blocks.items():
        rows = rows[:MAX_BLOCK]
        for component in _components(matrix[rows]):
            if len(component) < 2:
                continue
            members = [rows[i] for i in component]
            centroid = np.asarray(matrix[members].mean(axis=0)).ravel()
            closeness = matrix[members] @ centroid
            groups.append(
                Group(
                    category_id, system_id, members, centroid, _typical(current, members, closeness)
                )
            )
    groups.sort(key=lambda g: (-len(g.members), g.title))
    result = []
    for rank, group in enumerate(groups[:TOP], start=1):
        earlier = 0
        rows = previous_blocks.get((group.category_id, group.system_id), [])
        if before is not None and rows:
            norm = np.linalg.norm(group.centroid) or 1.0
            closeness = before[rows] @ (group.centroid / norm)
            earlier = int(np.count_nonzero(closeness >= THRESHOLD))
        result.append(
            {
                "rank": rank,
                "title": group.title[:200],
                "category_id": group.category_id,
                "system_id": group.system_id,
                "count": len(group.members),
                "previous_count": earlier,
                "ticket_ids": sorted(current[i][0] for i in group.members)[:200],
            }
        )
    return result


def repeated_problems_refresh(*, end: date | None = None) -> dict[int, int]:
    """Recompute the snapshots of every period; idempotent (each is replaced whole)."""
    end = end or timezone.localdate()
    written = {}
    for days in PERIODS:
        rows = top_problems(end=end, days=days)
        with transaction.atomic():
            RepeatedProblem.objects.filter(period_days=days).delete()
            RepeatedProblem.objects.bulk_create(
                RepeatedProblem(period_days=days, period_end=end, **row) for row in rows
            )
        written[days] = len(rows)
    return written
