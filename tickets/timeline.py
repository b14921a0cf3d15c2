"""Turning a ticket's operation log into the lines a person reads on a timeline.

Both the requester's timeline and the agent's history use it: each event becomes a headline
("Handed to Application experts", "Status: Queued → In progress"), the reason or message
written with it, who did it and when. Ids in old/new values are resolved with one query per
kind of object, so a long history costs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from accounts.choices import Tier
from accounts.models import Team, User
from catalog.models import Category, InformationSystem, RequestType

from .choices import ActorKind, Channel, EventKind, PendingReason, Status

_KIND_LABELS = dict(EventKind.choices)
_LOOKUPS = {"team": Team, "assignee": User, "system": InformationSystem}
_LOOKUPS.update({"request_type": RequestType, "category": Category})


@dataclass
class TimelineEntry:
    kind: str
    headline: str
    message: str
    actor: str
    actor_kind: str
    at: datetime
    is_public: bool
    tone: str  # a CSS modifier: status, assign, reply, note, sla, done, info


def _choice(choices, value: Any) -> str:
    if value in (None, ""):
        return _("none")
    return str(dict(choices).get(value, value))


def _label(obj) -> str:
    return getattr(obj, "label", None) or str(obj)


def timeline_entries(events, *, viewer_is_staff: bool, known=()) -> list[TimelineEntry]:
    """`known`: objects the caller already has (the ticket's team and assignee, the viewer),
    named without a query; usually the whole history names nothing else."""
    events = list(events)
    names = resolve_names(events, known)
    entries = [entry_of(event, names, viewer_is_staff) for event in events]
    for entry, repeated in zip(entries, repeated_reasons(events), strict=True):
        if repeated:
            entry.message = ""
    return entries


def resolve_names(events, known=()) -> dict[str, dict[int, str]]:
    """The names of the teams, people, systems, types and categories the events' old and new
    values point at, by field: one query per kind of object not in `known`."""
    wanted: dict[str, set[int]] = {name: set() for name in _LOOKUPS}
    for event in events:
        if event.field in wanted:
            for value in (event.old_value, event.new_value):
                if isinstance(value, int):
                    wanted[event.field].add(value)
    names: dict[str, dict[int, str]] = {}
    for field, ids in wanted.items():
        if ids:
            model = _LOOKUPS[field]
            names[field] = {
                obj.pk: _label(obj) for obj in known if type(obj) is model and obj.pk in ids
            }
            missing = ids - names[field].keys()
            if missing:
                rows = model.objects.filter(pk__in=missing)
                names[field].update((obj.pk, _label(obj)) for obj in rows)
    return names


def repeated_reasons(events) -> list[bool]:
    """Per event, whether its text is the one just shown: one action logs one entry per
    changed field (status, tier, team), each with the same reason, shown once, on the first."""
    repeated, previous = [], None
    for event in events:
        key = (event.actor_id, event.message, event.created_at.replace(microsecond=0))
        repeated.append(
            previous == key and bool(event.message) and event.kind != EventKind.COMMENTED
        )
        previous = key
    return repeated


def named_values(event, names) -> tuple | None:
    """The names an event's entry shows for its old and new values (None: it shows none)."""
    if event.field not in _LOOKUPS:
        return None
    looked_up = names.get(event.field, {})
    return (looked_up.get(event.old_value), looked_up.get(event.new_value))


def _value(event, names, value) -> str:
    if value in (None, ""):
        return _("none")
    if event.field in _LOOKUPS:
        return names.get(event.field, {}).get(value, f"#{value}")
    return str(value)


def entry_of(event, names, viewer_is_staff: bool) -> TimelineEntry:
    """The entry of one event, its ids named by `names` (`resolve_names`)."""
    kind, field = event.kind, event.field
    old, new = event.old_value, event.new_value
    tone = "info"
    transition = (event.data or {}).get("transition", "")
    if kind == EventKind.CREATED:
        channel = _choice(Channel.choices, (event.data or {}).get("channel"))
        headline = _("Request received via %(channel)s") % {"channel": channel}
        tone = "status"
    elif kind == EventKind.STATUS_CHANGED:
        headline = _("Status: %(old)s → %(new)s") % {
            "old": _choice(Status.choices, old),
            "new": _choice(Status.choices, new),
        }
        reason = (event.data or {}).get("pending_reason")
        if new == Status.PENDING and reason:
            headline += " · " + _choice(PendingReason.choices, reason)
        tone = "done" if new in (Status.RESOLVED, Status.CLOSED) else "status"
    elif kind == EventKind.ASSIGNED:
        if new is None:
            headline = _("No longer assigned to a person")
        else:
            headline = _("Assigned to %(name)s") % {"name": _value(event, names, new)}
        tone = "assign"
    elif kind == EventKind.TEAM_CHANGED:
        if transition == "escalate":
            headline = _("Escalated to %(team)s") % {"team": _value(event, names, new)}
        else:
            headline = _("Handed to %(team)s") % {"team": _value(event, names, new)}
        tone = "assign"
    elif kind == EventKind.TIER_CHANGED:
        headline = _("Now handled by the %(tier)s") % {"tier": _choice(Tier.choices, new).lower()}
        tone = "assign"
    elif kind == EventKind.PRIORITY_CHANGED:
        headline = _("Priority: %(old)s → %(new)s") % {"old": old or "–", "new": new}
        tone = "info"
    elif field in ("request_type", "category", "system"):
        label = _KIND_LABELS.get(kind, kind)
        headline = f"{label}: {_value(event, names, old)} → {_value(event, names, new)}"
    elif kind == EventKind.COMMENTED:
        headline = _("Reply")
        tone = "reply"
    elif kind == EventKind.NOTE_ADDED:
        headline = _("Internal note")
        tone = "note"
    elif kind == EventKind.SURVEY:
        headline = _("Rated the service %(score)s / 5") % {"score": new}
        tone = "done"
    elif kind.startswith("sla."):
        headline = str(_KIND_LABELS.get(kind, kind))
        tone = "sla"
    else:
        headline = str(_KIND_LABELS.get(kind, kind))
    if event.actor_kind == ActorKind.SYSTEM or event.actor is None:
        actor = _("Service desk")
    elif event.actor_kind == ActorKind.REQUESTER and not viewer_is_staff:
        actor = _("You")
    else:
        actor = str(event.actor)
    return TimelineEntry(
        kind=kind,
        headline=headline,
        message=event.message,
        actor=actor,
        actor_kind=event.actor_kind,
        at=event.created_at,
        is_public=event.is_public,
        tone=tone,
    )


def public_text(event) -> bool:
    """Whether the text logged with an event may be shown to the requester: their own words,
    public replies, and what the desk addressed to them (a question, a resolution, why the
    request was cancelled); never an agent's internal reason for a change."""
    data = event.data or {}
    return (
        event.kind not in _CHANGE_KINDS  # replies, attachments, merges: public by their kind
        or event.actor_kind == ActorKind.REQUESTER
        or bool(data.get("message_public"))
    )


# The log entries of a change of the ticket's fields: their text is the reason typed with it.
_CHANGE_KINDS = {
    EventKind.STATUS_CHANGED,
    EventKind.ASSIGNED,
    EventKind.TEAM_CHANGED,
    EventKind.TIER_CHANGED,
    EventKind.PRIORITY_CHANGED,
    EventKind.TYPE_CHANGED,
    EventKind.CATEGORY_CHANGED,
    EventKind.SYSTEM_CHANGED,
}


# --- the requester's milestones -----------------------------------------------------------------


def requester_milestones(events) -> list[TimelineEntry]:
    """The requester's view of the log: a few milestones in plain words (received, with a
    team, waiting for you, fix being verified, please confirm, closed ...), never the desk's
    routing plumbing or internal reasons. `events` are the public events, oldest first."""
    events = list(events)
    teams = {
        event.new_value
        for event in events
        if event.kind == EventKind.TEAM_CHANGED and isinstance(event.new_value, int)
    }
    team_names = {t.pk: _label(t) for t in Team.objects.filter(pk__in=teams)} if teams else {}
    entries: list[TimelineEntry] = []
    last_team = None
    for event in events:
        milestone = _milestone(event, team_names)
        if milestone is None:
            continue
        headline, tone, show_text = milestone
        if event.kind == EventKind.TEAM_CHANGED:
            if headline == last_team:
                continue
            last_team = headline
        entries.append(
            TimelineEntry(
                kind=event.kind,
                headline=headline,
                message=event.message if show_text and public_text(event) else "",
                actor=_("You") if event.actor_kind == ActorKind.REQUESTER else _("Service desk"),
                actor_kind=event.actor_kind,
                at=event.created_at,
                is_public=True,
                tone=tone,
            )
        )
    return entries


def _milestone(event, team_names) -> tuple[str, str, bool] | None:
    """(headline, tone, show the event's text) of a milestone, or None for plumbing."""
    kind, old, new = event.kind, event.old_value, event.new_value
    if kind == EventKind.CREATED:
        return _("Request received"), "status", False
    if kind == EventKind.TEAM_CHANGED and isinstance(new, int):
        return _("With %(team)s") % {"team": team_names.get(new, "")}, "assign", False
    if kind == EventKind.SURVEY:
        return _("You rated the service %(score)s / 5") % {"score": new}, "done", False
    if kind == EventKind.COMMENTED:
        if event.actor_kind == ActorKind.REQUESTER:
            return _("Your reply"), "reply", True
        return _("Reply from the service desk"), "reply", True
    if kind == EventKind.ATTACHMENT_ADDED:
        return _("File added"), "info", True
    if kind != EventKind.STATUS_CHANGED:
        return None
    reason = (event.data or {}).get("pending_reason")
    if new == Status.PENDING and reason == PendingReason.REQUESTER:
        return _("Waiting for you"), "status", True
    if new == Status.PENDING:
        return _("Waiting for a third party"), "status", False
    if new == Status.PENDING_VERIFICATION:
        return _("Fix being verified"), "status", False
    if new == Status.RESOLVED:
        return _("Fixed — please confirm"), "done", True
    if new == Status.CLOSED:
        return _("Closed"), "done", True
    if new == Status.CANCELLED:
        return _("Cancelled"), "done", True
    if new == Status.IN_PROGRESS and old in (Status.RESOLVED, Status.CLOSED):
        return _("Reopened"), "status", True
    if new == Status.IN_PROGRESS and old == Status.PENDING:
        return _("Being worked on again"), "status", False
    if new == Status.IN_PROGRESS and old == Status.QUEUED:
        return _("Being worked on"), "status", False
    return None
