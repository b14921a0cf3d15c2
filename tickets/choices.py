"""Choices of the ticket core. The Chinese labels come from the zh-hans translation."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    """The lifecycle of PRODUCT.md §3."""

    NEW = "new", _("New")
    QUEUED = "queued", _("Queued")
    IN_PROGRESS = "in_progress", _("In progress")
    PENDING = "pending", _("Pending")
    PENDING_VERIFICATION = "pending_verification", _("Pending verification")
    RESOLVED = "resolved", _("Awaiting confirmation")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (
    Status.NEW,
    Status.QUEUED,
    Status.IN_PROGRESS,
    Status.PENDING,
    Status.PENDING_VERIFICATION,
)


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    IM = "im", _("Instant message")
    API = "api", _("API")
    ALERT = "alert", _("Monitoring alert")
    CHATBOT = "chatbot", _("Chat bot")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 – core business down")
    P2 = "P2", _("P2 – business impaired")
    P3 = "P3", _("P3 – routine")
    P4 = "P4", _("P4 – routine, low")


class Impact(models.IntegerChoices):
    EXTENSIVE = 1, _("Extensive – many users or a core system")
    SIGNIFICANT = 2, _("Significant – a department or an important function")
    MODERATE = 3, _("Moderate – a few users")
    MINOR = 4, _("Minor – one user")


class Urgency(models.IntegerChoices):
    CRITICAL = 1, _("Critical – work has stopped")
    HIGH = 2, _("High – work is seriously hampered")
    MEDIUM = 3, _("Medium – a workaround exists")
    LOW = 4, _("Low – no time pressure")


class PendingReason(models.TextChoices):
    """Who the desk waits on. Only waiting on the requester pauses the SLA clocks."""

    REQUESTER = "requester", _("Waiting for the requester")
    VENDOR = "vendor", _("Waiting for a vendor")
    CHANGE = "change", _("Waiting for a scheduled change")
    OTHER = "other", _("Waiting for another party")


class ActorKind(models.TextChoices):
    REQUESTER = "requester", _("Requester")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")


class EventKind(models.TextChoices):
    """Every kind of operation-log entry (namespaced: `ticket.*`, `sla.*`, `routing.*`)."""

    CREATED = "ticket.created", _("Created")
    STATUS_CHANGED = "ticket.status_changed", _("Status changed")
    ASSIGNED = "ticket.assigned", _("Assignee changed")
    TEAM_CHANGED = "ticket.team_changed", _("Team changed")
    TIER_CHANGED = "ticket.tier_changed", _("Tier changed")
    PRIORITY_CHANGED = "ticket.priority_changed", _("Priority changed")
    TYPE_CHANGED = "ticket.type_changed", _("Request type changed")
    CATEGORY_CHANGED = "ticket.category_changed", _("Category changed")
    SYSTEM_CHANGED = "ticket.system_changed", _("Affected system changed")
    COMMENTED = "ticket.commented", _("Public reply")
    NOTE_ADDED = "ticket.note_added", _("Internal note")
    ATTACHMENT_ADDED = "ticket.attachment_added", _("Attachment added")
    MERGED = "ticket.merged", _("Merged")
    LINKED = "ticket.linked", _("Linked to an incident")
    CLASSIFIED = "routing.classified", _("Classified")
    ROUTED = "routing.routed", _("Routed")
    TRIAGE = "routing.triage", _("Sent to manual triage")
    SLA_STARTED = "sla.started", _("SLA started")
    SLA_WARNED = "sla.warned", _("SLA warning")
    SLA_BREACHED = "sla.breached", _("SLA breached")
    SLA_PAUSED = "sla.paused", _("SLA paused")
    SLA_RESUMED = "sla.resumed", _("SLA resumed")
    SLA_RECALCULATED = "sla.recalculated", _("SLA recalculated")
    ESCALATED = "sla.escalated", _("Escalated")
    SURVEY = "feedback.rated", _("Rated")
