"""The spike detector: a request type × system whose daily count jumps above its baseline
(版本发布后工单激增), annotated with the nearest preceding release of that system.

Test: a robust z-score of the day's count against the `TRAILING_DAYS` days before it,
z = (count − median) / max(1.4826 · MAD, √max(median, 1)). The MAD term is the robust standard
deviation; the Poisson term (√median) keeps a flat, quiet baseline (MAD 0) from flagging every
small bump. A day is a spike when z ≥ `THRESHOLD` and count ≥ `MIN_COUNT`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from .models import DailyRollup, Release, Spike

TRAILING_DAYS = 28
THRESHOLD = 3.5
MIN_COUNT = 5
RELEASE_WINDOW_DAYS = 14


def robust_z(count: int, baseline: list[int]) -> tuple[float, float]:
    """(median, z) of `count` against `baseline` (see the module docstring)."""
    median = statistics.median(baseline) if baseline else 0.0
    mad = statistics.median([abs(x - median) for x in baseline]) if baseline else 0.0
    scale = max(1.4826 * mad, max(median, 1.0) ** 0.5)
    return float(median), (count - median) / scale


def detect_spikes(*, days: list[date] | None = None) -> list[Spike]:
    """Flag the spikes of `days` (default: the last two complete days — a day's count is
    compared once it is whole, so a busy morning is not a spike); return the new ones.

    Idempotent: one row per day × request type × system; a day already flagged is left as it
    is. Each new spike notifies the middle office once, after commit (reports.notify).
    """
    from .notify import notify_spike

    today = timezone.localdate()
    days = sorted(days or [today - timedelta(days=2), today - timedelta(days=1)])
    first = days[0] - timedelta(days=TRAILING_DAYS)
    counts: dict[tuple, dict[date, int]] = defaultdict(dict)
    rows = (
        DailyRollup.objects.filter(day__gte=first, day__lte=days[-1], request_type_id__isnull=False)
        .values("request_type_id", "system_id", "day")
        .annotate(n=Sum("created"))
        .order_by()
    )
    for row in rows:
        counts[(row["request_type_id"], row["system_id"])][row["day"]] = row["n"]
    new = []
    for day in days:
        for (request_type_id, system_id), series in counts.items():
            count = series.get(day, 0)
            if count < MIN_COUNT:
                continue
            baseline = [
                series.get(day - timedelta(days=back), 0) for back in range(1, TRAILING_DAYS + 1)
            ]
            median, score = robust_z(count, baseline)
            if score < THRESHOLD:
                continue
            release = (
                Release.objects.filter(
                    system_id=system_id,
                    released_on__lte=day,
                    released_on__gte=day - timedelta(days=RELEASE_WINDOW_DAYS),
                )
                .order_by("-released_on", "-id")
                .first()
                if system_id
                else None
            )
            with transaction.atomic():
                spike, created = Spike.objects.get_or_create(
                    day=day,
                    request_type_id=request_type_id,
                    system_id=system_id,
                    defaults={
                        "count": count,
                        "baseline": median,
                        "score": score,
                        "release": release,
                    },
                )
                if created:
                    transaction.on_commit(lambda spike=spike: notify_spike(spike))
                    new.append(spike)
    return new
