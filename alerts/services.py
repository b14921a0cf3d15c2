"""Writes of the alerts app: integrations and their credentials, and turning a delivery into
tickets.

`delivery_receive` stores one delivery in one transaction: each alert is looked up by its
occurrence key (integration, fingerprint, startsAt) under a row lock, so a repeat or a retried
delivery updates the alert and its ticket instead of opening another, also when two deliveries
race (the unique key and `ticket_create`'s external reference make the loser find the winner's
rows). Storm control bounds the tickets: alerts of one group beyond `storm_threshold` and alerts
over the integration's tickets-per-minute budget share a storm ticket.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from tickets import reactions
from tickets import services as ticket_services
from tickets.choices import OPEN_STATUSES, Channel, Status
from tickets.events import event_record, event_record_many
from tickets.exceptions import IllegalTransition
from tickets.models import Ticket
from tickets.services import ticket_resolve_cleared

from . import events
from .choices import AlertOutcome, AlertStatus, IntegrationKind, NewOccurrencePolicy
from .mapping import Mapping, map_alert, validate_matchers
from .models import Alert, AlertGroup, Delivery, Integration, MappingRule
from .payloads import Incoming, IncomingAlert

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "sdi_"  # noqa: S105 (a prefix, not a secret)
OVERFLOW_GROUP = ""
TICKET_CHANNEL = {IntegrationKind.CHATBOT: Channel.CHATBOT}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_configurer(actor: User | None) -> None:
    if actor is not None and not actor.has_perm("accounts.configure_desk"):
        raise PermissionDenied(_("You may not configure integrations."))


@transaction.atomic
def integration_create(
    *,
    actor: User | None,
    name: str,
    kind: str,
    slug: str = "",
    token: str = "",
    auto_resolve: bool = True,
    storm_threshold: int = 20,
    tickets_per_minute: int = 60,
) -> tuple[Integration, str]:
    """Create a sender with its own requester account; return it and its bearer token (shown
    once: only the hash is stored). Signed webhooks also get an HMAC secret. Guard:
    `configure_desk`."""
    _check_configurer(actor)
    if kind not in IntegrationKind.values:
        raise ValidationError({"kind": [_("Unknown kind.")]})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("A name is required.")]})
    slug = slugify(slug or name)[:60] or f"integration-{secrets.token_hex(3)}"
    if Integration.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [_("This slug is taken.")]})
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = User.objects.create(username=f"integration-{slug}"[:150], first_name=name[:150])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    integration = Integration.objects.create(
        name=name,
        slug=slug,
        kind=kind,
        token_hash=hash_token(token),
        token_hint=token[:8],
        hmac_secret=(
            secrets.token_urlsafe(32)
            if kind in (IntegrationKind.WEBHOOK, IntegrationKind.CHATBOT)
            else ""
        ),
        user=user,
        auto_resolve=auto_resolve,
        storm_threshold=storm_threshold,
        tickets_per_minute=tickets_per_minute,
    )
    return integration, token


@transaction.atomic
def integration_rotate_token(*, actor: User | None, integration_id: int) -> str:
    """A new bearer token (the old one stops working at once); returned once."""
    _check_configurer(actor)
    integration = Integration.objects.select_for_update().get(pk=integration_id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    integration.token_hash, integration.token_hint = hash_token(token), token[:8]
    integration.save(update_fields=["token_hash", "token_hint"])
    return token


def integration_authenticate(*, token: str, kinds: tuple[str, ...]) -> Integration | None:
    """The active integration of one of `kinds` whose token this is, else None."""
    if not token:
        return None
    return (
        Integration.objects.filter(token_hash=hash_token(token), kind__in=kinds, is_active=True)
        .select_related("user")
        .first()
    )


def signature_valid(*, integration: Integration, body: bytes, signature: str) -> bool:
    """`X-Desk-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>`."""
    if not integration.hmac_secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(integration.hmac_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower())


@transaction.atomic
def mapping_rule_save(*, actor: User | None, rule: MappingRule) -> MappingRule:
    """Validate and save a mapping rule (admin)."""
    _check_configurer(actor)
    validate_matchers(rule.matchers)
    if rule.module_id and rule.system_id and rule.module.system_id != rule.system_id:
        raise ValidationError({"module": [_("This module belongs to another system.")]})
    rule.save()
    return rule


# --- deliveries -------------------------------------------------------------------------------


@dataclass
class DeliveryResult:
    delivery_id: int
    replayed: bool = False
    outcomes: list[str] = field(default_factory=list)
    ticket_numbers: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "delivery": self.delivery_id,
            "replayed": self.replayed,
            "outcomes": self.outcomes,
            "tickets": self.ticket_numbers,
        }


@transaction.atomic
def delivery_receive(
    *, integration: Integration, incoming: Incoming, idempotency_key: str = ""
) -> DeliveryResult:
    """Store a delivery and act on each alert (see the module docstring). With an
    Idempotency-Key already seen, nothing changes and the first answer is returned."""
    key = (idempotency_key or "").strip()[:255]
    if key:
        seen = Delivery.objects.filter(integration=integration, idempotency_key=key).first()
        if seen is not None:
            return DeliveryResult(seen.pk, True, [], list(seen.ticket_numbers))
    delivery = Delivery(
        integration=integration,
        idempotency_key=key,
        group_key=incoming.group_key,
        status=incoming.status[:10],
        alert_count=len(incoming.alerts),
        truncated_alerts=incoming.truncated_alerts,
    )
    if key:
        # Stored first: the same key at the same moment waits here for the other request.
        try:
            with transaction.atomic():
                delivery.save(force_insert=True)
        except IntegrityError:
            seen = Delivery.objects.get(integration=integration, idempotency_key=key)
            return DeliveryResult(seen.pk, True, [], list(seen.ticket_numbers))
    group = _group(integration, incoming.group_key)
    result = DeliveryResult(delivery.pk)
    requester = _requester(integration, incoming.requester_hint)
    seen = _Seen.load(integration, incoming, group)
    counted_before = group.alert_count if group is not None else 0
    # Rules and the fault request type are read once for the delivery (tickets.reactions.memo).
    touched: list[Ticket | Alert | None] = []
    with reactions.batch():
        for alert in incoming.alerts:
            if alert.fingerprint in seen.opening.fingerprints | seen.repeats.fingerprints:
                seen.flush()  # this alert needs its fingerprint's rows stored
            outcome, ticket = _ingest(integration, group, alert, incoming, requester, seen)
            result.outcomes.append(outcome)
            touched.append(ticket)
        seen.flush()
    for ticket in touched:
        ticket = ticket.ticket if isinstance(ticket, Alert) else ticket
        if ticket is not None and ticket.number not in result.ticket_numbers:
            result.ticket_numbers.append(ticket.number)
    # The group's last sign of life (storm control forgets groups quiet for hours): written
    # when it grew, else at most once a minute.
    if group is not None and (
        group.alert_count != counted_before
        or timezone.now() - group.last_seen_at > timedelta(minutes=1)
    ):
        group.last_seen_at = timezone.now()
        group.save(update_fields=["alert_count", "last_seen_at"])
    if incoming.truncated_alerts:
        _record_truncated(integration, group, incoming, result)
    delivery.ticket_numbers = result.ticket_numbers
    if delivery.pk is None:
        delivery.save(force_insert=True)  # without a key: one INSERT, with the answer
        result.delivery_id = delivery.pk
    else:
        delivery.save(update_fields=["ticket_numbers"])
    return result


def _requester(integration: Integration, hint: str) -> User:
    """A chat bot posts for a person (by user name or e-mail) who may submit requests;
    everything else is requested by the integration's own account."""
    if integration.kind != IntegrationKind.CHATBOT or not hint:
        return integration.user
    person = (
        User.objects.filter(is_active=True, username=hint).first()
        or User.objects.filter(is_active=True, email__iexact=hint).first()
    )
    if person is not None and person.has_perm("accounts.submit_request"):
        return person
    return integration.user


