"""Writes of the e-mail channel: take one message (exactly once), quarantine, poll bookkeeping.

`message_ingest` is the whole path of one message: parse, claim its key, then ignore it,
record a bounce, add it to a ticket as a reply, or open a ticket, all in one transaction with
the claim. Tickets and replies are made only by the public ticket services (`ticket_create`
with channel e-mail, `comment_add`, `attachment_add`), so every guard, log entry and reaction
of a portal request applies, including a requester's reply resuming a ticket pending on them.
Headers from outside never set an internal field: priority, type, team and unit come from the
mailbox's settings and the desk's own routing.
"""

from __future__ import annotations

import email.utils
import logging
import secrets
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from tickets import permissions as ticket_perms
from tickets.choices import Channel
from tickets.models import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, Ticket
from tickets.services import comment_add, ticket_create

from . import events
from .attach import add_attachments, expand, not_kept_text
from .choices import ForeignReply, MailboxState, Outcome, UnknownSender
from .models import FlaggedAddress, InboundMessage, Mailbox
from .noise import auto_reason, is_bounce, is_echo
from .parse import ParsedMail, UnparsableMail, decode_header, message_ids, message_key, parse
from .strip import strip_reply
from .thread import referenced_ticket_number, ticket_number_in_msgid, ticket_number_in_subject

logger = logging.getLogger(__name__)

EXTERNAL_SOURCE = "email"

# Which mailbox counter each outcome adds to.
COUNTER = {
    Outcome.TICKET_CREATED: "created_count",
    Outcome.REPLY_ADDED: "replied_count",
    Outcome.IGNORED_AUTO: "ignored_count",
    Outcome.IGNORED_ECHO: "ignored_count",
    Outcome.BOUNCE: "ignored_count",
    Outcome.RATE_LIMITED: "ignored_count",
    Outcome.REFUSED: "ignored_count",
    Outcome.QUARANTINED: "quarantined_count",
}


class Handled(Exception):
    """Internal: a decision reached inside the savepoint that must roll back its writes."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


def _stored_raw(raw: bytes) -> tuple[bytes, bool]:
    limit = settings.MAILIN["RAW_MAX_BYTES"]
    return (raw[:limit], True) if len(raw) > limit else (raw, False)


def counts_for(outcome: str, *, fetched: int = 1) -> Counter:
    """The mailbox counters one message adds to (`outcome` empty: a duplicate)."""
    counts = Counter({"fetched_count": fetched} if fetched else {})
    if COUNTER.get(outcome):
        counts[COUNTER[outcome]] += 1
    return counts


def _count(mailbox: Mailbox | None, outcome: str, *, fetched: int = 1, count: bool = True) -> None:
    """Add to the mailbox's counters, unless the caller counts (the poller writes a chunk's
    counts at once, so messages taken side by side do not queue on the mailbox row's lock)."""
    if mailbox is not None and count:
        mailbox_add_counts(mailbox_id=mailbox.pk, counts=counts_for(outcome, fetched=fetched))


def mailbox_add_counts(*, mailbox_id: int, counts: Counter) -> None:
    updates = {name: F(name) + value for name, value in counts.items() if value}
    if updates:
        Mailbox.objects.filter(pk=mailbox_id).update(**updates)


