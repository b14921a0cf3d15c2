"""How a new ticket is classified, prioritised and routed: the decisions, without writes.

`classify()` reads the ticket and the configuration (rules, active models, the priority matrix)
and returns a `Decision` that says what the ticket is and why; `choose_team()` applies
PRODUCT.md §5 to it; `choose_assignee()` applies the team's assignment strategy.
`routing.services` writes the outcome through the ticket services.

Precedence, per field: what intake already set (the requester, an integration) > the first
matching admin rule > the statistical model above the confidence threshold.

The model reads the title and description plus the ticket's structured signals as tokens
(`model_text`: the chosen system and module, the channel, the requester's unit), so a request
naming a known system is classified even when its words say little. When the request type's
best guess is below the threshold but the ticket names a system, the types that start at the
same tier are pooled: if together they pass the threshold the ticket is routed to that tier
with the best type (an agent there corrects it if needed) instead of waiting in triage.

In the intake drain, `prepare_batch(ticket_ids)` runs one prediction call per target for the
whole batch; `classify()` then reads the batch's predictions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Case, IntegerField, Q, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from accounts.backends import GRANTED_SQL, grant_params
from accounts.choices import AssignmentStrategy, Tier
from accounts.models import Team, TeamMembership
from catalog.choices import Flow
from catalog.models import Category, RequestType
from tickets import reactions
from tickets.choices import OPEN_STATUSES, Channel, Impact, Priority
from tickets.models import Ticket

from . import modelstore
from .choices import Target
from .defaults import default_priority
from .models import ClassificationRule, PriorityMatrix, fold

logger = logging.getLogger(__name__)

# Rules see the whole text; the model reads the start of it (the title and the first
# paragraphs carry the signal), which keeps a 100 KB description as fast as a short one.
MODEL_TEXT_LIMIT = 10_000
REGEX_TEXT_LIMIT = 50_000
# Least-loaded assignment counts open tickets weighted by priority.
LOAD_WEIGHTS = {Priority.P1: 4, Priority.P2: 3, Priority.P3: 2, Priority.P4: 1}


def classification_text(ticket: Ticket) -> str:
    return f"{ticket.title}\n{ticket.description}".strip()


def signal_tokens(ticket: Ticket) -> list[str]:
    """The ticket's structured signals as model tokens (ids, so no query is needed)."""
    from .classifier.text import signal_token

    tokens = [signal_token("chan", ticket.channel)] if ticket.channel else []
    for kind, value in (
        ("sys", ticket.system_id),
        ("mod", ticket.module_id),
        ("unit", ticket.unit_id),
    ):
        if value:
            tokens.append(signal_token(kind, value))
    return tokens


def model_text(ticket: Ticket) -> str:
    """What the model reads (and what training examples store): the start of the title and
    description, then a line of signal tokens."""
    text = classification_text(ticket)[:MODEL_TEXT_LIMIT]
    tokens = signal_tokens(ticket)
    return f"{text}\n{' '.join(tokens)}" if tokens else text


def has_words(text: str) -> bool:
    """Letters, digits or CJK characters; emoji, punctuation and white space are not words."""
    return any(ch.isalnum() for ch in text)


def confidence_threshold() -> float:
    return float(settings.SERVICEDESK["CLASSIFIER_CONFIDENCE_THRESHOLD"])


def model_threshold(row) -> float:
    """A version's own threshold (from the desk's target precision) or the desk-wide one."""
    return float(row.threshold) if row.threshold is not None else confidence_threshold()


