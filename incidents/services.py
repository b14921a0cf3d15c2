"""Writes of the incidents app. Each service checks `manage_incidents` (the requester's
"affected too" checks `submit_request`), then changes rows, then logs, in one transaction;
notifications are stored in it and delivered after commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import InformationSystem, SystemModule
from portal.choices import AnnouncementKind
from portal.models import Announcement
from tickets import services as ticket_services
from tickets.choices import OPEN_STATUSES, Channel, Impact
from tickets.events import event_record
from tickets.models import Ticket
from tickets.services import (
    ticket_resolve_incident,
    tickets_link_incident_many,
    tickets_resolve_linked_many,
)

from . import events, notify
from .choices import IncidentStatus, ServiceState, UpdateKind
from .models import IncidentAnnouncement, IncidentUpdate, MajorIncident

# How long the recovery announcement stays on the portal's banner.
RECOVERY_SHOWN_FOR = timedelta(hours=24)


def _check_manager(actor: User) -> None:
    if not actor.has_perm("accounts.manage_incidents"):
        raise PermissionDenied(_("You may not manage major incidents."))


def _text(value: str, *, field: str, required: bool = False, limit: int = 10_000) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": limit}]})
    return value


def _two_languages(zh: str, en: str, *, field: str, limit: int = 10_000) -> tuple[str, str]:
    zh = _text(zh, field=f"{field}_zh", limit=limit)
    en = _text(en, field=f"{field}_en", limit=limit)
    if not zh and not en:
        raise ValidationError({f"{field}_zh": [_("Write it in Chinese, English or both.")]})
    return zh, en


def _lock(incident_id: int) -> MajorIncident:
    return (
        MajorIncident.objects.select_for_update(of=("self",))
        .select_related("ticket")
        .get(pk=incident_id)
    )


@transaction.atomic
def incident_declare(
    *,
    actor: User,
    title_zh: str = "",
    title_en: str = "",
    description: str = "",
    systems: Iterable[InformationSystem],
    modules: Iterable[SystemModule] = (),
    impact: int = Impact.EXTENSIVE,
    service_state: str = ServiceState.OUTAGE,
    lead: User | None = None,
    from_ticket: Ticket | None = None,
) -> MajorIncident:
    """Declare a major incident from a ticket (it becomes the incident's ticket), from an
    alert's ticket, or from scratch (a new fault ticket requested by the declarer). Guards:
    `manage_incidents`; at least one system; the lead may manage incidents; a ticket is the
    incident of at most one major incident and is open."""
    _check_manager(actor)
    title_zh, title_en = _two_languages(title_zh, title_en, field="title", limit=200)
    systems, modules = list(systems), list(modules)
    if not systems:
        raise ValidationError({"systems": [_("Name at least one affected system.")]})
    if any(m.system_id not in {s.pk for s in systems} for m in modules):
        raise ValidationError({"modules": [_("A module of a system that is not affected.")]})
    if impact not in Impact.values:
        raise ValidationError({"impact": [_("Unknown impact.")]})
    if service_state not in (ServiceState.DEGRADED, ServiceState.OUTAGE):
        raise ValidationError({"service_state": [_("Degraded or outage.")]})
    lead = lead or actor
    if not lead.has_perm("accounts.manage_incidents"):
        raise ValidationError({"lead": [_("The lead must be able to manage incidents.")]})
    if from_ticket is not None:
        ticket = Ticket.objects.select_for_update().get(pk=from_ticket.pk)
        if MajorIncident.objects.filter(ticket=ticket).exists():
            raise ValidationError({"ticket": [_("This ticket is already a major incident.")]})
        if ticket.status not in OPEN_STATUSES:
            raise ValidationError({"ticket": [_("Declare from an open ticket.")]})
        if ticket.incident_id:
            raise ValidationError({"ticket": [_("This ticket is linked to another incident.")]})
    else:
        ticket, _created = ticket_services.ticket_create(
            requester=actor,
            created_by=None,
            channel=Channel.PHONE,
            title=(title_zh or title_en)[:200],
            description=_text(description, field="description", limit=50_000),
            system=systems[0],
            module=next((m for m in modules if m.system_id == systems[0].pk), None),
            impact=impact,
            urgency=1,
        )
    incident = MajorIncident.objects.create(
        ticket=ticket,
        title_zh=title_zh,
        title_en=title_en,
        impact=impact,
        service_state=service_state,
        lead=lead,
        declared_by=actor,
    )
    incident.systems.set(systems)
    incident.modules.set(modules)
    IncidentUpdate.objects.create(
        incident=incident,
        kind=UpdateKind.DECLARED,
        author=actor,
        body_zh=title_zh,
        body_en=title_en,
    )
    events.incident_declared(incident=incident, actor=actor)
    return incident


@transaction.atomic
def incident_link_tickets(*, actor: User, incident_id: int, ticket_ids: Iterable[int]) -> list[int]:
    """Link open tickets to the incident (bulk); return the ids linked now. Skips the incident's
    own ticket, tickets already linked to it and finished ones; refuses tickets of another
    incident. Each linked ticket's log says so (the core's `ticket_link_incident`)."""
    _check_manager(actor)
    incident = _lock(incident_id)
    if not incident.is_active:
        raise ValidationError({"incident": [_("The incident is over.")]})
    ids = sorted({int(i) for i in ticket_ids} - {incident.ticket_id})
    candidates = Ticket.objects.filter(pk__in=ids, status__in=OPEN_STATUSES).exclude(
        incident_id=incident.ticket_id
    )
    elsewhere = [t.number for t in candidates if t.incident_id is not None]
    if elsewhere:
        raise ValidationError(
            {"tickets": [_("Linked to another incident: %(n)s") % {"n": ", ".join(elsewhere)}]}
        )
    # The desk links (actor None): the incident manager need not work on each ticket.
    return tickets_link_incident_many(
        ticket_ids=[t.pk for t in candidates], incident=incident.ticket
    )


@transaction.atomic
def incident_post_update(
    *, actor: User, incident_id: int, body_zh: str = "", body_en: str = ""
) -> IncidentUpdate:
    """A progress update: on the incident's timeline (status page), in each linked ticket's
    log, and sent to every linked requester."""
    _check_manager(actor)
    body_zh, body_en = _two_languages(body_zh, body_en, field="body")
    incident = _lock(incident_id)
    if not incident.is_active:
        raise ValidationError({"incident": [_("The incident is over.")]})
    update = IncidentUpdate.objects.create(
        incident=incident, kind=UpdateKind.PROGRESS, author=actor, body_zh=body_zh, body_en=body_en
    )
    events.progress_posted(incident=incident, update=update, actor=actor)
    update.notified = notify.notify_progress(incident=incident, update=update)
    update.save(update_fields=["notified"])
    return update


def _banner_text(zh: str, en: str) -> str:
    return " / ".join(part for part in (zh, en) if part)


def _publish(
    incident: MajorIncident,
    *,
    kind: str,
    title_zh: str,
    title_en: str,
    body_zh: str,
    body_en: str,
    ended_at=None,
) -> IncidentAnnouncement:
    system = incident.systems.order_by("code").first()
    announcement = Announcement.objects.create(
        kind=AnnouncementKind.FAULT if kind == UpdateKind.OUTAGE else AnnouncementKind.RECOVERY,
        title=_banner_text(title_zh, title_en)[:200],
        body="\n\n".join(part for part in (body_zh, body_en) if part),
        system=system,
        ended_at=ended_at,
    )
    return IncidentAnnouncement.objects.create(
        incident=incident,
        announcement=announcement,
        kind=kind,
        title_zh=title_zh,
        title_en=title_en,
        body_zh=body_zh,
        body_en=body_en,
    )


@transaction.atomic
def incident_announce_outage(
    *,
    actor: User,
    incident_id: int,
    title_zh: str = "",
    title_en: str = "",
    body_zh: str = "",
    body_en: str = "",
) -> IncidentAnnouncement:
    """Publish the outage announcement (故障公告) on the portal's banner and the status page,
    in Chinese and English, until the recovery announcement ends it."""
    _check_manager(actor)
    title_zh, title_en = _two_languages(title_zh, title_en, field="title", limit=200)
    body_zh = _text(body_zh, field="body_zh")
    body_en = _text(body_en, field="body_en")
    incident = _lock(incident_id)
    if incident.status != IncidentStatus.DECLARED:
        raise ValidationError({"incident": [_("The outage is already announced or over.")]})
    incident.announce()
    incident.save(update_fields=["status"])
    published = _publish(
        incident,
        kind=UpdateKind.OUTAGE,
        title_zh=title_zh,
        title_en=title_en,
        body_zh=body_zh,
        body_en=body_en,
    )
    IncidentUpdate.objects.create(
        incident=incident,
        kind=UpdateKind.OUTAGE,
        author=actor,
        body_zh=_banner_text(title_zh, body_zh),
        body_en=_banner_text(title_en, body_en),
    )
    events.outage_announced(incident=incident, actor=actor)
    return published


@transaction.atomic
def incident_recover(
    *,
    actor: User,
    incident_id: int,
    resolution: str,
    title_zh: str = "",
    title_en: str = "",
    body_zh: str = "",
    body_en: str = "",
) -> tuple[IncidentAnnouncement, int]:
    """Publish the recovery announcement (恢复公告): the outage announcements end now, the
    incident's ticket and every open linked ticket are resolved with the resolution (each move
    in each ticket's log; each requester is asked to confirm as usual), and every linked
    requester is told. Returns the announcement and how many linked tickets were resolved."""
    _check_manager(actor)
    resolution = _text(resolution, field="resolution", required=True, limit=50_000)
    title_zh, title_en = _two_languages(title_zh, title_en, field="title", limit=200)
    body_zh = _text(body_zh, field="body_zh")
    body_en = _text(body_en, field="body_en")
    incident = _lock(incident_id)
    if not incident.is_active:
        raise ValidationError({"incident": [_("The incident is already recovered.")]})
    now = timezone.now()
    incident.recover(resolution=resolution)
    incident.save(update_fields=["status", "resolution", "recovered_at"])
    Announcement.objects.filter(
        incident_announcement__incident=incident,
        incident_announcement__kind=UpdateKind.OUTAGE,
        ended_at__isnull=True,
    ).update(ended_at=now)
    published = _publish(
        incident,
        kind=UpdateKind.RECOVERY,
        title_zh=title_zh,
        title_en=title_en,
        body_zh=body_zh,
        body_en=body_en,
        ended_at=now + RECOVERY_SHOWN_FOR,
    )
    update = IncidentUpdate.objects.create(
        incident=incident,
        kind=UpdateKind.RECOVERY,
        author=actor,
        body_zh=_banner_text(title_zh, body_zh),
        body_en=_banner_text(title_en, body_en),
    )
    resolved = tickets_resolve_linked_many(incident_id=incident.ticket_id, resolution=resolution)
    ticket_resolve_incident(ticket_id=incident.ticket_id, resolution=resolution)
    events.recovered(incident=incident, actor=actor)
    update.notified = notify.notify_recovered(incident=incident, update=update)
    update.save(update_fields=["notified"])
    return published, len(resolved)


@transaction.atomic
def incident_report_affected(
    *, requester: User, incident_id: int, description: str = ""
) -> tuple[Ticket, bool]:
    """ "I am affected too" on the portal: the requester's ticket, linked to the incident instead
    of a new investigation. A second report returns the requester's open linked ticket."""
    if not requester.has_perm("accounts.submit_request"):
        raise PermissionDenied(_("You may not submit requests."))
    incident = _lock(incident_id)
    if not incident.is_active:
        raise ValidationError({"incident": [_("This fault is already over.")]})
    existing = Ticket.objects.filter(
        incident_id=incident.ticket_id, requester=requester, status__in=OPEN_STATUSES
    ).first()
    if existing is not None:
        return existing, False
    system = incident.systems.order_by("code").first()
    ticket, _created = ticket_services.ticket_create(
        requester=requester,
        created_by=requester,
        channel=Channel.PORTAL,
        title=(_("Affected by: %(title)s") % {"title": incident.title})[:200],
        description=_text(description, field="description", limit=50_000),
        system=system,
    )
    ticket = ticket_services.ticket_link_incident(
        ticket_id=ticket.pk, actor=None, incident=incident.ticket
    )
    event_record(
        ticket=ticket,
        kind=events.AFFECTED,
        actor=requester,
        message=_("Reported as affected by the announced fault %(n)s.")
        % {"n": incident.ticket.number},
    )
    return ticket, True
