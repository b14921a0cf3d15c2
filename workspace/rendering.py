"""The rows of a queue table, rendered in Python.

A queue page shows 50 tickets with a dozen cells each; through the template engine that was
most of the page's server time at a million tickets (bench/bench_ui.py), so the rows are built
here with `format_html` (every value escaped) and the template only places them. The SLA badges
come from the sla app's one renderer (`sla_tags.badges_html`, also behind `sla/_badges.html`).
"""

from __future__ import annotations

import html

from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.choices import Tier
from sla.templatetags.sla_tags import badge_labels, badges_html
from tickets.choices import Status

from .reference import Labels


def _or_dash(value) -> str:
    return str(value) if value else "–"


def _esc(value) -> str:
    """Django's `conditional_escape` without its lazy-string wrapper (the same characters,
    through the same `html.escape`): a queue page escapes ~700 values."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def queue_rows(rows: list, *, labels: Labels, ticket_url: str, can_bulk: bool) -> SafeString:
    """The <tr> elements of a queue table (columns as in workspace/_queue_table.html) from
    `tickets.selectors.TicketRow`s, their team, type, system and unit named by `labels`. Every
    value is escaped (the labels once per process, in `labels.escaped`); the markup around
    them is constant."""
    escape = html.escape
    # Translated and escaped once per page, not once per row.
    statuses = {value: escape(str(text)) for value, text in Status.choices}
    tiers = {value: escape(str(text)) for value, text in Tier.choices}
    teams, units = labels.escaped["teams"], labels.escaped["units"]
    request_types, systems = labels.escaped["request_types"], labels.escaped["systems"]
    select_label = _("Select %(number)s")
    badge_words = badge_labels()
    out = []
    for ticket in rows:
        number = escape(ticket.number)
        url = escape(ticket_url.format(ticket.number))
        created = timezone.localtime(ticket.created_at)
        check = (
            '<td class="col-check"><input type="checkbox" class="form-check-input" '
            f'name="ids" value="{ticket.pk:d}" form="bulk-form" '
            f'aria-label="{escape(select_label % {"number": ticket.number})}"></td>'
            if can_bulk
            else ""
        )
        unit = units.get(ticket.unit_id) if ticket.unit_id else None
        unit = f'<div class="requester-unit">{unit}</div>' if unit is not None else ""
        team = teams.get(ticket.team_id) if ticket.team_id else None
        if team is not None:
            tier = tiers.get(ticket.tier, "")
            team = (
                f'<td class="d-none d-md-table-cell trunc" title="{team} · {tier}">'
                f'{team}<div><span class="tier tier-{escape(ticket.tier)}">{tier}</span>'
                "</div></td>"
            )
        else:
            team = '<td class="d-none d-md-table-cell">–</td>'
        badges = badges_html(ticket.badges, badge_words) if ticket.badges else ""
        priority, status = escape(ticket.priority), escape(ticket.status)
        assignee = escape(ticket.assignee) if ticket.assignee else "–"
        # isoformat and strftime("%m-%d %H:%M") are digits and punctuation: nothing to escape.
        out.append(
            f'<tr data-href="{url}">{check}'
            f'<td class="ticket-cell"><a class="ticket-link" href="{url}">'
            f'<span class="font-monospace small text-body-secondary">{number}</span> '
            f'<span class="title">{escape(ticket.title)}</span></a></td>'
            f'<td><span class="prio prio-{priority}">{priority}</span></td>'
            f'<td><span class="status status-{status}">'
            f"{statuses.get(ticket.status, status)}</span></td>"
            f'<td class="d-none d-md-table-cell trunc">{escape(ticket.requester)}{unit}</td>'
            f'<td class="d-none d-lg-table-cell trunc">'
            f"{request_types.get(ticket.request_type_id) or '–'}"
            f'<div class="requester-unit">'
            f"{systems.get(ticket.system_id) or '–'}</div></td>"
            f"{team}"
            f'<td class="d-none d-xl-table-cell trunc">{assignee}</td>'
            f'<td class="sla-cell">{badges}</td>'
            '<td class="d-none d-sm-table-cell small text-nowrap">'
            f'<time datetime="{created.isoformat()}">'
            f"{created.strftime('%m-%d %H:%M')}</time></td></tr>"
        )
    # Safe: every value above was escaped, the rest is constant markup.
    return mark_safe("".join(out))  # noqa: S308  # nosec B308 B703


# --- the ticket page's history and conversation ----------------------------------------------
# Built here for the same reason as the queue rows: 20 log entries and their replies were ~1,700
# template variable lookups per ticket page (bench/bench_pages.py). The markup is the one the
# templates had (tests/ui/test_ticket_page.py reads it).


def _time(at, fmt: str) -> SafeString:
    local = timezone.localtime(at)
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), local.strftime(fmt))


def history_html(entries) -> SafeString:
    """The <li> items of the ticket's history (the operation log, as `timeline_entries`)."""
    internal = format_html(' <span class="badge text-bg-secondary">{}</span>', _("internal"))
    return format_html_join(
        "\n",
        '<li class="timeline-item tone-{}{}"><div class="timeline-head"><strong>{}</strong>{}'
        ' <span class="text-body-secondary small">· {} · {}</span></div>{}</li>',
        (
            (
                entry.tone,
                "" if entry.is_public else " internal",
                entry.headline,
                "" if entry.is_public else internal,
                entry.actor,
                _time(entry.at, "%Y-%m-%d %H:%M:%S"),
                format_html('<div class="timeline-body">{}</div>', linebreaksbr(entry.message))
                if entry.message
                else "",
            )
            for entry in entries
        ),
    )