@dataclass
class Decision:
    """What automatic classification concluded about one ticket, and why."""

    impact: int
    urgency: int
    priority: str = Priority.P3
    request_type: RequestType | None = None
    category: Category | None = None
    team: Team | None = None
    team_source: str = ""
    confidence: float | None = None
    rule: ClassificationRule | None = None
    reasons: list[str] = field(default_factory=list)  # what decided each field
    notes: list[str] = field(default_factory=list)  # what could not be decided, and why
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    threshold: float = 0.5

    @property
    def summary(self) -> str:
        return "; ".join([*self.reasons, *self.notes])

    def as_data(self) -> dict[str, Any]:
        """The JSON detail written to the log entries (model versions included)."""
        return {
            "rule": {"id": self.rule.pk, "name": self.rule.name} if self.rule else None,
            "models": self.models,
            "threshold": self.threshold,
            "request_type": self.request_type.code if self.request_type else None,
            "category": self.category.code if self.category else None,
            "team": self.team.code if self.team else None,
            "impact": self.impact,
            "urgency": self.urgency,
            "priority": self.priority,
            "reasons": self.reasons,
            "notes": self.notes,
        }


# --- rules ----------------------------------------------------------------------------------


def rule_matches(
    rule: ClassificationRule, *, text: str, folded: str, channel: str, system_id: int | None
) -> bool:
    """Every condition the rule names must hold; a rule without conditions never matches."""
    keywords = rule.keyword_list
    if not (keywords or rule.regex or rule.channel or rule.system_id):
        return False
    if rule.channel and rule.channel != channel:
        return False
    if rule.system_id and rule.system_id != system_id:
        return False
    if keywords and not any(keyword in folded for keyword in keywords):
        return False
    if rule.regex:
        try:
            pattern = rule.compiled_regex()
        except Exception:  # saved before validation existed, or edited in the database
            logger.warning("classification rule %s has an invalid regex", rule.pk)
            return False
        if pattern is None or not pattern.search(text[:REGEX_TEXT_LIMIT]):
            return False
    return True


def active_rules() -> list[ClassificationRule]:
    """The active rules in the order they are tried (read once per intake batch)."""
    return reactions.memo(
        "routing.rules",
        lambda: list(
            ClassificationRule.objects.filter(is_active=True)
            .select_related("set_request_type", "set_category", "set_team")
            .order_by("order", "id")
        ),
    )


def first_matching_rule(ticket: Ticket, text: str) -> ClassificationRule | None:
    folded = fold(text)
    for rule in active_rules():
        if rule_matches(
            rule, text=text, folded=folded, channel=ticket.channel, system_id=ticket.system_id
        ):
            return rule
    return None


# --- the model ------------------------------------------------------------------------------


def resolve_label(target: str, label: str):
    """The active taxonomy object a model label names, or None (retired or never known)."""
    return reactions.memo(("routing.label", target, label), lambda: _load_label(target, label))


def _load_label(target: str, label: str):
    if target == Target.REQUEST_TYPE:
        return RequestType.objects.filter(code=label, is_active=True).first()
    if target == Target.CATEGORY:
        return Category.objects.filter(code=label, is_active=True).first()
    return Team.objects.filter(code=label).first()


def _target_name(target: str) -> str:
    names = {
        Target.REQUEST_TYPE: _("request type"),
        Target.CATEGORY: _("category"),
        Target.TEAM: _("team"),
    }
    return str(names[target])


def _batch_predictions() -> dict:
    """(target, model id, ticket id) → (Prediction, tier shares) for the current intake batch
    (filled by `prepare_batch`; outside a batch a fresh, empty dict)."""
    return reactions.memo("routing.batch_predictions", dict)


def prepare_batch(ticket_ids: list[int]) -> int:
    """Classify a batch of new tickets with one prediction call per target; call it inside
    `reactions.batch()` before the batch's TICKET_CREATED reactions. Returns how many texts
    were predicted. Never raises: on any failure the tickets are predicted one by one."""
    try:
        models = modelstore.active_models()
        if not models:
            return 0
        # Whole rows: deferring fields makes the ticket model load them one query each.
        tickets = list(Ticket.objects.filter(pk__in=ticket_ids))
        store = _batch_predictions()
        done = 0
        texts = [model_text(ticket) for ticket in tickets]
        for target, row in models.items():
            if target == Target.REQUEST_TYPE:
                predictions, probabilities = modelstore.predict_detailed(row, texts)
                shares = _tier_shares(row, probabilities)
            else:
                predictions, shares = modelstore.predict_many(row, texts), None
            for index, (ticket, prediction) in enumerate(zip(tickets, predictions, strict=True)):
                tiers = shares[index] if shares is not None else None
                store[(target, row.pk, ticket.pk)] = (prediction, tiers)
            done += len(texts)
        return done
    except Exception:
        logger.exception("batch classification failed; tickets are classified one by one")
        return 0