def _group(
    integration: Integration, group_key: str, *, overflow: bool = False
) -> AlertGroup | None:
    """The delivery's group, locked (None without a groupKey); `overflow=True`: the
    integration's overflow group (the empty key)."""
    if not group_key and not overflow:
        return None
    # Deliveries of one group queue here, so the group's count and storm ticket stay exact.
    groups = AlertGroup.objects.select_for_update().filter(
        integration=integration, group_key=group_key
    )
    group = groups.first()
    if group is None:
        # A new group: inserted unless another delivery just did (ON CONFLICT DO NOTHING
        # waits for it), then locked.
        AlertGroup.objects.bulk_create(
            [AlertGroup(integration=integration, group_key=group_key)], ignore_conflicts=True
        )
        group = groups.get()
    return group


@dataclass
class _Seen:
    """What the desk already knows about a delivery's alerts, read in two queries: the
    occurrences themselves (locked: a concurrent delivery of the same alert waits here) and,
    by fingerprint, the latest occurrence that opened a ticket (for the REOPEN policy)."""

    known: dict[tuple[str, object], Alert]
    previous: dict[str, list[Alert]]
    budget: _Budget
    opening: _Opening
    repeats: _Repeats = field(default_factory=lambda: _Repeats())

    def flush(self) -> None:
        self.opening.flush()
        self.repeats.flush()

    @classmethod
    def load(cls, integration: Integration, incoming: Incoming, group: AlertGroup | None) -> _Seen:
        alerts = incoming.alerts
        fingerprints = sorted({a.fingerprint for a in alerts})
        known = {
            (a.fingerprint, a.starts_at): a
            for a in Alert.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .filter(integration=integration, fingerprint__in=fingerprints)
            .filter(starts_at__in={a.starts_at for a in alerts})
            .order_by("id")
        }
        previous: dict[str, list[Alert]] = {}
        # Only alerts not seen before can be a new occurrence of a known fingerprint.
        unseen = sorted(
            {a.fingerprint for a in alerts if (a.fingerprint, a.starts_at) not in known}
        )
        if unseen and integration.new_occurrence == NewOccurrencePolicy.REOPEN:
            for a in (
                Alert.objects.filter(
                    integration=integration, fingerprint__in=unseen, opened_ticket=True
                )
                .select_related("ticket")
                .order_by("fingerprint", "-starts_at")
            ):
                previous.setdefault(a.fingerprint, []).append(a)
        wanted = sum(
            1
            for a in alerts
            if a.status == AlertStatus.FIRING and (a.fingerprint, a.starts_at) not in known
        )
        if group is not None:
            # Alerts beyond the group's storm threshold join its storm ticket: no budget.
            wanted = min(wanted, max(0, integration.storm_threshold - group.alert_count))
        return cls(known, previous, _Budget(integration, wanted), _Opening(integration, incoming))