def comments_html(comments, ticket) -> SafeString:
    """The <article>s of the conversation: replies, the requester's messages, internal notes."""
    if not comments:
        return format_html(
            '<p class="text-body-secondary small">{}</p>', _("No replies or notes yet.")
        )
    note = format_html('<span class="badge text-bg-warning">{}</span>', _("Internal note"))
    by_requester = format_html('<span class="badge text-bg-info">{}</span>', _("Requester"))
    reply = format_html('<span class="badge text-bg-light">{}</span>', _("Public reply"))
    rows = []
    for comment in comments:
        if comment.is_internal:
            css, badge = " comment-internal", note
        elif comment.author_id == ticket.requester_id:
            css, badge = " comment-requester", by_requester
        else:
            css, badge = "", reply
        rows.append(
            (
                css,
                comment.author,
                badge,
                _time(comment.created_at, "%Y-%m-%d %H:%M"),
                linebreaksbr(comment.body),
            )
        )
    return format_html_join(
        "\n",
        '<article class="comment{}"><header class="small"><strong>{}</strong> {}'
        ' <span class="text-body-secondary">· {}</span></header>'
        '<div class="text-break">{}</div></article>',
        rows,
    )


def search_rows(results, *, labels: Labels, ticket_url: str) -> SafeString:
    """The <li> items of the search page (`workspace/search.html`): 50 ranked hits with their
    highlighted title and snippet (already escaped by `tickets.search.highlight`), their
    team named by `labels`."""
    escape = html.escape
    statuses = {value: escape(str(text)) for value, text in Status.choices}
    teams = labels.escaped["teams"]
    out = []
    for hit in results:
        ticket = hit.ticket
        number = escape(ticket.number)
        created = timezone.localtime(ticket.created_at)
        team = teams.get(ticket.team_id) if ticket.team_id else None
        team = f" · {team}" if team is not None else ""
        snippet = (
            f'\n    <div class="small snippet">{_esc(hit.snippet_html)}</div>'
            if hit.snippet_html
            else ""
        )
        status = escape(ticket.status)
        # isoformat and strftime("%Y-%m-%d %H:%M") are digits and punctuation: nothing to escape.
        out.append(
            f'<li class="mb-3" data-ticket="{number}">\n'
            f'    <a href="{escape(ticket_url.format(ticket.number))}">'
            f'<span class="font-monospace small text-body-secondary">{number}</span>\n'
            f'      <span class="title">{_esc(hit.title_html)}</span></a>\n'
            f'    <span class="status status-{status} ms-1">'
            f"{statuses.get(ticket.status, status)}</span>\n"
            f'    <div class="small text-body-secondary">{escape(ticket.requester)}{team} · '
            f'<time datetime="{created.isoformat()}">'
            f"{created.strftime('%Y-%m-%d %H:%M')}</time></div>{snippet}\n  </li>"
        )
    # Safe: every value was escaped (the highlights are SafeStrings built escaped).
    return mark_safe("\n  ".join(out))  # noqa: S308  # nosec B308 B703
