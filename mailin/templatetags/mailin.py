"""`{% mail_sources ticket %}`: links to the messages a ticket came from (its .eml source),
for the agents who work on it; nothing for anyone else or a ticket from another channel."""

from __future__ import annotations

from django import template

from tickets.choices import Channel

from ..selectors import ticket_source

register = template.Library()


@register.inclusion_tag("mailin/_sources.html", takes_context=True)
def mail_sources(context, ticket) -> dict:
    request = context.get("request")
    rows = []
    if request is not None and ticket.channel == Channel.EMAIL:
        rows = list(ticket_source(viewer=request.user, ticket=ticket).only("id", "received_at"))
    return {"sources": rows}
