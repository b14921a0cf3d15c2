"""The rows of a queue table, rendered in Python.

A queue page shows 50 tickets with a dozen cells each; through the template engine that was
most of the page's server time at a million tickets (bench/bench_ui.py), so the rows are built
here with `format_html` (every value escaped) and the template only places them. The SLA badges
come from the sla app's one renderer (`sla_tags.badges_html`, also behind `sla/_badges.html`).
"""

from __future__ import annotations

import html
import unicodedata
from urllib.parse import quote

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.choices import Tier
from servicedesk.templatetags.desk import filesize
from sla.templatetags.sla_tags import badge_labels, badges_html
from tickets import timeline
from tickets.choices import Channel, Impact, PendingReason, Status, Urgency

from .reference import Labels


def _or_dash(value) -> str:
    return str(value) if value else "–"


def _esc(value) -> str:
    """Django's `conditional_escape` without its lazy-string wrapper (the same characters,
    through the same `html.escape`): a queue page escapes ~700 values."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


# Rendered queue rows, per process, by everything a row shows: the row's values (its own
# columns and its people's names, `TicketRow.values`), the language, the time zone, the
# reference lists' fingerprint, whether it has a check box and the ticket URL. Any change to
# the ticket or a name it shows is another key, so a stale row cannot be shown; which rows a
# viewer gets is decided by the query, never by this cache. The SLA cell is not kept: its
# badges ("2 h left") are rendered on every page and placed between the two halves.
_ROWS: dict[tuple, tuple[str, str]] = {}
_ROWS_MAX = 4_000  # ~2.5 kB with its key: ~10 MB per process at most, cleared when full


def queue_rows(rows: list, *, labels: Labels, ticket_url: str, can_bulk: bool) -> SafeString:
    """The <tr> elements of a queue table (columns as in workspace/_queue_table.html) from
    `tickets.selectors.TicketRow`s, their team, type, system and unit named by `labels`. Every
    value is escaped (the labels once per process, in `labels.escaped`); the markup around
    them is constant. A row rendered before for the same values in the same language and
    time zone is taken from `_ROWS` (a fifth of a queue page's time was rendering its rows)."""
    context = (
        get_language(),
        timezone.get_current_timezone(),
        labels.fingerprint,
        can_bulk,
        ticket_url,
    )
    badge_words = badge_labels() if any(ticket.badges for ticket in rows) else None
    missing = None
    out = []
    for ticket in rows:
        key = (ticket.values, context)
        halves = _ROWS.get(key)
        if halves is None:
            if missing is None:
                missing = _RowRenderer(labels, ticket_url, can_bulk)
            halves = missing.render(ticket)
            if len(_ROWS) >= _ROWS_MAX:
                _ROWS.clear()
            _ROWS[key] = halves
        badges = badges_html(ticket.badges, badge_words) if ticket.badges else ""
        out.append(f"{halves[0]}{badges}{halves[1]}")
    # Safe: every value in the halves was escaped, the badges by sla's renderer.
    return mark_safe("".join(out))  # noqa: S308  # nosec B308 B703


class _RowRenderer:
    """Renders queue rows of one page (its labels translated and escaped once)."""

    def __init__(self, labels: Labels, ticket_url: str, can_bulk: bool) -> None:
        escape = html.escape
        self.statuses = {value: escape(str(text)) for value, text in Status.choices}
        self.tiers = {value: escape(str(text)) for value, text in Tier.choices}
        self.labels, self.ticket_url, self.can_bulk = labels.escaped, ticket_url, can_bulk
        self.select_label = _("Select %(number)s")

    def render(self, ticket) -> tuple[str, str]:
        """The row's markup before and after the SLA cell's content."""
        escape = html.escape
        labels = self.labels
        number = escape(ticket.number)
        url = escape(self.ticket_url.format(ticket.number))
        created = timezone.localtime(ticket.created_at)
        check = (
            '<td class="col-check"><input type="checkbox" class="form-check-input" '
            f'name="ids" value="{ticket.pk:d}" form="bulk-form" '
            f'aria-label="{escape(self.select_label % {"number": ticket.number})}"></td>'
            if self.can_bulk
            else ""
        )
        unit = labels["units"].get(ticket.unit_id) if ticket.unit_id else None
        unit = f'<div class="requester-unit">{unit}</div>' if unit is not None else ""
        team = labels["teams"].get(ticket.team_id) if ticket.team_id else None
        if team is not None:
            tier = self.tiers.get(ticket.tier, "")
            team = (
                f'<td class="d-none d-md-table-cell trunc" title="{team} · {tier}">'
                f'{team}<div><span class="tier tier-{escape(ticket.tier)}">{tier}</span>'
                "</div></td>"
            )
        else:
            team = '<td class="d-none d-md-table-cell">–</td>'
        priority, status = escape(ticket.priority), escape(ticket.status)
        assignee = escape(ticket.assignee) if ticket.assignee else "–"
        request_type = labels["request_types"].get(ticket.request_type_id) or "–"
        system = labels["systems"].get(ticket.system_id) or "–"
        # isoformat and strftime("%m-%d %H:%M") are digits and punctuation: nothing to escape.
        before = (
            f'<tr data-href="{url}">{check}'
            f'<td class="ticket-cell"><a class="ticket-link" href="{url}">'
            f'<span class="font-monospace small text-body-secondary">{number}</span> '
            f'<span class="title">{escape(ticket.title)}</span></a></td>'
            f'<td><span class="prio prio-{priority}">{priority}</span></td>'
            f'<td><span class="status status-{status}">'
            f"{self.statuses.get(ticket.status, status)}</span></td>"
            f'<td class="d-none d-md-table-cell trunc">{escape(ticket.requester)}{unit}</td>'
            f'<td class="d-none d-lg-table-cell trunc">{request_type}'
            f'<div class="requester-unit">{system}</div></td>'
            f"{team}"
            f'<td class="d-none d-xl-table-cell trunc">{assignee}</td>'
            '<td class="sla-cell">'
        )
        after = (
            "</td>"
            '<td class="d-none d-sm-table-cell small text-nowrap">'
            f'<time datetime="{created.isoformat()}">'
            f"{created.strftime('%m-%d %H:%M')}</time></td></tr>"
        )
        return before, after


# --- the ticket page's history and conversation ----------------------------------------------
# Built here for the same reason as the queue rows: 20 log entries and their replies were ~1,700
# template variable lookups per ticket page (bench/bench_pages.py). The markup is the one the
# templates had (tests/ui/test_ticket_page.py reads it).


def _time(at, fmt: str) -> str:
    local = timezone.localtime(at)
    return f'<time datetime="{_esc(local.isoformat())}">{_esc(local.strftime(fmt))}</time>'


# Rendered log entries and replies, per process. A log entry is never changed once written
# (a database trigger refuses it) and a reply has no edit path, so an entry's markup depends
# only on what identifies the row (id and time) and on what the key adds: the language, the
# time zone, whether the viewer is desk staff, and the names it shows (its author's, and the
# team or person it names), which can change and are therefore read on every page. Which
# entries a viewer gets (internal notes only for staff) is the query's decision, not the
# cache's.
_ENTRIES: dict[tuple, str] = {}
_ENTRIES_MAX = 10_000  # ~0.8 kB with its key: ~8 MB per process at most, cleared when full


def _remember(key: tuple, markup: str) -> str:
    if len(_ENTRIES) >= _ENTRIES_MAX:
        _ENTRIES.clear()
    _ENTRIES[key] = markup
    return markup


def history_html(events, *, viewer_is_staff: bool, known=()) -> SafeString:
    """The <li> items of the ticket's history: its log as `tickets.timeline` words it, each
    item rendered once per process for its key (see `_ENTRIES`). Every value goes through
    `_esc` (as in `queue_rows`: `format_html` cost more than the escaping for 20 entries)."""
    names = timeline.resolve_names(events, known)
    context = ("log", get_language(), timezone.get_current_timezone(), viewer_is_staff)
    internal = None
    items = []
    for event, repeated in zip(events, timeline.repeated_reasons(events), strict=True):
        actor = event.actor
        key = (
            event.pk,
            event.created_at,
            context,
            event.actor_kind,
            None if actor is None else str(actor),
            timeline.named_values(event, names),
            repeated,
        )
        markup = _ENTRIES.get(key)
        if markup is None:
            entry = timeline.entry_of(event, names, viewer_is_staff)
            if repeated:
                entry.message = ""
            if internal is None:
                internal = f' <span class="badge text-bg-secondary">{_esc(_("internal"))}</span>'
            markup = _remember(key, _history_item(entry, internal))
        items.append(markup)
    # Safe: every value went through _esc (linebreaksbr escapes its text), the rest is markup.
    return mark_safe("\n".join(items))  # noqa: S308  # nosec B308 B703


def _history_item(entry, internal: str) -> str:
    body = (
        f'<div class="timeline-body">{linebreaksbr(entry.message)}</div>' if entry.message else ""
    )
    return (
        f'<li class="timeline-item tone-{_esc(entry.tone)}'
        f'{"" if entry.is_public else " internal"}"><div class="timeline-head">'
        f"<strong>{_esc(entry.headline)}</strong>{'' if entry.is_public else internal}"
        f' <span class="text-body-secondary small">· {_esc(entry.actor)} · '
        f"{_time(entry.at, '%Y-%m-%d %H:%M:%S')}</span></div>{body}</li>"
    )


def comments_html(comments, ticket) -> SafeString:
    """The <article>s of the conversation: replies, the requester's messages, internal notes,
    each rendered once per process for its key (see `_ENTRIES`)."""
    if not comments:
        return format_html(
            '<p class="text-body-secondary small">{}</p>', _("No replies or notes yet.")
        )
    context = ("comment", get_language(), timezone.get_current_timezone())
    rows = []
    for comment in comments:
        if comment.is_internal:
            role = "note"
        elif comment.author_id == ticket.requester_id:
            role = "requester"
        else:
            role = "reply"
        key = (comment.pk, comment.created_at, context, role, str(comment.author))
        markup = _ENTRIES.get(key)
        if markup is None:
            markup = _remember(key, _comment_item(comment, role))
        rows.append(markup)
    # Safe: every value went through _esc (linebreaksbr escapes its text), the rest is markup.
    return mark_safe("\n".join(rows))  # noqa: S308  # nosec B308 B703


def _comment_item(comment, role: str) -> str:
    if role == "note":
        css, badge = " comment-internal", ("warning", _("Internal note"))
    elif role == "requester":
        css, badge = " comment-requester", ("info", _("Requester"))
    else:
        css, badge = "", ("light", _("Public reply"))
    return (
        f'<article class="comment{css}"><header class="small"><strong>'
        f'{_esc(comment.author)}</strong> <span class="badge text-bg-{badge[0]}">'
        f"{_esc(badge[1])}</span>"
        f' <span class="text-body-secondary">· {_time(comment.created_at, "%Y-%m-%d %H:%M")}'
        f'</span></header><div class="text-break">{linebreaksbr(comment.body)}</div></article>'
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


# --- the ticket page's header, actions and side panel -----------------------------------------
# Built here for the same reason: through the template engine these parts (a dozen `{% url %}`,
# twenty `{% translate %}`, ten `get_*_display`) were most of what was left of the page's
# template time (bench/bench_pages.py). The markup is the template's, byte for byte.

_CHOICES = {
    "status": dict(Status.choices),
    "pending_reason": dict(PendingReason.choices),
    "tier": dict(Tier.choices),
    "impact": dict(Impact.choices),
    "urgency": dict(Urgency.choices),
    "channel": dict(Channel.choices),
}


def _display(ticket, name: str) -> str:
    """`get_<name>_display()` without its per-call hashing of the choices."""
    value = getattr(ticket, name)
    return _esc(_CHOICES[name].get(value, value))


def _day_time(at) -> str:
    """The `date:"Y-m-d H:i"` filter: local time."""
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else ""


def _csrf_input(csrf_token: str) -> str:
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{_esc(csrf_token)}">'


def ticket_header_html(ticket, *, viewer, badges: str, following: bool, csrf_token: str) -> str:
    """The page's <header>: number, title, status, priority, team, assignee, clocks, follow."""
    declare = ""
    if viewer.has_perm("accounts.manage_incidents") and ticket.is_open and not ticket.incident_id:
        declare = (
            f'<a class="btn btn-outline-danger btn-sm mb-1" href="{reverse("incidents:declare")}'
            f'?ticket={_esc(ticket.number)}" data-testid="declare-from-ticket">'
            f"{_esc(_('Declare a major incident'))}</a>"
        )
    pending = (
        f'<span class="text-body-secondary">{_display(ticket, "pending_reason")}</span>'
        if ticket.status == Status.PENDING
        else ""
    )
    team = (
        f"<span>{_esc(ticket.team.label)} "
        f'<span class="tier tier-{_esc(ticket.tier)}">{_display(ticket, "tier")}</span></span>'
        if ticket.team
        else ""
    )
    triage = (
        f'<span class="badge text-bg-warning">{_esc(_("Needs manual triage"))}</span>'
        if ticket.needs_triage
        else ""
    )
    if following:
        follow = (
            '<input type="hidden" name="follow" value="0">\n    <button type="submit" '
            'class="btn btn-sm btn-outline-secondary" data-testid="unfollow" '
            f'title="{_esc(_("You are told when this ticket changes"))}">'
            f"★ {_esc(_('Following'))}</button>\n    "
        )
    else:
        follow = (
            '<button type="submit" class="btn btn-sm btn-outline-primary" data-testid="follow">'
            f"☆ {_esc(_('Follow'))}</button>"
        )
    return (
        '<header class="ticket-header d-flex flex-wrap justify-content-between '
        'align-items-start gap-2 mb-2">\n  <div class="min-w-0">\n'
        f'    <div class="small text-body-secondary"><a href="{reverse("workspace:queue")}">'
        f'{_esc(_("Queues"))}</a> / <span class="font-monospace">{_esc(ticket.number)}</span>'
        f'</div>\n    <h1 class="h4 mb-1 text-break">{_esc(ticket.title)}</h1>\n'
        f'    {declare}\n    <div class="d-flex flex-wrap gap-2 align-items-center small">\n'
        f'      <span class="status status-{_esc(ticket.status)}">{_display(ticket, "status")}'
        f"</span>\n      {pending}\n"
        f'      <span class="prio prio-{_esc(ticket.priority)}">{_esc(ticket.priority)}</span>\n'
        f"      {team}\n"
        f"      <span>{_esc(_('Assignee'))}: <strong>"
        f"{_esc(ticket.assignee or _('nobody'))}</strong></span>\n      {triage}\n"
        f'      <span class="sla-inline">{badges}</span>\n    </div>\n  </div>\n'
        f'  <form method="post" action="{reverse("workspace:follow", args=[ticket.number])}" '
        f'class="follow-form">{_csrf_input(csrf_token)}\n    {follow}\n  </form>\n</header>'
    )


_ACTION_CLASSES = {
    "resolve": "btn-success",
    "verify": "btn-success",
    "cancel": "btn-outline-danger",
    "reject": "btn-outline-danger",
}


def ticket_actions_html(actions, *, version: str, open_action: str, csrf_token: str, form_html):
    """The actions <section> (empty without actions): a button per action (a form of its own
    for a direct one), and a panel per other action that fetches its form when opened, or holds
    it already (`form_html(name, label, form, url)`: sent back with errors, or opened without
    JavaScript)."""
    if not actions:
        return ""
    version_html, version_query = _esc(version), _esc(quote(version, safe="/"))
    buttons, panels = [], []
    for name, label, form, direct, url in actions:
        name_html, label_html, url_html = _esc(name), _esc(label), _esc(url)
        if direct:
            buttons.append(
                f'\n    <form method="post" action="{url_html}">{_csrf_input(csrf_token)}'
                f'<input type="hidden" name="version" value="{version_html}">\n'
                '      <button type="submit" class="btn btn-sm btn-primary" '
                f'data-action="{name_html}" data-testid="action-{name_html}">{label_html}'
                "</button></form>\n    "
            )
            continue
        is_open = open_action == name
        buttons.append(
            f'\n    <a href="{url_html}" role="button" class="btn btn-sm '
            f'{_ACTION_CLASSES.get(name, "btn-outline-primary")}" data-bs-toggle="collapse" '
            f'data-bs-target="#action-{name_html}" aria-expanded="{"true" if is_open else "false"}"'
            f' aria-controls="action-{name_html}" data-action="{name_html}" '
            f'data-testid="action-{name_html}">{label_html}…</a>\n    '
        )
        fetch = (
            ""
            if form
            else f' hx-get="{url_html}?version={version_query}" hx-trigger="show.bs.collapse once"'
        )
        panels.append(
            f'\n  <div class="collapse{" show" if is_open else ""}" id="action-{name_html}"{fetch}>'
            f"\n    {form_html(name, label, form, url) if form else ''}\n  </div>\n  "
        )
    section = _esc(_("Actions"))
    return (
        f'\n<section class="actions card card-body py-2 mb-3" aria-label="{section}" '
        'data-testid="actions">\n  <div class="d-flex flex-wrap gap-2">\n  '
        + "".join(f"\n    {button}\n  " for button in buttons)
        + "\n  </div>\n  "
        + "".join(panels)
        + "\n</section>\n"
    )


def _ticket_link(number: str, url: str = "") -> str:
    """A link to a ticket's page; `url`: its address with "{}" for the number (reversed once
    for a list of links: `reverse` per link was a third of the side panel's time)."""
    url = url.format(number) if url else reverse("workspace:ticket", args=[number])
    return f'<a href="{_esc(url)}">{_esc(number)}</a>'


def _truncate(text: str, length: int) -> str:
    """`Truncator(text).chars(length)`, without its work for the usual short, normalised
    title (which it returns as it is)."""
    if len(text) <= length and unicodedata.is_normalized("NFC", text):
        return text
    return Truncator(text).chars(length)


def _details_html(ticket, mail_sources: str) -> str:
    def row(label: str, value: str) -> str:
        return f"<dt>{_esc(label)}</dt><dd>{value}</dd>"

    def label_or_dash(obj) -> str:
        return _esc(obj.label) if obj else "–"

    system = "–"
    if ticket.system:
        system = _esc(ticket.system.label)
        if ticket.module:
            system += f" › {_esc(ticket.module.label)}"
    channel = _display(ticket, "channel")
    if ticket.created_by and ticket.created_by_id != ticket.requester_id:
        channel += " · " + _("logged by %(name)s") % {"name": _esc(ticket.created_by)}
    confidence = ""
    if ticket.classification_confidence is not None:
        # `{% widthratio value 1 100 %}`
        percent = round(float(ticket.classification_confidence) * 100)
        confidence = row(_("Confidence"), f"{percent} %")
    lines = [
        row(_("Type"), label_or_dash(ticket.request_type)),
        row(_("Category"), label_or_dash(ticket.category)),
        row(_("System"), system),
        row(_("Impact"), _display(ticket, "impact")),
        row(_("Urgency"), _display(ticket, "urgency")),
        row(_("Channel"), channel + mail_sources),
        confidence,
        row(_("Created"), _day_time(ticket.created_at)),
        row(_("First response"), _day_time(ticket.first_response_at) or "–"),
        row(_("Resolved"), _day_time(ticket.resolved_at)) if ticket.resolved_at else "",
        row(_("Reopened"), f"{ticket.reopen_count}×") if ticket.reopen_count else "",
        row(_("Incident"), _ticket_link(ticket.incident.number)) if ticket.incident else "",
        row(_("Merged into"), _ticket_link(ticket.merged_into.number))
        if ticket.merged_into
        else "",
    ]
    return "\n        ".join(lines)


def ticket_aside_html(ticket, *, other_tickets, attachments, mail_sources: str = "") -> str:
    """The side panel: the service catalogue's answers (fetched), details, the requester and
    their other requests, the files."""
    requester = ticket.requester
    contact = ""
    if ticket.unit:
        contact += f"{_esc(ticket.unit.label)}<br>"
    if requester.email:
        email = _esc(requester.email)
        contact += f'<a href="mailto:{email}">{email}</a><br>'
    if requester.phone:
        contact += f"☎ {_esc(requester.phone)}"
    others = ""
    if other_tickets:
        ticket_url = reverse("workspace:ticket", args=["NUMBER"]).replace("NUMBER", "{}")
        status_labels = _CHOICES["status"]
        items = "".join(
            f"<li>{_ticket_link(other.number, ticket_url)} {_esc(_truncate(other.title, 40))} "
            f'<span class="status status-{_esc(other.status)}">'
            f"{_esc(status_labels.get(other.status, other.status))}</span></li>"
            for other in other_tickets
        )
        others = (
            f'<h3 class="h6 mt-3 small text-body-secondary">{_esc(_("Other requests"))}</h3>\n'
            f'      <ul class="list-unstyled small mb-0">{items}</ul>'
        )
    if attachments:
        internal = f", {_esc(_('internal'))}"
        items = "".join(
            f'<li><a href="{_esc(reverse("tickets:attachment_download", args=[file.pk]))}">'
            f'{_esc(file.filename)}</a> <span class="text-body-secondary">'
            f"({_esc(filesize(file.size))}{internal if file.is_internal else ''})</span></li>"
            for file in attachments
        )
        files = f'<ul class="list-unstyled small mb-0">{items}</ul>\n      '
    else:
        files = f'<p class="small text-body-secondary mb-0">{_esc(_("No attachments."))}</p>'
    answers = reverse("servicecatalog:answers", args=[ticket.number])
    return (
        f'    <div hx-get="{_esc(answers)}" hx-trigger="load" hx-swap="outerHTML"></div>\n'
        '    <section class="card shadow-sm mb-3"><div class="card-body">\n'
        f'      <h2 class="h6">{_esc(_("Details"))}</h2>\n'
        '      <dl class="details details-grid mb-0">\n'
        f"        {_details_html(ticket, mail_sources)}\n"
        "      </dl>\n    </div></section>\n"
        '    <section class="card shadow-sm mb-3"><div class="card-body">\n'
        f'      <h2 class="h6">{_esc(_("Requester"))}</h2>\n'
        f'      <div class="fw-semibold">{_esc(requester)}</div>\n'
        f'      <div class="small text-body-secondary">{contact}</div>\n'
        f"      {others}\n    </div></section>\n"
        '    <section class="card shadow-sm mb-3"><div class="card-body">\n'
        f'      <h2 class="h6">{_esc(_("Attachments"))}</h2>\n'
        f"      {files}\n    </div></section>"
    )
