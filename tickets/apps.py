from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # Import every reaction of the wiring table now: a wrong path fails at start-up.
        from servicedesk import health

        from . import retries, wiring

        wiring.load()
        # Failed reactions waiting for an administrator (admin → Failed reactions).
        health.register("reactions_parked", retries.parked_count)
