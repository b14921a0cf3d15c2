from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from tickets import reactions

        from . import holidays

        # Imported official holiday schedules reach every web and worker process.
        holidays.connect_refresh()

        from . import reactions as sla_reactions

        reactions.connect(reactions.TICKET_CREATED, sla_reactions.on_ticket_created)
        reactions.connect(reactions.STATUS_CHANGED, sla_reactions.on_status_changed)
        reactions.connect(reactions.PRIORITY_CHANGED, sla_reactions.on_priority_changed)
        reactions.connect(reactions.PUBLIC_REPLY_ADDED, sla_reactions.on_public_reply)
        reactions.connect(reactions.ASSIGNMENT_CHANGED, sla_reactions.on_assignment_changed)
