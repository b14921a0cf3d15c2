"""An e-mail backend for benchmarks: the desk's SMTP backend with the mail server taken away.

`EMAIL_BACKEND=bench.mailsink.SerializingSink` (importable from the repository root, where the
benches start their workers). Every message goes through `notifications.smtp.EmailBackend`'s
own `_send` (the addresses sanitised, the message flattened to bytes with CRLF line ends) and
is handed to a connection that drops it, so what a delivery costs the desk stays measured
without a mail server and without the SMTP round trip. A revision without the desk's backend
(the base of `bench/ab.py`) gets Django's SMTP backend, which does the same steps.

Django's locmem backend, which the SLA bench used before 2026-12-07, exists for tests: it keeps
a deep copy of every message in `mail.outbox` (a growing heap of 26,000 messages for 10,000
breaches) and skips what the SMTP backend does, among it the address parsing that cost more than
the copy (docs/benchmarks.md, 2026-12-07).
"""

from __future__ import annotations

try:
    from notifications.smtp import EmailBackend
except ImportError:  # an earlier revision, measured by bench/ab.py
    from django.core.mail.backends.smtp import EmailBackend


class _NoServer:
    """What the SMTP backend calls on its connection, answering as a server that accepted."""

    def sendmail(self, from_addr, to_addrs, msg) -> dict:
        return {}

    def quit(self) -> None:
        return None


class SerializingSink(EmailBackend):
    def open(self) -> bool:
        if self.connection is not None:
            return False
        self.connection = _NoServer()
        return True

    def close(self) -> None:
        self.connection = None