def _tier_shares(row, probabilities) -> list[dict[str, float]]:
    """Per text: the probability of each entry tier (request types pooled by their tier)."""
    labels = modelstore.load(row).classes_
    entry_tiers = reactions.memo(
        ("routing.entry_tiers", row.pk),
        lambda: dict(
            RequestType.objects.filter(code__in=labels, is_active=True).values_list(
                "code", "entry_tier"
            )
        ),
    )
    tiers = [entry_tiers.get(label) for label in labels]
    shares = []
    for row_probabilities in probabilities:
        pooled: dict[str, float] = {}
        for tier, probability in zip(tiers, row_probabilities, strict=True):
            if tier is not None:
                pooled[tier] = pooled.get(tier, 0.0) + float(probability)
        shares.append(pooled)
    return shares


def _prediction(row, target: str, ticket: Ticket, text: str):
    cached = _batch_predictions().get((target, row.pk, ticket.pk))
    if cached is not None:
        return cached
    if target == Target.REQUEST_TYPE and ticket.system_id:
        predictions, probabilities = modelstore.predict_detailed(row, [text])
        return predictions[0], _tier_shares(row, probabilities)[0]
    return modelstore.predict(row, text), None


def _predict(
    decision: Decision, target: str, text: str, models: dict, ticket: Ticket | None = None
) -> Any:
    """Ask the active model for `target`; return the accepted object or None (noting why)."""
    row = models.get(target)
    name = _target_name(target)
    if row is None:
        decision.notes.append(_("no active model for the %(target)s") % {"target": name})
        return None
    try:
        if ticket is None:
            prediction, tiers = modelstore.predict(row, text), None
        else:
            prediction, tiers = _prediction(row, target, ticket, text)
    except Exception as exc:  # a corrupt or missing file must not stop the ticket
        logger.warning("classifier %s v%s failed: %s", row.target, row.version, exc)
        decision.models[target] = {"version": row.version, "error": str(exc)[:300]}
        decision.notes.append(
            _("model v%(version)d for the %(target)s could not be used: %(error)s")
            % {"version": row.version, "target": name, "error": str(exc)[:200]}
        )
        return None
    label, confidence = str(prediction.label), float(prediction.confidence)
    threshold = model_threshold(row)
    decision.models[target] = {
        "version": row.version,
        "label": label,
        "confidence": round(confidence, 4),
        "threshold": round(threshold, 4),
    }
    if target == Target.REQUEST_TYPE:
        decision.confidence = round(confidence, 4)
    said = _("model v%(version)d: %(label)s %(confidence).2f") % {
        "version": row.version,
        "label": label,
        "confidence": confidence,
    }
    value = resolve_label(target, label)
    if value is None:
        decision.notes.append(
            _("%(said)s, which is not a known %(target)s") % {"said": said, "target": name}
        )
        return None
    if confidence < threshold:
        pooled = _pooled_tier(value, tiers, threshold, ticket)
        if pooled is not None:
            decision.models[target]["tier_share"] = round(pooled, 4)
            decision.reasons.append(
                _(
                    "%(said)s; the system is known and the types starting at the %(tier)s "
                    "together reach %(share).2f: routed there"
                )
                % {"said": said, "tier": _tier_label(value.entry_tier), "share": pooled}
            )
            return value
        decision.notes.append(
            _("%(said)s is below the threshold %(threshold).2f")
            % {"said": said, "threshold": threshold}
        )
        return None
    decision.reasons.append(said)
    return value


