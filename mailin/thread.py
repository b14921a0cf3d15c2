"""Which ticket a message answers: by the desk's Message-IDs, then by the subject tag.

Outgoing desk mail about ticket N has the thread root `<N@DOMAIN>` and later mails
`<N.nID@DOMAIN>`, with In-Reply-To/References pointing at the root, and `[N]` in the subject.
A reply carries one of them back. Only the desk's own domain counts in a Message-ID; whether
the sender may reply to that ticket is decided by the services, not here.
"""

from __future__ import annotations

import re

from django.conf import settings

from .parse import ParsedMail


def _number_pattern() -> str:
    prefix = re.escape(settings.SERVICEDESK["TICKET_NUMBER_PREFIX"])
    return rf"{prefix}-\d{{4}}-\d{{6,}}"


def ticket_number_in_msgid(message_id: str) -> str | None:
    local, at, domain = (message_id or "").strip("<> ").rpartition("@")
    if not at or domain.lower() != settings.SERVICEDESK["MAIL_DOMAIN"].strip().lower():
        return None
    match = re.match(rf"({_number_pattern()})(?:$|\.)", local)
    return match.group(1) if match else None


def ticket_number_in_subject(subject: str) -> str | None:
    match = re.search(rf"\[({_number_pattern()})\]", subject or "")
    return match.group(1) if match else None


def referenced_ticket_number(mail: ParsedMail) -> str | None:
    """The ticket number this message replies to, or None for a new conversation."""
    for message_id in [*mail.in_reply_to, *reversed(mail.references)]:
        number = ticket_number_in_msgid(message_id)
        if number:
            return number
    return ticket_number_in_subject(mail.subject)