class _Opening:
    """The delivery's new alerts that open a ticket each, opened together: their tickets in one
    bulk intake (`ticket_create_many`: one INSERT of tickets, of log rows, of search
    documents), then their alert rows in one INSERT. Flushed at the end of the delivery, and
    before any later alert of the same fingerprint is handled (it may need these rows)."""

    def __init__(self, integration: Integration, incoming: Incoming):
        self.integration, self.incoming = integration, incoming
        self.alerts: list[Alert] = []
        self.drafts: list[dict] = []
        self.fingerprints: set[str] = set()
        self.requester: User | None = None

    def add(self, alert: Alert, draft: dict, requester: User) -> None:
        self.alerts.append(alert)
        self.drafts.append(draft)
        self.fingerprints.add(alert.fingerprint)
        self.requester = requester

    def flush(self) -> None:
        if not self.alerts:
            return
        opened = ticket_services.ticket_create_many(
            requester=self.requester,
            channel=TICKET_CHANNEL.get(self.integration.kind, Channel.ALERT),
            drafts=self.drafts,
        )
        for alert, (ticket, _created) in zip(self.alerts, opened, strict=True):
            alert.ticket = ticket
        Alert.objects.bulk_create(self.alerts)
        self.alerts, self.drafts, self.fingerprints = [], [], set()


class _Repeats:
    """The delivery's plain repeats (count and last seen, a log row on the ticket): one UPDATE
    of the alerts and one INSERT of the log rows, flushed with `_Opening`."""

    def __init__(self) -> None:
        self.alerts: dict[int, Alert] = {}
        self.rows: list = []
        self.fingerprints: set[str] = set()

    def add(self, alert: Alert, row) -> None:
        self.alerts[alert.pk] = alert
        self.rows.append(row)
        self.fingerprints.add(alert.fingerprint)

    def flush(self) -> None:
        if not self.alerts:
            return
        Alert.objects.bulk_update(list(self.alerts.values()), ["count", "last_seen_at"])
        event_record_many(self.rows)
        self.alerts, self.rows, self.fingerprints = {}, [], set()