def _tier_label(tier: str) -> str:
    return str(Tier(tier).label).lower() if tier in Tier.values else tier


def _pooled_tier(value, tiers: dict | None, threshold: float, ticket: Ticket | None):
    """With a known system: the pooled probability of the best type's entry tier, if it
    passes the threshold (else None)."""
    if ticket is None or not ticket.system_id or not tiers:
        return None
    share = tiers.get(getattr(value, "entry_tier", None), 0.0)
    return share if share >= threshold else None


# --- classification -------------------------------------------------------------------------


def priority_for(impact: int, urgency: int) -> str:
    cells = reactions.memo(
        "routing.matrix",
        lambda: {(c.impact, c.urgency): c.priority for c in PriorityMatrix.objects.all()},
    )
    return cells.get((impact, urgency)) or default_priority(impact, urgency)


def classify(ticket: Ticket) -> Decision:
    """Decide request type, category, team, impact, urgency and priority of a new ticket."""
    decision = Decision(
        impact=ticket.impact, urgency=ticket.urgency, threshold=confidence_threshold()
    )
    text = classification_text(ticket)
    if ticket.request_type_id:
        decision.request_type, decision.confidence = ticket.request_type, 1.0
        decision.reasons.append(_("request type given at intake"))
    if ticket.category_id:
        decision.category = ticket.category
        decision.reasons.append(_("category given at intake"))

    rule = first_matching_rule(ticket, text)
    if rule is None:
        decision.notes.append(_("no rule matched"))
    else:
        decision.rule = rule
        decision.reasons.append(_("rule '%(name)s' matched") % {"name": rule.name})
        if rule.set_request_type_id and decision.request_type is None:
            decision.request_type, decision.confidence = rule.set_request_type, 1.0
        if rule.set_category_id and decision.category is None:
            decision.category = rule.set_category
        if rule.set_team_id:
            decision.team, decision.team_source = rule.set_team, "rule"
        # The most severe of what the requester said and what the rule says: a rule never
        # downgrades a requester's own assessment.
        if rule.set_impact:
            decision.impact = min(decision.impact, rule.set_impact)
        if rule.set_urgency:
            decision.urgency = min(decision.urgency, rule.set_urgency)

    missing = [
        target
        for target, value in (
            (Target.REQUEST_TYPE, decision.request_type),
            (Target.CATEGORY, decision.category),
            (Target.TEAM, decision.team),
        )
        if value is None
    ]
    if missing:
        if not has_words(text) and not ticket.system_id:
            decision.notes.append(_("the text has no words to classify"))
        else:
            models = modelstore.active_models()
            for target in missing:
                value = _predict(decision, target, model_text(ticket), models, ticket)
                if value is None:
                    continue
                if target == Target.REQUEST_TYPE:
                    decision.request_type = value
                elif target == Target.CATEGORY:
                    decision.category = value
                else:
                    decision.team, decision.team_source = value, "model"

    request_type = decision.request_type
    system = ticket.system if ticket.system_id else None
    if (
        request_type is not None
        and request_type.flow == Flow.FAULT
        and system is not None
        and system.is_core
        and decision.impact > Impact.EXTENSIVE
    ):
        decision.impact = Impact.EXTENSIVE
        decision.reasons.append(
            _("a fault of the core system %(system)s: impact raised to extensive")
            % {"system": system.label}
        )
    decision.priority = priority_for(decision.impact, decision.urgency)
    decision.reasons.append(
        _("priority %(priority)s from impact %(impact)d × urgency %(urgency)d")
        % {"priority": decision.priority, "impact": decision.impact, "urgency": decision.urgency}
    )
    _cap_requester_priority(ticket, decision)
    return decision


