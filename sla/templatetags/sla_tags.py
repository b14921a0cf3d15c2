"""Template helpers for SLA screens."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
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


# The SLA badge's words and markup, in one place: the ticket page and the portal through
# `sla/_badges.html` ({% sla_badges %}), the queue rows through workspace/rendering.py (which
# builds rows in Python for speed). The number is always business time on the clock (see
# sla.selectors.TimerBadge); the hover title gives the deadline in the viewer's time zone.


def badge_labels() -> dict[str, str]:
    """Metric and state labels and the fixed words, translated once per page."""
    from sla.choices import BadgeState, Metric

    return {
        **{k: str(v) for k, v in Metric.choices},
        **{k: str(v) for k, v in BadgeState.choices},
        "due": _("due"),
        "zone": timezone.get_current_timezone_name(),
        "paused_note": _("no deadline while paused; the time left is kept"),
        "business_note": _("time left counts business hours"),
    }


def badge_text(badge) -> str:
    """The visible words of one badge: "2 h 5 min left", "paused, 22 h 30 min left"."""
    if badge.state == "met":
        return _("met")
    if badge.state == "paused":
        text = _("paused")
        if badge.remaining:
            text += ", " + _("%(left)s left") % {"left": sla_duration(badge.remaining)}
        return text
    if badge.state == "breached":
        text = _("breached")
        if badge.remaining is not None and badge.is_overdue:
            text += " (" + _("%(late)s late") % {"late": sla_duration(badge.remaining)} + ")"
        return text
    if badge.remaining is None:
        return ""
    if badge.is_overdue:
        text = _("%(late)s late") % {"late": sla_duration(badge.remaining)}
    else:
        text = _("%(left)s left") % {"left": sla_duration(badge.remaining)}
    return text + (" ⚠" if badge.state == "warned" else "")


def badge_title(badge, labels: dict) -> str:
    """The hover text: state, the deadline in the viewer's zone (labelled), what the number
    counts."""
    title = f"{labels.get(badge.metric, badge.metric)}: {labels.get(badge.state, badge.state)}"
    if badge.due_at:
        due = timezone.localtime(badge.due_at)
        title += f" — {labels['due']} {due:%Y-%m-%d %H:%M} ({labels['zone']})"
    elif badge.state == "paused":
        title += f" — {labels['paused_note']}"
    if badge.remaining is not None:
        title += f" · {labels['business_note']}"
    return title


def badges_html(badges, labels: dict | None = None) -> SafeString:
    """The badges of one ticket. `labels` (from `badge_labels()`) saves translating them again
    for every row of a queue."""
    labels = labels or badge_labels()
    parts = [
        format_html(
            '<span class="sla-badge sla-{}" title="{}">{}: {}</span>',
            badge.state,
            badge_title(badge, labels),
            labels.get(badge.metric, badge.metric),
            badge_text(badge),
        )
        for badge in badges
    ]
    # Safe: every part went through format_html.
    return mark_safe(" ".join(parts))  # noqa: S308  # nosec B308 B703


@register.simple_tag
def sla_badges(badges) -> SafeString:
    """{% sla_badges badges %}: the badges of one ticket (a list of TimerBadge)."""
    return badges_html(badges or [])


@register.simple_tag
def sla_ticket_rows(tickets, badges: dict) -> SafeString:
    """{% sla_ticket_rows tickets badges %}: the dashboard's breached / at-risk rows (number and
    title, priority, team, assignee, badges), built here rather than by a template loop: the
    labels are translated once per list instead of once per row, and 100 rows of template
    lookups were a fifth of the page. The same markup as the loop it replaced
    (tests/sla/test_screens.py compares them)."""
    labels = badge_labels()
    rows = []
    for ticket in tickets:
        team = ticket.team.label if ticket.team_id and ticket.team else ""
        assignee = str(ticket.assignee) if ticket.assignee_id and ticket.assignee else "—"
        rows.append(
            f"<tr>\n    <td>{escape(str(ticket.number))} {escape(str(ticket.title))}</td>"
            f"<td>{escape(str(ticket.priority))}</td>\n"
            f"    <td>{escape(team or '—')}</td><td>{escape(assignee)}</td>\n"
            f"    <td>{badges_html(badges.get(ticket.pk, []) if badges else [], labels)}\n</td>\n"
            "  </tr>"
        )
    # Safe: every value went through html.escape, the badges through format_html.
    return mark_safe("".join(rows))  # noqa: S308  # nosec B308 B703
