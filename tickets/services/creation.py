"""Taking a ticket in: `ticket_create`, the one entry of every channel (portal, API, e-mail,
alerts, an agent logging a call), numbered and idempotent by the channel's key."""

from __future__ import annotations

import contextlib
import functools
import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import Category, InformationSystem, RequestType, SystemModule
from servicedesk.prepared import execute_prepared

from .. import reactions
from ..choices import Channel, EventKind
from ..events import CREATED_ENTRY_SQL, created_entry_params, event_record_many, event_row
from ..models import Ticket
from ..search import (
    NEW_DOCUMENT_OF_INSERTED_SQL,
    new_document_params,
    search_documents_for_new,
)
from ..validation import clean_body, clean_title
from .common import _check_scales, follow_as_actor

CHANNELS = frozenset(Channel.values)  # (`Channel.values` builds its list on every call)

# The ticket, its CREATED entry and its search document in one statement, numbered by the
# sequence in it (`{prefix}-{year}-` and at least six digits, as `_insert_many` numbers):
# one round trip where the ORM took four (the number, the ticket, the entry, the document).
# Built once per process from the model, so a new column is written as the ORM would.
_INSERT_FIELDS = [
    f for f in Ticket._meta.concrete_fields if not f.primary_key and f.attname != "number"
]
# The statement is prepared once per database session (PREPARE lasts as long as the session,
# whatever happens to transactions): PostgreSQL planned this three-INSERT statement anew for
# every ticket, ~250 µs of the database's CPU per ticket on the bench desk (docs/benchmarks.md).
# (servicedesk/prepared.py: named statements need a session per client connection.)
_STATEMENT = "tickets_ticket_create"


@functools.cache
def _insert_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _INSERT_FIELDS)
    values = ", ".join(["%s"] * len(_INSERT_FIELDS))
    # VALUES, not SELECT: a prepared statement's parameters take the columns' types.
    return (
        f"WITH t AS (INSERT INTO {quote(Ticket._meta.db_table)} (number, {columns}) "  # noqa: S608 (names from the model)  # nosec B608
        "VALUES ((SELECT %s || lpad(v::text, greatest(6, length(v::text)), '0') "
        f"FROM nextval('tickets_ticket_number_seq') v), {values}) RETURNING id, number), "
        f"entry AS ({CREATED_ENTRY_SQL}), document AS ({NEW_DOCUMENT_OF_INSERTED_SQL}) "
        # Fixed result types: a prepared statement whose result type changed (a migration
        # widening `number`) would fail in sessions that prepared it before.
        "SELECT id::bigint, number::text FROM t"
    )


def _write_new(ticket: Ticket, created_by: User | None) -> None:
    """INSERT `ticket` (unsaved, no number yet) with its entry and document; it gets its id
    and number and is then as a saved ticket."""
    prefix = settings.SERVICEDESK["TICKET_NUMBER_PREFIX"]
    params = [f"{prefix}-{timezone.localtime(ticket.created_at).year}-"]
    # As the ORM's INSERT prepares them (`updated_at` is stamped here); the connection itself,
    # not the thread-local proxy, which each field would look up again (a third of the cost).
    db = transaction.get_connection()
    for field in _INSERT_FIELDS:
        value = field.pre_save(ticket, True)
        params.append(None if value is None else field.get_db_prep_save(value, db))
    params.extend(
        created_entry_params(ticket=ticket, actor=created_by, data={"channel": ticket.channel})
    )
    params.extend(new_document_params(title=ticket.title, description=ticket.description))
    with db.cursor() as cursor:
        execute_prepared(cursor, _STATEMENT, _insert_sql(), params, logged=True)
        ticket.pk, ticket.number = cursor.fetchone()
    ticket._state.adding = False
    ticket._state.db = db.alias