def _cap_requester_priority(ticket: Ticket, decision: Decision) -> None:
    """What a requester states alone (the impact and urgency on their own request, unchanged by
    any rule) raises a ticket to `REQUESTER_PRIORITY_CAP` (P2) at most: P1 and its 30-minute
    clock need the front office or a rule (alerts, core-system faults)."""
    by_requester = ticket.created_by_id in (None, ticket.requester_id) and ticket.channel in (
        Channel.PORTAL,
        Channel.API,
        Channel.EMAIL,
    )
    raised_by_a_rule = (decision.impact, decision.urgency) != (ticket.impact, ticket.urgency)
    cap = settings.SERVICECATALOG.get("REQUESTER_PRIORITY_CAP", Priority.P2)
    order = list(Priority.values)
    if by_requester and not raised_by_a_rule and order.index(decision.priority) < order.index(cap):
        decision.reasons.append(
            _("priority capped at %(cap)s: stated by the requester alone") % {"cap": cap}
        )
        decision.priority = cap


# --- routing (PRODUCT.md §5) ----------------------------------------------------------------


def default_team(tier: str) -> Team | None:
    """The team a tier's tickets go to when nothing more specific is known: the on-duty team
    of that tier, else the first by code."""
    return reactions.memo(
        ("routing.default_team", tier),
        lambda: Team.objects.filter(tier=tier).order_by("-is_on_duty", "code").first(),
    )


def team_ids() -> list[int]:
    """Every team's id (read once per intake batch)."""
    return reactions.memo(
        "routing.team_ids", lambda: list(Team.objects.order_by("pk").values_list("pk", flat=True))
    )


def on_duty_middle_team() -> Team | None:
    return default_team(Tier.MIDDLE)


def choose_team(ticket: Ticket, decision: Decision) -> tuple[Team | None, str]:
    """The team (and so the tier) a classified ticket is queued at, and why."""
    request_type = decision.request_type
    assert request_type is not None
    tier = request_type.entry_tier
    tier_label = str(Tier(tier).label).lower() if tier in Tier.values else tier
    if (
        ticket.channel == Channel.ALERT
        and request_type.flow == Flow.FAULT
        and decision.priority == Priority.P1
    ):
        team = on_duty_middle_team()
        if team is not None:
            return team, _(
                "P1 fault from monitoring: straight to the on-duty middle office, %(team)s"
            ) % {"team": team.label}
    suggested = decision.team
    if suggested is not None:
        source = _("the rule") if decision.team_source == "rule" else _("the model")
        if suggested.tier == tier:
            return suggested, _("%(type)s goes to the %(tier)s; %(team)s chosen by %(source)s") % {
                "type": request_type.label,
                "tier": tier_label,
                "team": suggested.label,
                "source": source,
            }
        decision.notes.append(
            _("%(team)s (suggested by %(source)s) is not at the %(tier)s")
            % {"team": suggested.label, "source": source, "tier": tier_label}
        )
    team = default_team(tier)
    if team is None:
        return None, _("there is no team at the %(tier)s") % {"tier": tier_label}
    return team, _("%(type)s goes to the %(tier)s first: %(team)s") % {
        "type": request_type.label,
        "tier": tier_label,
        "team": team.label,
    }


# --- assignment within a team ---------------------------------------------------------------


def eligible_memberships(team: Team) -> list[TeamMembership]:
    """Members who can take tickets now: active agents not marked away, by user id."""
    # The capability checked per member in the same statement (accounts.backends.GRANTED_SQL):
    # `with_perm` checked every person of the desk, 7–23 ms per team and batch at 20,000.
    granted = GRANTED_SQL.format(person='"accounts_teammembership"."user_id"')
    return list(
        TeamMembership.objects.filter(team=team, user__is_active=True, user__is_away=False)
        # The text is fixed (no input in it); the capability goes in as parameters.
        .alias(granted=RawSQL(granted, grant_params("accounts.handle_tickets"), BooleanField()))  # noqa: S611  # nosec B611
        .filter(Q(user__is_superuser=True) | Q(granted=True))
        .select_related("user")
        .order_by("user_id")
    )


