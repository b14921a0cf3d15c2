"""The service catalogue (服务目录): what a requester can ask for, each with its own form.

Its own app, beside `catalog/` (which holds the desk's taxonomy: request types, the problem
category tree, information systems): a catalogue service is a front door built on top of that
taxonomy — a form with typed fields, mapped to a request type, category, system, team, default
impact/urgency and SLA policy. The structured answers are stored here, one-to-one with the
ticket, so the ticket core needs no migration. A catalogue request skips the text classifier:
`servicecatalog.reactions.on_ticket_created` classifies and routes it from the service's mapping,
before routing runs (`tickets/wiring.py`).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceCatalogConfig(AppConfig):
    name = "servicecatalog"
    verbose_name = _("Service catalogue")