def message_ingest(
    *,
    mailbox: Mailbox | None,
    raw: bytes,
    count: bool = True,
    senders: dict | None = None,
) -> tuple[InboundMessage, bool]:
    """Take one raw message; return (its row, whether this call took it).

    Guards: a message whose key (Message-ID hash, else raw hash) was taken before — by an
    earlier poll that crashed before marking it read, by a second delivery, or by another poller
    right now — is not taken again (`False`); the unique key makes the second claim wait for the
    first's commit and then fail. A message that cannot be parsed, or whose ticket service call
    fails, is quarantined with the reason; nothing raises out of here for bad mail.
    Side effects: the ticket services' own (reactions after commit); mailbox counters.
    """
    try:
        mail = parse(raw)
    except UnparsableMail as exc:
        return _quarantine_unparsable(mailbox, raw, str(exc), count)
    stored, truncated = _stored_raw(raw)
    # No savepoint of its own (inside the poller's group transaction): the claim cannot fail
    # but by a lost connection, which ends the group anyway, and everything that may fail is
    # in `_process`'s savepoint.
    with transaction.atomic(savepoint=False):
        row = _claim(
            InboundMessage(
                mailbox=mailbox,
                message_key=mail.key,
                message_id=mail.message_id[:255],
                from_address=mail.from_address[:255],
                subject=mail.subject[:255],
                outcome=Outcome.QUARANTINED,
                raw=stored,
                raw_size=len(raw),
                raw_truncated=truncated,
                html_sanitised=mail.html_sanitised,
            )
        )
        if row is None:
            _count(mailbox, "", count=count)
            return InboundMessage.objects.get(message_key=mail.key), False
        _process(row, mailbox, mail, senders)
        _count(mailbox, row.outcome, count=count)
    return row, True


