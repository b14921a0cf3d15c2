from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    """Service levels: timers, calendars, the sweep and escalation. Its reactions to the
    ticket core are wired in `tickets.wiring.WIRING`."""

    name = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from . import holidays

        # Imported official holiday schedules reach every web and worker process.
        holidays.connect_refresh()
