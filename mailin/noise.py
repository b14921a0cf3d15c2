"""Loop and noise protection: which messages must never open a ticket or get an answer.

Read only from headers the sender's mail system sets for exactly this purpose (RFC 3834
Auto-Submitted, Precedence, the vendors' X-Autoreply/X-Autorespond), delivery reports, and
the desk's own Message-ID format or origin header coming back. Nothing here makes a message
more trusted; it can only make it ignored.
"""

from __future__ import annotations

import re

from django.conf import settings

from .parse import ParsedMail

_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|maildelivery)@", re.I)


def desk_domain() -> str:
    return settings.SERVICEDESK["MAIL_DOMAIN"].strip().lower()


def is_desk_message_id(message_id: str) -> bool:
    """A Message-ID the desk made: <N@DOMAIN> or <N.nID@DOMAIN> with N a ticket number."""
    from .thread import ticket_number_in_msgid

    return ticket_number_in_msgid(message_id) is not None


def auto_reason(mail: ParsedMail) -> str:
    """Why this message is automatic mail (empty when a person wrote it)."""
    headers = mail.headers
    auto_submitted = headers.get("auto-submitted", "").split(";", 1)[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond"):
        if name in headers:
            return f"{name}: {headers[name][:40]}"
    return ""


def is_echo(mail: ParsedMail) -> bool:
    """The desk's own message came back (a forwarding loop, a list, a misconfigured alias)."""
    origin = mail.headers.get("x-servicedesk-origin", "").strip().lower()
    return origin == desk_domain() or is_desk_message_id(mail.message_id)


def is_bounce(mail: ParsedMail) -> bool:
    """A delivery failure report (DSN) or a mailer daemon writing."""
    return (
        mail.is_delivery_report
        or bool(_DAEMON.search(mail.from_address))
        or mail.headers.get("return-path", "").strip() == "<>"
    )