def _ingest(
    integration: Integration,
    group: AlertGroup | None,
    incoming_alert: IncomingAlert,
    incoming: Incoming,
    requester: User,
    seen: _Seen,
) -> tuple[str, Ticket | None]:
    now = timezone.now()
    key = (incoming_alert.fingerprint, incoming_alert.starts_at)
    alert = seen.known.get(key)
    if alert is not None:
        return _known(integration, alert, incoming_alert, now, seen.repeats)
    if incoming_alert.status == AlertStatus.RESOLVED:
        seen.known[key] = _new_alert(
            integration, group, incoming_alert, AlertOutcome.ORPHAN_RESOLVED, None, None, now
        )
        return AlertOutcome.ORPHAN_RESOLVED, None
    mapping = map_alert(integration, incoming_alert.labels)
    reused = _previous_ticket(integration, incoming_alert, seen)
    if reused is not None:
        seen.known[key] = _new_alert(
            integration, group, incoming_alert, AlertOutcome.REOPENED, reused, mapping, now
        )
        _count_in_group(group, now)
        return AlertOutcome.REOPENED, reused
    in_storm = _count_in_group(group, now) > integration.storm_threshold
    if not in_storm and seen.budget.take(now):
        alert = _new_alert(
            integration, group, incoming_alert, AlertOutcome.OPENED, None, mapping, now,
            opened_ticket=True, save=False,
        )  # fmt: skip
        seen.opening.add(alert, _ticket_draft(integration, incoming_alert, incoming, mapping),
                         requester)  # fmt: skip
        seen.known[key] = alert
        seen.previous.setdefault(alert.fingerprint, []).insert(0, alert)
        return AlertOutcome.OPENED, alert
    storm_group = group if in_storm else _group(integration, OVERFLOW_GROUP, overflow=True)
    ticket = _storm_ticket(integration, storm_group, incoming_alert, mapping, requester)
    seen.known[key] = _new_alert(
        integration, group, incoming_alert, AlertOutcome.STORM, ticket, mapping, now
    )
    events.alert_joined_storm(ticket=ticket, alert=incoming_alert)
    return AlertOutcome.STORM, ticket


def _known(
    integration: Integration, alert: Alert, incoming_alert: IncomingAlert, now, repeats: _Repeats
) -> tuple[str, Ticket | None]:
    """A repeat (count, last seen) or the recovery of an alert the desk already has."""
    alert.count += 1
    alert.last_seen_at = now
    fields = ["count", "last_seen_at"]
    outcome = AlertOutcome.REPEATED
    ticket = alert.ticket
    if incoming_alert.status == AlertStatus.RESOLVED and alert.status == AlertStatus.FIRING:
        alert.status, alert.resolved_at = AlertStatus.RESOLVED, now
        alert.ends_at = incoming_alert.ends_at or now
        fields += ["status", "resolved_at", "ends_at"]
        outcome = AlertOutcome.RESOLVED
        if ticket is not None:
            events.alert_recovered(ticket=ticket, alert=alert)
            if integration.auto_resolve and alert.opened_ticket:
                resolution = _("The monitoring alert %(name)s recovered at %(time)s.") % {
                    "name": alert.alertname or alert.fingerprint,
                    "time": timezone.localtime(alert.ends_at).strftime("%Y-%m-%d %H:%M:%S"),
                }
                if ticket_resolve_cleared(ticket_id=ticket.pk, resolution=resolution):
                    outcome = AlertOutcome.AUTO_RESOLVED
    elif incoming_alert.status == AlertStatus.FIRING and alert.status == AlertStatus.RESOLVED:
        # Alertmanager re-fires an occurrence it had resolved (same startsAt): firing again.
        alert.status, alert.resolved_at, alert.ends_at = AlertStatus.FIRING, None, None
        fields += ["status", "resolved_at", "ends_at"]
    elif ticket is not None:
        # A plain repeat: written with the delivery's other repeats (_Repeats).
        repeats.add(alert, events.alert_repeated_row(ticket=ticket, alert=alert))
        return outcome, ticket
    alert.save(update_fields=fields)
    return outcome, ticket


