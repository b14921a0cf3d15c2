"""Reads of the incidents app, scoped by the viewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from catalog.models import InformationSystem
from tickets.choices import OPEN_STATUSES
from tickets.models import Ticket
from tickets.search import search_q

from .choices import IncidentStatus, ServiceState, UpdateKind
from .models import IncidentAnnouncement, IncidentUpdate, MajorIncident

RECENT = timedelta(days=14)
SUGGESTION_WINDOW = timedelta(hours=6)


def can_manage(viewer: User) -> bool:
    return viewer.is_authenticated and viewer.has_perm("accounts.manage_incidents")


def _managers_only(viewer: User) -> None:
    if not can_manage(viewer):
        raise PermissionDenied


def incident_list(*, viewer: User) -> QuerySet[MajorIncident]:
    _managers_only(viewer)
    return (
        MajorIncident.objects.select_related("ticket", "lead")
        .prefetch_related("systems")
        .annotate(linked=Count("ticket__linked_tickets"))
        .order_by("-declared_at")
    )


def incident_get(*, viewer: User, incident_id: int) -> MajorIncident:
    _managers_only(viewer)
    incident = (
        MajorIncident.objects.select_related("ticket", "lead", "declared_by")
        .prefetch_related("systems", "modules", "updates", "announcements")
        .filter(pk=incident_id)
        .first()
    )
    if incident is None:
        raise Http404
    return incident


def linked_tickets(*, viewer: User, incident: MajorIncident, limit: int = 200):
    _managers_only(viewer)
    return (
        Ticket.objects.filter(incident_id=incident.ticket_id)
        .select_related("requester", "system")
        .order_by("-id")[:limit]
    )


def linked_counts(*, incident: MajorIncident) -> dict[str, int]:
    rows = Ticket.objects.filter(incident_id=incident.ticket_id).aggregate(
        total=Count("id"), open=Count("id", filter=Q(status__in=OPEN_STATUSES))
    )
    return rows


def suggestions(
    *,
    viewer: User,
    incident: MajorIncident,
    query: str = "",
    window: timedelta = SUGGESTION_WINDOW,
    limit: int = 100,
) -> list[Ticket]:
    """Open tickets to link: on the incident's systems and opened from `window` before the
    declaration until now, or matching `query` anywhere as the desk's ticket search matches it
    (a number, a requester, or words of the title, description and replies, in Chinese and
    English: `tickets.search.search_q`, through its indexes)."""
    _managers_only(viewer)
    base = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, incident__isnull=True)
        .exclude(pk=incident.ticket_id)
        .exclude(major_incident__isnull=False)
        .select_related("requester", "system")
    )
    query = query.strip()
    if query:
        found = base.filter(search_q(viewer, query))
    else:
        found = base.filter(
            system__in=incident.systems.all(), created_at__gte=incident.declared_at - window
        )
    return list(found.order_by("-id")[:limit])


def active_outages_for_system(*, system_id: int) -> list[IncidentAnnouncement]:
    """The published, not yet ended outage announcements of incidents affecting a system (the
    portal's new-request form shows them)."""
    now = timezone.now()
    return list(
        IncidentAnnouncement.objects.filter(
            kind=UpdateKind.OUTAGE,
            incident__systems__id=system_id,
            incident__status=IncidentStatus.ANNOUNCED,
            announcement__published_at__lte=now,
        )
        .filter(Q(announcement__ended_at__isnull=True) | Q(announcement__ended_at__gt=now))
        .select_related("incident", "announcement")
        .distinct()
    )


def outage_for_requester(*, incident_id: int) -> MajorIncident | None:
    """An incident a requester may report being affected by: its outage is announced."""
    return (
        MajorIncident.objects.filter(pk=incident_id, status=IncidentStatus.ANNOUNCED)
        .select_related("ticket")
        .first()
    )


def status_page_public() -> bool:
    return bool(getattr(settings, "STATUS_PAGE_PUBLIC", False))


@dataclass
class SystemStatus:
    system: InformationSystem
    state: str
    incidents: list[MajorIncident]


SEVERITY = {ServiceState.OPERATIONAL: 0, ServiceState.DEGRADED: 1, ServiceState.OUTAGE: 2}


def status_page() -> tuple[list[SystemStatus], list[MajorIncident]]:
    """Each active system's state (the worst of its active incidents) and the incidents of
    the last two weeks with their public timeline. Only announced incidents are public: one
    merely declared is still being confirmed."""
    since = timezone.now() - RECENT
    incidents = list(
        MajorIncident.objects.filter(
            Q(status=IncidentStatus.ANNOUNCED)
            | Q(status=IncidentStatus.RECOVERED, recovered_at__gte=since)
        )
        .filter(announcements__isnull=False)
        .distinct()
        .select_related("ticket")
        .prefetch_related(
            "systems",
            Prefetch(
                "updates",
                queryset=IncidentUpdate.objects.exclude(kind=UpdateKind.DECLARED).order_by("-id"),
            ),
        )
        .order_by("-declared_at")
    )
    by_system: dict[int, list[MajorIncident]] = {}
    for incident in incidents:
        for system in incident.systems.all():
            by_system.setdefault(system.pk, []).append(incident)
    rows = []
    for system in InformationSystem.objects.filter(is_active=True).order_by("code"):
        mine = by_system.get(system.pk, [])
        state = ServiceState.OPERATIONAL
        for incident in mine:
            if incident.is_active and SEVERITY[incident.service_state] > SEVERITY[state]:
                state = incident.service_state
        rows.append(SystemStatus(system, state, mine))
    return rows, incidents
