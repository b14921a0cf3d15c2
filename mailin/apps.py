"""E-mail as a channel: mailboxes polled over IMAP become tickets and replies.

Its own app because mail is a channel with its own peer (an IMAP server), its own state
(mailboxes with credentials, counters and back-off; every message taken, kept as the ticket's
source; a quarantine) and its own hostile input (MIME from anywhere). It turns what arrives
into calls of the public `tickets` services and never reaches into the ticket core; outbound
notification mail (the `notifications` app) only reads from it which address a ticket's mail
goes out from (`mailin.selectors.outbound_addresses`).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailinConfig(AppConfig):
    name = "mailin"
    verbose_name = _("E-mail channel")
    default_auto_field = "django.db.models.BigAutoField"