def _previous_ticket(
    integration: Integration, incoming_alert: IncomingAlert, seen: _Seen
) -> Ticket | None:
    """With the REOPEN policy, the ticket of this fingerprint's previous occurrence when it is
    still open, or can be brought back (resolved: rejected; closed within the reopen window:
    reopened), by the integration's account as its requester."""
    if integration.new_occurrence != NewOccurrencePolicy.REOPEN:
        return None
    previous = next(
        (
            a
            for a in seen.previous.get(incoming_alert.fingerprint, [])
            if a.starts_at != incoming_alert.starts_at
        ),
        None,
    )
    if previous is None or previous.ticket is None:
        return None
    ticket = previous.ticket
    reason = _("The monitoring alert %(name)s fired again.") % {
        "name": incoming_alert.alertname or incoming_alert.fingerprint
    }
    if ticket.status in OPEN_STATUSES:
        events.alert_refired(ticket=ticket, alert=incoming_alert)
        return ticket
    try:
        if ticket.status == Status.RESOLVED:
            return ticket_services.ticket_reject(
                ticket_id=ticket.pk, actor=ticket.requester, reason=reason
            )
        if ticket.status == Status.CLOSED and ticket.requester_id == integration.user_id:
            return ticket_services.ticket_reopen(
                ticket_id=ticket.pk, actor=ticket.requester, reason=reason
            )
    except (ValidationError, PermissionDenied, IllegalTransition):
        return None
    return None


def _new_alert(
    integration: Integration,
    group: AlertGroup | None,
    incoming_alert: IncomingAlert,
    outcome: str,
    ticket: Ticket | None,
    mapping: Mapping | None,
    now,
    *,
    opened_ticket: bool = False,
    save: bool = True,
) -> Alert:
    alert = Alert(
        opened_ticket=opened_ticket,
        integration=integration,
        group=group,
        fingerprint=incoming_alert.fingerprint,
        starts_at=incoming_alert.starts_at,
        ends_at=incoming_alert.ends_at,
        status=incoming_alert.status,
        outcome=outcome,
        severity=incoming_alert.severity[:32],
        alertname=incoming_alert.alertname[:200],
        labels=incoming_alert.labels,
        annotations=incoming_alert.annotations,
        generator_url=incoming_alert.generator_url,
        ticket=ticket,
        rule=mapping.rule if mapping else None,
        resolved_at=now if incoming_alert.status == AlertStatus.RESOLVED else None,
        first_seen_at=now,
        last_seen_at=now,
    )
    if save:
        alert.save(force_insert=True)
    return alert


def _count_in_group(group: AlertGroup | None, now) -> int:
    """Count a new alert in its (locked) group; saved once at the end of the delivery."""
    if group is None:
        return 0
    group.alert_count += 1
    group.last_seen_at = now
    return group.alert_count


class _Budget:
    """This minute's share of `tickets_per_minute` for one delivery.

    A Redis counter per integration and clock minute: the delivery reserves, in one atomic
    INCRBY, as many tickets as it has new firing alerts, and keeps what fitted under the limit.
    Deliveries running at the same moment cannot overshoot; a reservation the delivery does not
    use (alerts that joined a storm or a previous ticket, a rollback) is lost, so the bound errs
    low. Without Redis the tickets opened in the last minute are counted in the database
    (concurrent deliveries may then overshoot by a few).
    """

    def __init__(self, integration: Integration, wanted: int):
        self.integration, self.wanted, self.granted = integration, wanted, None

    def take(self, now) -> bool:
        if self.granted is None:
            self.granted = self._reserve(now)
        if self.granted <= 0:
            return False
        self.granted -= 1
        return True

    def _reserve(self, now) -> int:
        limit, wanted = self.integration.tickets_per_minute, max(self.wanted, 1)
        key = f"alerts:budget:{self.integration.pk}:{int(now.timestamp()) // 60}"
        try:
            client = cache._cache.get_client(key, write=True)
            redis_key = cache.make_and_validate_key(key)
            pipe = client.pipeline()
            pipe.incrby(redis_key, wanted)
            pipe.expire(redis_key, 120)
            total = pipe.execute()[0]
            return max(0, min(wanted, limit - (total - wanted)))
        except Exception:
            logger.warning("Redis unreachable: counting the ticket budget in the database")
        opened = Alert.objects.filter(
            integration=self.integration,
            opened_ticket=True,
            first_seen_at__gte=now - timedelta(minutes=1),
        ).count()
        return max(0, limit - opened)


