"""The release calendar (API and service), the spike detector and its notification."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from notifications.models import Notification
from reports.models import DailyRollup, Release, Spike
from reports.spikes import detect_spikes, robust_z
from tests.factories import request_type

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 20)


def test_robust_z_by_hand():
    # Baseline 28 days of 2 tickets: median 2, MAD 0 → scale √2; 12 tickets: z = 10 / √2.
    median, z = robust_z(12, [2] * 28)
    assert median == 2.0
    assert z == pytest.approx(10 / 2**0.5)
    # A noisy baseline: 1..7 repeated 4 times: median 4, MAD 2 → scale 2.9652.
    median, z = robust_z(20, list(range(1, 8)) * 4)
    assert (median, round(z, 3)) == (4.0, round(16 / 2.9652, 3))


def _daily(rt, system, counts: dict[date, int]):
    DailyRollup.objects.bulk_create(
        DailyRollup(day=day, priority="P3", request_type_id=rt.pk, system_id=system.pk, created=n)
        for day, n in counts.items()
    )


def test_spike_after_a_release_is_flagged_once_and_notifies_the_middle_office(
    desk, django_capture_on_commit_callbacks
):
    rt = request_type("defect")
    counts = {DAY - timedelta(days=back): 2 for back in range(1, 29)}
    counts[DAY] = 15
    _daily(rt, desk.system, counts)
    release = Release.objects.create(
        system=desk.system, version="5.2", released_on=DAY - timedelta(days=2)
    )
    Release.objects.create(system=desk.system, version="5.1", released_on=DAY - timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        new = detect_spikes(days=[DAY - timedelta(days=1), DAY])
    assert [(s.day, s.count, s.baseline, s.release_id) for s in new] == [(DAY, 15, 2.0, release.pk)]
    spike = Spike.objects.get()
    assert spike.notified_at is not None
    recipients = set(
        Notification.objects.filter(dedupe_key__startswith="reports.spike:").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"expert"}
    # Run twice (or two beats at once): nothing new, no second notification.
    count = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert detect_spikes(days=[DAY - timedelta(days=1), DAY]) == []
    assert Notification.objects.count() == count


def test_quiet_days_are_not_spikes(desk):
    rt = request_type("consultation")
    counts = {DAY - timedelta(days=back): 4 + back % 3 for back in range(0, 29)}
    _daily(rt, desk.system, counts)
    assert detect_spikes(days=[DAY]) == []


def test_release_api(desk, client):
    client.force_login(desk.manager)
    response = client.post(
        "/api/releases/",
        {"system": desk.system.code, "version": "7.0", "released_on": "2026-03-01", "notes": "x"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["system"] == desk.system.code
    again = client.post(
        "/api/releases/",
        {"system": desk.system.code, "version": "7.0", "released_on": "2026-03-02"},
        content_type="application/json",
    )
    assert again.status_code == 400
    assert list(again.json()) == ["version"]
    bad = client.post(
        "/api/releases/", {"system": "nope", "released_on": "x"}, content_type="application/json"
    )
    assert bad.status_code == 400
    pk = response.json()["id"]
    patched = client.patch(
        f"/api/releases/{pk}/", {"notes": "hotfix"}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["notes"] == "hotfix"
    assert client.get("/api/releases/").status_code == 200
    client.force_login(desk.requester)
    assert client.get("/api/releases/").status_code == 403