def ticket_create(
    *,
    requester: User,
    title: str,
    description: str = "",
    channel: str = Channel.PORTAL,
    created_by: User | None = None,
    system: InformationSystem | None = None,
    module: SystemModule | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    request_type: RequestType | None = None,
    category: Category | None = None,
    external_source: str = "",
    external_ref: str = "",
) -> tuple[Ticket, bool]:
    """Open a ticket from any channel; return (ticket, created).

    Guards: the person logging it is the requester (with `submit_request`), an agent with
    `log_on_behalf`, or the desk itself (`created_by=None`, integrations); title 1–200
    characters; description up to 50,000. With an external reference (an Idempotency-Key, an
    alert fingerprint, a Message-ID) a second delivery returns the first ticket, also when both
    arrive at once. Side effects after commit: TICKET_CREATED reactions (classification,
    routing, SLA timers).
    """
    if channel not in CHANNELS:
        raise ValidationError({"channel": [_("Unknown channel.")]})
    if created_by is not None and created_by.pk != requester.pk:
        if not created_by.has_perm("accounts.log_on_behalf"):
            raise PermissionDenied(_("You may not log requests on behalf of others."))
    elif created_by is not None and not (
        created_by.has_perm("accounts.submit_request")
        or created_by.has_perm("accounts.log_on_behalf")
    ):
        raise PermissionDenied(_("You may not submit requests."))
    fields = {"title": clean_title(title), "description": clean_body(description)}
    _check_scales(impact=impact, urgency=urgency)
    if module is not None and system is not None and module.system_id != system.pk:
        raise ValidationError({"module": [_("This module belongs to another system.")]})
    if module is not None and system is None:
        system = module.system
    external_ref = (external_ref or "").strip()[:255]
    if external_ref:
        # The id first: nearly every key is new, and a whole row costs the state machine's
        # set-up for nothing.
        existing_id = (
            Ticket.objects.filter(external_source=external_source, external_ref=external_ref)
            .values_list("pk", flat=True)
            .first()
        )
        if existing_id is not None:
            return Ticket.objects.get(pk=existing_id), False
    # The ticket is written by one statement, a transaction of its own. A transaction around
    # it only where more is written (the agent logging a call follows the ticket), and inside
    # the caller's transaction a savepoint, so a refused duplicate reference leaves it usable.
    logs_for_other = created_by is not None and created_by.pk != requester.pk
    own_transaction = logs_for_other or connection.in_atomic_block
    try:
        with transaction.atomic() if own_transaction else contextlib.nullcontext():
            ticket = _insert_ticket(
                requester=requester,
                created_by=created_by,
                channel=channel,
                system=system,
                module=module,
                impact=impact,
                urgency=urgency,
                request_type=request_type,
                category=category,
                external_source=external_source,
                external_ref=external_ref,
                **fields,
            )
    except IntegrityError:
        if not external_ref:
            raise
        # The same key arrived twice at once: the other delivery won; return its ticket.
        return Ticket.objects.get(external_source=external_source, external_ref=external_ref), False
    return ticket, True


def _insert_ticket(*, requester: User, created_by: User | None, **values: Any) -> Ticket:
    now = timezone.now()
    unit = requester.unit
    values = {k: v for k, v in values.items() if v is not None}
    ticket = Ticket(
        requester=requester,
        created_by=created_by or None,
        unit=unit,
        unit_path=unit.path if unit else "",
        created_at=now,
        intake_due_at=now if reactions.deferred(reactions.TICKET_CREATED) else None,
        **values,
    )
    _write_new(ticket, created_by)  # with its entry; findable from its commit on
    follow_as_actor(ticket, created_by)  # an agent who logs a call follows it
    reactions.fire(reactions.TICKET_CREATED, ticket_id=ticket.pk)
    return ticket


