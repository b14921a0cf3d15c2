"""Writes of the service catalogue: a request through a service's form becomes a ticket with
its structured answers."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import InformationSystem
from tickets.choices import Channel
from tickets.services import attachment_add, ticket_create

from .choices import FieldKind
from .models import Service, ServiceRequest


def _display(kind: str, value, field) -> tuple[object, str]:
    """(stored value, what people read) of one answer."""
    if kind == FieldKind.CHOICE:
        labels = dict(field.choice_list())
        return value, str(labels.get(value, value))
    if kind == FieldKind.MULTI_CHOICE:
        labels = dict(field.choice_list())
        return list(value), ", ".join(str(labels.get(v, v)) for v in value)
    if kind == FieldKind.DATE:
        return value.isoformat(), value.isoformat()
    if kind == FieldKind.SYSTEM:
        return value.pk, value.label
    return value, str(value)


@transaction.atomic
def service_request_submit(
    *,
    service: Service,
    requester: User,
    created_by: User,
    answers: dict,
    impact: int | None = None,
    urgency: int | None = None,
    channel: str = Channel.PORTAL,
) -> ServiceRequest:
    """Open a ticket through a catalogue service and store its answers (validated by
    `ServiceRequestForm` or the API serializer, which build on the same field definitions).

    Guards: the service is offered (not retired); who may log for whom is `ticket_create`'s
    guard (the requester themself, or an agent with `log_on_behalf`). The ticket carries the
    service's mapping (request type, category, system, impact/urgency); what the requester
    states about impact and urgency is kept apart, so routing can cap it
    (`servicecatalog.reactions`). Files answered are attached to the ticket.
    Side effects after commit: TICKET_CREATED reactions (the catalogue routes it first).
    """
    if not service.is_active:
        raise ValidationError({"service": [_("This service is no longer offered.")]})
    fields = list(service.fields.all())
    by_agent = created_by.pk != requester.pk
    system = service.system
    stored: list[dict] = []
    uploads = []
    for field in fields:
        if field.key not in answers:
            continue
        value = answers[field.key]
        if field.kind == FieldKind.FILE:
            uploads.append((field, value))
            continue
        if field.kind == FieldKind.SYSTEM and isinstance(value, InformationSystem):
            system = system or value
        raw, display = _display(field.kind, value, field)
        stored.append(_answer(field, raw, display))
    first_text = next(
        (a["display"] for a in stored if a["kind"] in (FieldKind.TEXT, FieldKind.CHOICE)), ""
    )
    title = f"{service.label}: {first_text}" if first_text else service.label
    description = "\n".join(f"{a['label']}: {a['display']}" for a in stored)
    stated = service.ask_impact and impact is not None and urgency is not None
    ticket, _created = ticket_create(
        requester=requester,
        created_by=created_by,
        channel=channel,
        title=title[:200],
        description=description,
        system=system,
        impact=impact if stated else service.impact,
        urgency=urgency if stated else service.urgency,
        request_type=service.request_type,
        category=service.category,
    )
    for field, upload in uploads:
        attachment = attachment_add(ticket_id=ticket.pk, actor=created_by, upload=upload)
        stored.append(_answer(field, attachment.pk, attachment.filename))
    order = {f.key: i for i, f in enumerate(fields)}
    stored.sort(key=lambda a: order[a["key"]])
    return ServiceRequest.objects.create(
        ticket=ticket,
        service=service,
        answers=stored,
        stated_impact=impact if stated else None,
        stated_urgency=urgency if stated else None,
        by_agent=by_agent,
        created_at=timezone.now(),
    )


def _answer(field, raw, display) -> dict:
    if isinstance(raw, dt.date):
        raw = raw.isoformat()
    return {
        "key": field.key,
        "label": field.name,
        "label_zh": field.name_zh,
        "kind": field.kind,
        "value": raw,
        "display": display,
    }


@transaction.atomic
def service_retire(*, service_id: int, actor: User) -> Service:
    """Take a service out of the catalogue (past requests keep it). Guard: `configure_desk`."""
    from django.core.exceptions import PermissionDenied

    if not actor.has_perm("accounts.configure_desk"):
        raise PermissionDenied(_("You may not change the catalogue."))
    service = Service.objects.select_for_update().get(pk=service_id)
    if service.is_active:
        service.is_active = False
        service.retired_at = timezone.now()
        service.save(update_fields=["is_active", "retired_at"])
    return service
