"""The rows of a queue table, rendered in Python.

A queue page shows 50 tickets with a dozen cells each; through the template engine that was
most of the page's server time at a million tickets (bench/bench_ui.py), so the rows are built
here with `format_html` (every value escaped) and the template only places them. The SLA badges
come from the sla app's one renderer (`sla_tags.badges_html`, also behind `sla/_badges.html`).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.choices import Tier
from sla.templatetags.sla_tags import badge_labels, badges_html
from tickets.choices import Status


def _or_dash(value) -> str:
    return str(value) if value else "–"


def queue_rows(rows: list, *, ticket_url: str, can_bulk: bool) -> SafeString:
    """The <tr> elements of a queue table (columns as in workspace/_queue_table.html)."""
    status_labels, tier_labels = dict(Status.choices), dict(Tier.choices)
    select_label = _("Select %(number)s")
    labels = badge_labels()
    html = []
    for ticket in rows:
        url = ticket_url.format(ticket.number)
        created = timezone.localtime(ticket.created_at)
        check = (
            format_html(
                '<td class="col-check"><input type="checkbox" class="form-check-input" '
                'name="ids" value="{}" form="bulk-form" aria-label="{}"></td>',
                ticket.pk,
                select_label % {"number": ticket.number},
            )
            if can_bulk
            else ""
        )
        unit = (
            format_html('<div class="requester-unit">{}</div>', ticket.unit.label)
            if ticket.unit_id and ticket.unit
            else ""
        )
        if ticket.team_id and ticket.team:
            tier = tier_labels.get(ticket.tier, "")
            team = format_html(
                '<td class="d-none d-md-table-cell trunc" title="{} · {}">'
                '{}<div><span class="tier tier-{}">{}</span></div></td>',
                ticket.team.label,
                tier,
                ticket.team.label,
                ticket.tier,
                tier,
            )
        else:
            # Safe: a constant.
            team = mark_safe('<td class="d-none d-md-table-cell">–</td>')  # nosec B308 B703
        badges = badges_html(ticket.badges, labels) if getattr(ticket, "badges", None) else ""
        html.append(
            format_html(
                '<tr data-href="{url}">{check}'
                '<td class="ticket-cell"><a class="ticket-link" href="{url}">'
                '<span class="font-monospace small text-body-secondary">{number}</span> '
                '<span class="title">{title}</span></a></td>'
                '<td><span class="prio prio-{priority}">{priority}</span></td>'
                '<td><span class="status status-{status}">{status_label}</span></td>'
                '<td class="d-none d-md-table-cell trunc">{requester}{unit}</td>'
                '<td class="d-none d-lg-table-cell trunc">{type}'
                '<div class="requester-unit">{system}</div></td>'
                "{team}"
                '<td class="d-none d-xl-table-cell trunc">{assignee}</td>'
                '<td class="sla-cell">{badges}</td>'
                '<td class="d-none d-sm-table-cell small text-nowrap">'
                '<time datetime="{created_iso}">{created}</time></td></tr>',
                url=url,
                check=check,
                number=ticket.number,
                title=ticket.title,
                priority=ticket.priority,
                status=ticket.status,
                status_label=status_labels.get(ticket.status, ticket.status),
                requester=ticket.requester,
                unit=unit,
                type=_or_dash(ticket.request_type and ticket.request_type.label),
                system=_or_dash(ticket.system and ticket.system.label),
                team=team,
                assignee=_or_dash(ticket.assignee),
                badges=badges,
                created_iso=created.isoformat(),
                created=created.strftime("%m-%d %H:%M"),
            )
        )
    return format_html_join("", "{}", ((row,) for row in html))
