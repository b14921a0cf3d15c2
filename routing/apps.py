from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Classification, prioritisation and routing of tickets (issue #5, PRODUCT.md §4–5).
    Its reactions to the ticket core are wired in `tickets.wiring.WIRING`."""

    name = "routing"
    verbose_name = _("Routing")