def workloads(user_ids: list[int]) -> dict[int, int]:
    """Open tickets assigned to each person, weighted by priority (P1 counts 4 … P4 counts 1)."""
    weight = Case(
        *[When(priority=p, then=Value(w)) for p, w in LOAD_WEIGHTS.items()],
        default=Value(1),
        output_field=IntegerField(),
    )
    rows = (
        Ticket.objects.filter(assignee_id__in=user_ids, status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(load=Sum(weight))
    )
    loads = dict.fromkeys(user_ids, 0)
    loads.update({row["assignee_id"]: row["load"] for row in rows})
    return loads


def ticket_skill_keys(ticket: Ticket) -> set[str]:
    """What a skill can name: the category (and its parents), system, module, request type."""
    keys: set[str] = set()
    if ticket.category_id:
        keys.add(ticket.category.code)
        keys.update(ticket.category.get_ancestors().values_list("code", flat=True))
    if ticket.system_id:
        keys.add(ticket.system.code)
    if ticket.module_id:
        keys.add(ticket.module.code)
    if ticket.request_type_id:
        keys.add(ticket.request_type.code)
    return {fold(key) for key in keys}


def _least_loaded(
    members: list[TeamMembership], loads: dict[int, int] | None = None
) -> tuple[TeamMembership, int]:
    loads = loads if loads is not None else workloads([m.user_id for m in members])
    chosen = min(members, key=lambda m: (loads[m.user_id], m.user_id))
    return chosen, loads[chosen.user_id]


def choose_assignee(
    ticket: Ticket,
    team: Team,
    *,
    last_assignee_id: int | None,
    members: list[TeamMembership] | None = None,
    loads: dict[int, int] | None = None,
) -> tuple[object | None, str]:
    """The person the team's strategy gives the ticket to (None: stays in the queue), and why.

    The caller holds the team's round-robin cursor lock, so concurrent choices for one team
    happen one after the other. An intake batch passes the team's eligible `members` and
    their `loads`, read once and kept up to date as it assigns.
    """
    strategy = team.assignment_strategy
    if strategy == AssignmentStrategy.MANUAL:
        return None, _("%(team)s assigns by hand: left in the queue") % {"team": team.label}
    members = eligible_memberships(team) if members is None else members
    if not members:
        return None, _(
            "nobody in %(team)s can take it now (away or no agents): left in the queue"
        ) % {"team": team.label}
    if strategy == AssignmentStrategy.LEAST_LOADED:
        chosen, load = _least_loaded(members, loads)
        return chosen.user, _("least loaded in %(team)s: %(user)s (load %(load)d)") % {
            "team": team.label,
            "user": chosen.user,
            "load": load,
        }
    if strategy == AssignmentStrategy.SKILL:
        keys = ticket_skill_keys(ticket)
        scored = [(len(keys & {fold(s) for s in m.skills}), m) for m in members]
        best = max(score for score, _m in scored)
        if best > 0:
            chosen, load = _least_loaded([m for score, m in scored if score == best])
            matched = sorted(keys & {fold(s) for s in chosen.skills})
            return chosen.user, _("skill match in %(team)s (%(skills)s): %(user)s") % {
                "team": team.label,
                "skills": ", ".join(matched),
                "user": chosen.user,
            }
        chosen, load = _least_loaded(members)
        return chosen.user, _("no skill match in %(team)s; least loaded: %(user)s") % {
            "team": team.label,
            "user": chosen.user,
        }
    # Round robin: the next member after the last one given a ticket, by user id.
    after = [m for m in members if last_assignee_id is not None and m.user_id > last_assignee_id]
    chosen = after[0] if after else members[0]
    return chosen.user, _("round robin in %(team)s: %(user)s") % {
        "team": team.label,
        "user": chosen.user,
    }
