"""Template helpers for SLA screens."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def sla_duration(value: timedelta | None) -> str:
    """A short, unsigned duration: "2 d 3 h", "3 h 5 min", "12 min", "40 s"."""
    if value is None:
        return ""
    seconds = int(abs(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min") % {"m": minutes}
    return _("%(s)d s") % {"s": secs}


@register.filter
def get_item(mapping: dict, key):
    """`mapping[key]` in a template (e.g. the badges of one ticket), or an empty list."""
    return mapping.get(key, []) if mapping else []
