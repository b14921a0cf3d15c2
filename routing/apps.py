from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Classification, prioritisation and routing of tickets (issue #5, PRODUCT.md §4–5)."""

    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from tickets import reactions

        from .reactions import on_ticket_created

        reactions.connect(reactions.TICKET_CREATED, on_ticket_created)
