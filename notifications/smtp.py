"""The desk's SMTP backend: Django's, with each address sanitised once per process.

Django's SMTP backend parses the sender and every recipient of every message again
(`sanitize_address`: the `email` package's address parser and IDNA encoding), ~65 µs an
address on the bench machine: for the 26,000 e-mails of 10,000 SLA breaches (issues #10 and
#11) that was more of the delivery worker's CPU than writing the messages themselves. A desk
sends from one address to a few thousand people, so each result is kept (a bounded LRU;
a malformed address raises as before and is not kept). Everything else is Django's `_send`
(Django 5.2) unchanged: the connection, TLS, timeouts and errors are the parent's.
"""

from __future__ import annotations

import smtplib
from functools import lru_cache

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as DjangoEmailBackend
from django.core.mail.message import sanitize_address


@lru_cache(maxsize=8192)
def sanitized(address: str | tuple[str, str], encoding: str) -> str:
    return sanitize_address(address, encoding)


class EmailBackend(DjangoEmailBackend):
    def _send(self, email_message) -> bool:
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitized(email_message.from_email, encoding)
        recipients = [sanitized(address, encoding) for address in email_message.recipients()]
        message = email_message.message()
        try:
            self.connection.sendmail(from_email, recipients, message.as_bytes(linesep="\r\n"))
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