def _claim(row: InboundMessage) -> InboundMessage | None:
    """Insert the row unless its key is taken: one statement (INSERT … ON CONFLICT DO NOTHING),
    which waits for a concurrent insert of the same key to commit or roll back. None if taken."""
    fields = [f for f in InboundMessage._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    table = connection.ops.quote_name(InboundMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "  # noqa: S608 (names from the model)  # nosec B608
            "ON CONFLICT (message_key) DO NOTHING RETURNING id",
            values,
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    row.pk = inserted[0]
    row._state.adding = False
    return row


def _process(
    row: InboundMessage, mailbox: Mailbox | None, mail: ParsedMail, senders: dict | None = None
) -> None:
    """Decide and act inside a savepoint; any failure leaves only the quarantined row."""
    try:
        with transaction.atomic():
            _decide(row, mailbox, mail, senders if senders is not None else {})
    except Handled as decision:
        row.outcome, row.reason = decision.outcome, decision.reason
        row.ticket = row.comment = None
    except (ValidationError, PermissionDenied) as exc:
        row.outcome, row.reason = Outcome.QUARANTINED, _error_text(exc)
        row.ticket = row.comment = None
    except Exception as exc:  # a bug must not stop the poller: quarantine and log
        logger.exception("mail %s could not be processed", row.message_key)
        row.outcome, row.reason = Outcome.QUARANTINED, f"internal error: {type(exc).__name__}"
        row.ticket = row.comment = None
    row.save(update_fields=["outcome", "reason", "ticket", "comment", "attachments_not_kept"])


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _decide(row: InboundMessage, mailbox: Mailbox | None, mail: ParsedMail, senders: dict) -> None:
    if is_echo(mail):
        row.outcome, row.reason = Outcome.IGNORED_ECHO, "the desk's own message"
        return
    if is_bounce(mail):
        _record_bounce(row, mail)
        return
    reason = auto_reason(mail)
    if reason:
        row.outcome, row.reason = Outcome.IGNORED_AUTO, reason
        return
    # Only people found are remembered: an account made for an unknown sender below may still
    # roll back with this message's savepoint.
    sender = senders.get(mail.from_address) or sender_user(mail.from_address)
    if sender is not None:
        senders[mail.from_address] = sender
    number = referenced_ticket_number(mail)
    if number:
        ticket = Ticket.objects.filter(number=number).first()
        if ticket is not None and sender is not None and may_reply(ticket, sender):
            _add_reply(row, ticket, sender, mail)
            return
        if ticket is not None and mailbox and mailbox.foreign_reply == ForeignReply.QUARANTINE:
            raise Handled(
                Outcome.QUARANTINED,
                f"reply to {number} from {mail.from_address}, who may not reply to it",
            )
    _open_ticket(row, mailbox, mail, sender, senders)


def sender_user(address: str) -> User | None:
    """The active person with this e-mail address (the oldest account if several share it)."""
    return (
        User.objects.filter(email__iexact=address, is_active=True).order_by("pk").first()
        if address
        else None
    )


def may_reply(ticket: Ticket, user: User) -> bool:
    """The ticket's requester, or an agent who works on it. A forged From gets exactly what its
    address may do, never more."""
    return ticket_perms.is_requester(ticket, user) or ticket_perms.works_on(ticket, user)


def _add_reply(row: InboundMessage, ticket: Ticket, sender: User, mail: ParsedMail) -> None:
    parts, tnef_text = expand(mail.attachments)
    body = strip_reply(mail.text or tnef_text)
    if not body:
        body = _("(attachments only)") if parts else (mail.text.strip() or _("(empty reply)"))
    body = body[: TEXT_MAX_LENGTH - 2000]
    comment = comment_add(ticket_id=ticket.pk, actor=sender, body=body)
    not_kept = add_attachments(ticket_id=ticket.pk, actor=sender, parts=parts, comment=comment)
    if not_kept:
        # The comment's text is the requester's own; the list is appended to it, not logged.
        comment.body = (comment.body + not_kept_text(not_kept))[:TEXT_MAX_LENGTH]
        comment.save(update_fields=["body"])
    row.outcome, row.ticket, row.comment = Outcome.REPLY_ADDED, ticket, comment
    row.attachments_not_kept = not_kept


def _open_ticket(
    row: InboundMessage,
    mailbox: Mailbox | None,
    mail: ParsedMail,
    sender: User | None,
    memo: dict | None = None,
) -> None:
    if sender is None:
        if User.objects.filter(email__iexact=mail.from_address, is_active=False).exists():
            # A disabled account never comes back as a new requester through mail.
            raise Handled(Outcome.REFUSED, f"the account of {mail.from_address} is disabled")
        if mailbox is not None and mailbox.unknown_sender == UnknownSender.REFUSE:
            raise Handled(Outcome.REFUSED, f"{mail.from_address} is not known at the desk")
        sender = requester_for_address(
            address=mail.from_address,
            name=mail.from_name,
            unit=mailbox.default_unit if mailbox else None,
        )
    limit = mailbox.new_tickets_per_hour if mailbox else 20
    # A poll counts a sender's tickets of the last hour once and then adds its own (the memo
    # is the polling thread's, whose uncommitted rows the query would see as well).
    memo = {} if memo is None else memo
    recent_key = ("recent", mail.from_address)
    recent = memo.get(recent_key)
    if recent is None:
        recent = InboundMessage.objects.filter(
            from_address=mail.from_address,
            outcome=Outcome.TICKET_CREATED,
            received_at__gte=timezone.now() - timedelta(hours=1),
        ).count()
    if recent >= limit:
        raise Handled(
            Outcome.RATE_LIMITED, f"{recent} new tickets from {mail.from_address} in the last hour"
        )
    parts, tnef_text = expand(mail.attachments)
    title = mail.subject.strip()[:TITLE_MAX_LENGTH] or _("(no subject)")
    description = (mail.text or tnef_text)[: TEXT_MAX_LENGTH - 4000]
    ticket, created = ticket_create(
        requester=sender,
        title=title,
        description=description,
        channel=Channel.EMAIL,
        created_by=None,
        request_type=mailbox.default_request_type if mailbox else None,
        external_source=EXTERNAL_SOURCE,
        external_ref=row.message_key,
    )
    if not created:
        raise Handled(Outcome.IGNORED_ECHO, f"already ticket {ticket.number}")
    memo[recent_key] = recent + 1
    not_kept = add_attachments(ticket_id=ticket.pk, actor=sender, parts=parts)
    if not_kept:
        ticket.description = (ticket.description + not_kept_text(not_kept))[:TEXT_MAX_LENGTH]
        ticket.save(update_fields=["description"])
    row.outcome, row.ticket, row.attachments_not_kept = Outcome.TICKET_CREATED, ticket, not_kept


def requester_for_address(*, address: str, name: str, unit=None) -> User:
    """A requester account for an address that wrote in for the first time.

    It has no usable password (the person sets one through the password reset, or signs in
    through the organisation's directory); its user name is the address when free.
    """
    user = User(username=address[:150], email=address, display_name=name[:150], unit=unit)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        # Another message from the same new address made the account at the same moment (the
        # insert waited for it to commit): use that one. Else the name belongs to someone else.
        existing = sender_user(address)
        if existing is not None:
            return existing
        user.pk = None
        user.username = f"{address.split('@', 1)[0][:100]}-{secrets.token_hex(4)}"
        user.save(force_insert=True)
    user.groups.add(Group.objects.get(name=str(Role.REQUESTER)))
    return user


def _record_bounce(row: InboundMessage, mail: ParsedMail) -> None:
    """The bounce is noted on the ticket it came from and the failing address flagged."""
    original = mail.report_original
    number = None
    addresses = list(mail.final_recipients)
    if original is not None:
        ids = message_ids(decode_header(original.get("message-id")))
        ids += message_ids(decode_header(original.get("references")))
        for message_id in ids:
            number = number or ticket_number_in_msgid(message_id)
        number = number or ticket_number_in_subject(decode_header(original.get("subject")))
        if not addresses:
            addresses = [
                a.lower()
                for _n, a in email.utils.getaddresses([decode_header(original.get("to"))])
                if "@" in a
            ][:10]
    number = number or referenced_ticket_number(mail)
    now = timezone.now()
    for address in addresses:
        flagged, created = FlaggedAddress.objects.get_or_create(
            address=address[:255], defaults={"bounce_count": 1, "last_bounce_at": now}
        )
        if not created:
            FlaggedAddress.objects.filter(pk=flagged.pk).update(
                bounce_count=F("bounce_count") + 1, last_bounce_at=now
            )
    ticket = Ticket.objects.filter(number=number).first() if number else None
    if ticket is not None:
        events.bounce_record(ticket=ticket, addresses=addresses, message_pk=row.pk)
    row.outcome, row.ticket = Outcome.BOUNCE, ticket
    row.reason = "bounce for " + (", ".join(addresses) or "an unknown address")


def _quarantine_unparsable(
    mailbox: Mailbox | None, raw: bytes, reason: str, count: bool = True
) -> tuple[InboundMessage, bool]:
    stored, truncated = _stored_raw(raw)
    key = message_key("", raw)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundMessage.objects.create(
                    mailbox=mailbox,
                    message_key=key,
                    outcome=Outcome.QUARANTINED,
                    reason=reason,
                    raw=stored,
                    raw_size=len(raw),
                    raw_truncated=truncated,
                )
        except IntegrityError:
            _count(mailbox, "", count=count)
            return InboundMessage.objects.get(message_key=key), False
        _count(mailbox, Outcome.QUARANTINED, count=count)
    return row, True


def message_ingest_oversize(
    *, mailbox: Mailbox | None, header: bytes, size: int, count: bool = True
) -> tuple[InboundMessage, bool]:
    """A message over MAILIN["MESSAGE_MAX_BYTES"]: only its header was fetched; quarantined."""
    reason = f"message too large: {size} bytes (at most {settings.MAILIN['MESSAGE_MAX_BYTES']})"
    try:
        mail = parse(header + b"\r\n")
        key, message_id, sender = mail.key, mail.message_id, mail.from_address
    except UnparsableMail:
        key, message_id, sender = message_key("", header), "", ""
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundMessage.objects.create(
                    mailbox=mailbox,
                    message_key=key,
                    message_id=message_id[:255],
                    from_address=sender[:255],
                    outcome=Outcome.QUARANTINED,
                    reason=reason,
                    raw=header[: settings.MAILIN["RAW_MAX_BYTES"]],
                    raw_size=size,
                    raw_truncated=True,
                )
        except IntegrityError:
            _count(mailbox, "", count=count)
            return InboundMessage.objects.get(message_key=key), False
        _count(mailbox, Outcome.QUARANTINED, count=count)
    return row, True


# --- quarantine -------------------------------------------------------------------------------


def _check_admin(actor: User) -> None:
    if not actor.has_perm("accounts.configure_desk"):
        raise PermissionDenied(_("Only administrators of the desk handle the quarantine."))


@transaction.atomic
def quarantine_retry(*, message_pk: int, actor: User) -> InboundMessage:
    """Process a quarantined message again (after the cause was fixed: a user created, a limit
    raised). Guards: administrators only; the message is in quarantine; its source was kept
    whole. Logs `mail.retried`; counters move from quarantined to the new outcome."""
    _check_admin(actor)
    row = InboundMessage.objects.select_for_update().get(pk=message_pk)
    if row.outcome != Outcome.QUARANTINED:
        raise ValidationError({"outcome": [_("This message is not in quarantine.")]})
    if row.raw_truncated:
        raise ValidationError(
            {"raw": [_("Only part of this message was kept; it cannot be retried.")]}
        )
    try:
        mail = parse(bytes(row.raw))
    except UnparsableMail as exc:
        row.reason = str(exc)
        row.save(update_fields=["reason"])
        events.mail_event_record(
            message=row, kind=events.RETRIED, actor=actor, data={"outcome": row.outcome}
        )
        return row
    _process(row, row.mailbox, mail)
    if row.outcome != Outcome.QUARANTINED and row.mailbox_id:
        Mailbox.objects.filter(pk=row.mailbox_id).update(
            quarantined_count=Greatest(F("quarantined_count") - 1, 0)
        )
        _count(row.mailbox, row.outcome, fetched=0)
    events.mail_event_record(
        message=row, kind=events.RETRIED, actor=actor, data={"outcome": row.outcome}
    )
    return row


@transaction.atomic
def quarantine_discard(*, message_pk: int, actor: User) -> InboundMessage:
    """Drop a quarantined message for good (kept as a discarded row, so it is never taken
    again). Guards: administrators only; in quarantine. Logs `mail.discarded`."""
    _check_admin(actor)
    row = InboundMessage.objects.select_for_update().get(pk=message_pk)
    if row.outcome != Outcome.QUARANTINED:
        raise ValidationError({"outcome": [_("This message is not in quarantine.")]})
    row.outcome = Outcome.DISCARDED
    row.save(update_fields=["outcome"])
    events.mail_event_record(message=row, kind=events.DISCARDED, actor=actor)
    return row


# --- polling bookkeeping ---------------------------------------------------------------------


def mailbox_claim_due(*, mailbox_id: int, now=None) -> bool:
    """Take a due mailbox for one poll: moves its next poll on, so a second beat (or the same
    beat run twice) does not send it again. True if this caller took it."""
    now = now or timezone.now()
    mailbox = Mailbox.objects.filter(pk=mailbox_id).only("poll_seconds").first()
    if mailbox is None:
        return False
    return bool(
        Mailbox.objects.filter(pk=mailbox_id, is_active=True)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .update(next_poll_at=now + timedelta(seconds=mailbox.poll_seconds))
    )


def mailbox_record_poll(*, mailbox_id: int, error: str = "") -> Mailbox:
    """After a poll: success resets the failure state; a failure counts, shows the mailbox as
    failing and backs off exponentially (poll interval × 2^failures, at most
    MAILIN["MAX_BACKOFF_SECONDS"]), so a down server is not hammered and nothing crash-loops."""
    now = timezone.now()
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox_id)
        mailbox.last_polled_at = now
        if error:
            mailbox.consecutive_failures += 1
            mailbox.error_count += 1
            mailbox.state = MailboxState.FAILING
            mailbox.last_error = error[:500]
            delay = min(
                mailbox.poll_seconds * 2 ** min(mailbox.consecutive_failures, 20),
                settings.MAILIN["MAX_BACKOFF_SECONDS"],
            )
        else:
            mailbox.consecutive_failures = 0
            mailbox.state = MailboxState.OK
            mailbox.last_success_at = now
            delay = mailbox.poll_seconds
        mailbox.next_poll_at = now + timedelta(seconds=delay)
        mailbox.save(
            update_fields=[
                "last_polled_at",
                "consecutive_failures",
                "error_count",
                "state",
                "last_error",
                "last_success_at",
                "next_poll_at",
            ]
        )
    return mailbox
