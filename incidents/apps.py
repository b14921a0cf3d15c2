"""Why this app exists: a fault that hits many users is run as one major incident (PRODUCT.md
§5): the middle office declares it, links the users' tickets to it, tells them how it goes,
publishes the outage announcement (故障公告) and the recovery announcement (恢复公告) that
ends it and resolves every linked ticket together. The portal's "I am affected too" and the
status page read from it. The incident itself is a ticket (the core's `Ticket.incident` link);
this app adds what only a major incident has."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Major incidents")
