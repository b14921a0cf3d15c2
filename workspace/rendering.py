"""The rows of a queue table, rendered in Python.

A queue page shows 50 tickets with a dozen cells each; through the template engine that was
most of the page's server time at a million tickets (bench/bench_ui.py), so the rows are built
here with `format_html` (every value escaped) and the template only places them. The SLA badges
are the same markup and the same translated words as the sla app's `sla/_badges.html` (which
the ticket page uses), built here for the same reason.
"""

from __future__ import annotations

from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.choices import Tier
from sla.choices import BadgeState, Metric
from sla.templatetags.sla_tags import sla_duration
from tickets.choices import Status


def badge_labels() -> dict[str, str]:
    return {
        **{k: str(v) for k, v in Metric.choices},
        **{k: str(v) for k, v in BadgeState.choices},
        "due": _("due"),
    }


def _badge_text(badge) -> str:
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


def badges_html(badges, labels: dict | None = None) -> SafeString:
    """The sla app's badges (`sla/_badges.html`) for one row. `labels` (metric and state
    labels, from `badge_labels()`) saves translating them again for every row."""
    labels = labels or badge_labels()
    parts = []
    for badge in badges:
        metric = labels.get(badge.metric, badge.metric)
        title = f"{metric}: {labels.get(badge.state, badge.state)}"
        if badge.due_at:
            title += f" — {labels['due']} {timezone.localtime(badge.due_at):%Y-%m-%d %H:%M}"
        parts.append(
            format_html(
                '<span class="sla-badge sla-{}" title="{}">{}: {}</span>',
                badge.state,
                title,
                metric,
                _badge_text(badge),
            )
        )
    # Safe: every part went through format_html.
    return mark_safe(" ".join(parts))  # noqa: S308  # nosec B308 B703


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