def ticket_text(incoming_alert: IncomingAlert, incoming: Incoming) -> tuple[str, str]:
    """Title and description of an alert's ticket: summary, description, labels, annotations
    and the links back to the monitor."""
    annotations = incoming_alert.annotations
    summary = annotations.get("summary") or annotations.get("title") or ""
    name = incoming_alert.alertname or incoming_alert.fingerprint
    severity = incoming_alert.severity
    title = f"[{severity}] {name}" if severity else name
    if summary and summary != name:
        title = f"{title}: {summary}"
    lines = []
    if annotations.get("description"):
        lines += [annotations["description"], ""]
    lines.append(_("Labels:"))
    lines += [f"  {k}={v}" for k, v in sorted(incoming_alert.labels.items())]
    others = {k: v for k, v in annotations.items() if k not in ("summary", "description")}
    if others:
        lines.append(_("Annotations:"))
        lines += [f"  {k}: {v}" for k, v in sorted(others.items())]
    lines.append(_("Started: %(time)s") % {"time": incoming_alert.starts_at.isoformat()})
    lines.append(_("Fingerprint: %(fp)s") % {"fp": incoming_alert.fingerprint})
    if incoming_alert.generator_url:
        lines.append(_("Source: %(url)s") % {"url": incoming_alert.generator_url})
    if incoming.external_url:
        lines.append(_("Sent by: %(url)s") % {"url": incoming.external_url})
    return title[:200], "\n".join(lines)[:50_000]


def _ticket_draft(
    integration: Integration, incoming_alert: IncomingAlert, incoming: Incoming, mapping: Mapping
) -> dict:
    """The new ticket of an alert, as `ticket_create_many` takes it; its external reference
    (fingerprint@startsAt) makes a retried delivery find it instead of opening another."""
    title, description = ticket_text(incoming_alert, incoming)
    return {
        "title": title,
        "description": description,
        "system": mapping.system,
        "module": mapping.module,
        "impact": mapping.impact,
        "urgency": mapping.urgency,
        "request_type": mapping.request_type,
        "external_source": f"alert:{integration.pk}",
        "external_ref": f"{incoming_alert.fingerprint}@{incoming_alert.starts_at.isoformat()}",
    }


def _storm_ticket(
    integration: Integration,
    group: AlertGroup,
    incoming_alert: IncomingAlert,
    mapping: Mapping,
    requester: User,
) -> Ticket:
    """The group's open storm ticket, opened by the first alert beyond the threshold (or the
    budget). Its urgency follows the most severe alert that joined it."""
    ticket = group.storm_ticket
    if ticket is not None and ticket.status in OPEN_STATUSES:
        if mapping.urgency < ticket.urgency:
            ticket_services.ticket_classify(
                ticket_id=ticket.pk,
                actor=None,
                urgency=mapping.urgency,
                message=_("A more severe alert joined the storm."),
            )
        return ticket
    if group.group_key:
        title = _("Alert storm: %(group)s") % {"group": group.group_key}
    else:
        title = _("Alert storm: more than %(n)d new alerts a minute from %(name)s") % {
            "n": integration.tickets_per_minute,
            "name": integration.name,
        }
    ticket, _created = ticket_services.ticket_create(
        requester=requester,
        created_by=None,
        channel=Channel.ALERT,
        title=title[:200],
        description=_(
            "Storm control: the alerts of this storm are recorded on this one ticket instead "
            "of a ticket each."
        ),
        system=mapping.system,
        module=mapping.module,
        impact=mapping.impact,
        urgency=mapping.urgency,
        request_type=mapping.request_type,
        external_source=f"alert:{integration.pk}",
        external_ref=f"storm:{group.pk}:{timezone.now().timestamp():.6f}",
    )
    group.storm_ticket = ticket
    group.save(update_fields=["storm_ticket"])
    return ticket


def _record_truncated(
    integration: Integration, group: AlertGroup | None, incoming: Incoming, result: DeliveryResult
) -> None:
    """`truncatedAlerts`: the sender left alerts out (its `max_alerts`). Never dropped
    silently: counted on the group and written in the log of the delivery's tickets."""
    if group is not None:
        group.truncated_total += incoming.truncated_alerts
        group.save(update_fields=["truncated_total"])
    numbers = result.ticket_numbers
    for ticket in Ticket.objects.filter(number__in=numbers):
        event_record(
            ticket=ticket,
            kind=events.TRUNCATED,
            is_public=False,
            message=_("The monitor left %(n)d more alerts of this group out of its notification.")
            % {"n": incoming.truncated_alerts},
            data={"truncated_alerts": incoming.truncated_alerts, "group": incoming.group_key},
        )
