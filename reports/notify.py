"""The reports app's messages, one function per kind (so notification rules can route them)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import Role, Tier
from accounts.models import Team, User
from notifications.services import notify

from .models import Spike


def _link(path: str) -> str:
    return settings.SERVICEDESK["PUBLIC_BASE_URL"].rstrip("/") + path


def middle_office() -> list[User]:
    """The middle-office experts and their team leads: they analyse spikes."""
    teams = Team.objects.filter(tier=Tier.MIDDLE)
    people = User.objects.filter(is_active=True, teams__in=teams).distinct()
    leads = User.objects.filter(is_active=True, led_teams__in=teams)
    return list({user.pk: user for user in [*people, *leads]}.values())


def notify_spike(spike: Spike) -> list[int]:
    """Tell the middle office about a new spike (once: the dedupe key is the spike's day and
    pair). Mark the spike notified."""
    spike = Spike.objects.select_related("request_type", "system", "release").get(pk=spike.pk)
    with translation.override(settings.LANGUAGE_CODE):
        release = (
            _("after release %(version)s of %(released_on)s")
            % {"version": spike.release.version, "released_on": spike.release.released_on}
            if spike.release
            else _("with no release recorded in the two weeks before")
        )
        subject = _("Spike: %(count)s %(type)s tickets for %(system)s on %(day)s") % {
            "count": spike.count,
            "type": spike.request_type.label,
            "system": spike.system.label if spike.system else "—",
            "day": spike.day,
        }
        body = _(
            "%(count)s tickets against a baseline of %(baseline)s a day (robust z-score "
            "%(score)s), %(release)s."
        ) % {
            "count": spike.count,
            "baseline": round(spike.baseline, 1),
            "score": round(spike.score, 1),
            "release": release,
        }
    ids = notify(
        recipients=middle_office(),
        subject=subject,
        body=body,
        dedupe_key=f"reports.spike:{spike.day}:{spike.request_type_id}:{spike.system_id}",
        url=_link(reverse("reports:page", args=["spikes"])),
    )
    Spike.objects.filter(pk=spike.pk, notified_at__isnull=True).update(notified_at=timezone.now())
    return ids


def _shown(value) -> str:
    return "—" if value is None else str(value)


def managers() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.MANAGER).distinct())


def notify_weekly_summary(*, week_end: date | None = None) -> list[int]:
    """The weekly summary mail to every manager: the headline numbers of the seven days up to
    `week_end` (default yesterday) in their own scope, and a link. Once per manager and week."""
    from .pages import headline
    from .selectors import ReportFilters

    week_end = week_end or timezone.localdate() - timedelta(days=1)
    filters = ReportFilters(date_from=week_end - timedelta(days=6), date_to=week_end)
    ids: list[int] = []
    for manager in managers():
        numbers = headline(manager, filters)
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Service desk week %(start)s – %(end)s") % {
                "start": filters.date_from,
                "end": filters.date_to,
            }
            lines = [
                _("Created: %(n)s") % {"n": numbers["created"]},
                _("Resolved: %(n)s") % {"n": numbers["resolved"]},
                _("Open now: %(n)s") % {"n": numbers["open"]},
                _("First response in time: %(n)s %%") % {"n": _shown(numbers["fr_percent"])},
                _("Resolved in time: %(n)s %%") % {"n": _shown(numbers["res_percent"])},
                _("Mean resolution time: %(n)s h") % {"n": _shown(numbers["mttr_hours"])},
                _("Satisfaction: %(n)s / 5") % {"n": _shown(numbers["satisfaction"])},
            ]
        query = f"?preset=custom&date_from={filters.date_from}&date_to={filters.date_to}"
        with transaction.atomic():
            ids += notify(
                recipients=[manager],
                subject=subject,
                body="\n".join(lines),
                dedupe_key=f"reports.weekly:{filters.date_to}:{manager.pk}",
                url=_link(reverse("reports:home") + query),
            )
    return ids
