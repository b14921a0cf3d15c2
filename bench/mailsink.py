"""An e-mail backend for benchmarks: each message is written out as Django's SMTP backend
writes it for the server, then dropped.

`EMAIL_BACKEND=bench.mailsink.SerializingSink` (importable from the repository root, where the
bench starts its workers). Django's SMTP backend sanitises the sender and the recipients and
flattens the message (`message().as_bytes(linesep="\\r\\n")`) before its socket; this backend
does the same and stops there, so what a delivery costs the desk stays measured without a mail
server. Django's locmem backend, which the SLA bench used before, exists for tests: it keeps a
deep copy of every message in `mail.outbox`, which for the 26,000 e-mails of 10,000 breaches
was a fifth of the delivery worker's CPU (~48 objects copied per message) and a heap of 26,000
messages, work that neither the desk nor an SMTP server does.
"""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import sanitize_address


class SerializingSink(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            recipients = message.recipients()
            if not recipients:
                continue
            encoding = message.encoding or "utf-8"
            sanitize_address(message.from_email, encoding)
            for address in recipients:
                sanitize_address(address, encoding)
            message.message().as_bytes(linesep="\r\n")
            sent += 1
        return sent