def ticket_create_many(
    *, requester: User, channel: str, drafts: list[dict[str, Any]]
) -> list[tuple[Ticket, bool]]:
    """Open many tickets for one requester, by the desk itself (an integration's delivery);
    return (ticket, created) per draft, in order. Each draft holds `ticket_create`'s ticket
    arguments (title, description, system, module, impact, urgency, request_type, category,
    external_source, external_ref) and gets the same guards and the same outcome: a known
    external reference returns its ticket (also a reference repeated in `drafts`).

    Set-based: one query for the known references, one for the numbers, one INSERT each of
    the tickets, their CREATED log rows and their search documents, and the TICKET_CREATED
    reactions handed off once (`reactions.fire_many`). When another delivery inserts one of
    the references at the same moment, the drafts are taken one at a time through
    `ticket_create`, which returns the winner's ticket."""
    if channel not in CHANNELS:
        raise ValidationError({"channel": [_("Unknown channel.")]})
    cleaned = []
    for draft in drafts:
        values = {
            **draft,
            "title": clean_title(draft["title"]),
            "description": clean_body(draft.get("description", "")),
            "external_source": draft.get("external_source", ""),
            "external_ref": (draft.get("external_ref") or "").strip()[:255],
        }
        _check_scales(impact=values.get("impact"), urgency=values.get("urgency"))
        module, system = values.get("module"), values.get("system")
        if module is not None and system is not None and module.system_id != system.pk:
            raise ValidationError({"module": [_("This module belongs to another system.")]})
        if module is not None and system is None:
            values["system"] = module.system
        cleaned.append(values)
    refs = [(v["external_source"], v["external_ref"]) for v in cleaned if v["external_ref"]]
    known: dict[tuple[str, str], Ticket] = {}
    if refs:
        for ticket in Ticket.objects.filter(
            external_source__in={s for s, _r in refs}, external_ref__in={r for _s, r in refs}
        ):
            known[(ticket.external_source, ticket.external_ref)] = ticket
    results: list[tuple[Ticket, bool] | None] = []
    new: list[Ticket] = []
    now = timezone.now()
    unit = requester.unit
    due = now if reactions.deferred(reactions.TICKET_CREATED) else None
    for values in cleaned:
        key = (values["external_source"], values["external_ref"])
        if values["external_ref"] and key in known:
            results.append((known[key], False))
            continue
        ticket = Ticket(
            requester=requester,
            created_by=None,
            unit=unit,
            unit_path=unit.path if unit else "",
            created_at=now,
            channel=channel,
            intake_due_at=due,
            **{k: v for k, v in values.items() if v is not None},
        )
        if values["external_ref"]:
            known[key] = ticket
        new.append(ticket)
        results.append((ticket, True))
    if not new:
        return results
    try:
        with transaction.atomic():
            _insert_many(new, now)
    except IntegrityError:
        # A concurrent delivery won a reference: one at a time, each finding its winner.
        return [
            ticket_create(requester=requester, created_by=None, channel=channel, **draft)
            for draft in drafts
        ]
    return results


def _insert_many(tickets: list[Ticket], now) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval('tickets_ticket_number_seq') FROM generate_series(1, %s)",
            [len(tickets)],
        )
        values = [row[0] for row in cursor.fetchall()]
    prefix = settings.SERVICEDESK["TICKET_NUMBER_PREFIX"]
    year = timezone.localtime(now).year
    for ticket, value in zip(tickets, sorted(values), strict=True):
        ticket.number = f"{prefix}-{year}-{value:06d}"
    Ticket.objects.bulk_create(tickets)
    rows = []
    for ticket in tickets:
        row = event_row(
            ticket=ticket, kind=EventKind.CREATED, data={"channel": ticket.channel}, created_at=now
        )
        row.new_value = ticket.number
        rows.append(row)
    event_record_many(rows)
    search_documents_for_new(tickets)  # findable from their commit on
    reactions.fire_many(reactions.TICKET_CREATED, [{"ticket_id": t.pk} for t in tickets])


def external_ref_for_key(*, client: User, key: str) -> tuple[str, str]:
    """An API client's Idempotency-Key, scoped to that client so keys never collide."""
    return f"api:{client.pk}", hashlib.sha256(key.encode("utf-8")).hexdigest()
