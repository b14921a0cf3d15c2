"""`/metrics` for Prometheus: django-prometheus's HTTP/DB/cache basics plus the desk's own
gauges and counters, read at scrape time (each a small indexed query, cached for a few seconds
so several scrapers cost one round).

Protected: a request must carry `Authorization: Bearer $METRICS_TOKEN` or come from an address
in `METRICS_ALLOWED_IPS` (loopback by default). Anything else gets 403.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, Q, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CACHE_KEY = "reports:metrics:samples"
CACHE_SECONDS = 10
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def desk_samples() -> dict:
    """The numbers behind the domain metrics, as plain data (cached, so it must pickle)."""
    from notifications.models import Notification
    from sla.choices import ACTIVE_TIMER_STATES
    from sla.models import SlaTimer
    from tickets import retries
    from tickets.choices import OPEN_STATUSES
    from tickets.models import Ticket

    from .models import RollupState, TicketFact

    now = timezone.now()
    open_rows = list(
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .values_list("priority", "status", "tier")
        .annotate(n=Count("id"))
        .order_by()
    )
    active = SlaTimer.objects.filter(state__in=ACTIVE_TIMER_STATES)
    at_risk = list(
        active.filter(warned_at__isnull=False, breached_at__isnull=True)
        .values_list("metric")
        .annotate(n=Count("id"))
        .order_by()
    )
    breached_now = list(
        active.filter(breached_at__isnull=False)
        .values_list("metric")
        .annotate(n=Count("id"))
        .order_by()
    )
    ever = SlaTimer.objects.values_list("metric").annotate(
        breached=Count("id", filter=Q(breached_at__isnull=False)),
        warned=Count("id", filter=Q(warned_at__isnull=False)),
    )
    intake = Ticket.objects.filter(intake_due_at__isnull=False).aggregate(
        n=Count("id"), oldest=Min("intake_due_at")
    )
    notifications = dict(
        Notification.objects.filter(status__in=["pending", "failed"])
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    recent = TicketFact.objects.filter(
        created_day__gte=timezone.localdate() - timedelta(days=1), confidence__isnull=False
    )
    buckets = recent.aggregate(
        **{f"le_{b}": Count("ticket_id", filter=Q(confidence__lte=b)) for b in CONFIDENCE_BUCKETS},
        n=Count("ticket_id"),
        total=Sum("confidence"),
    )
    alerts = TicketFact.objects.filter(channel="alert").count()
    parked = retries.parked_count()
    state = RollupState.objects.filter(key="rollup").first()
    return {
        "open": open_rows,
        "at_risk": at_risk,
        "breached_now": breached_now,
        "ever": list(ever.order_by()),
        "intake_depth": intake["n"],
        "intake_lag": max((now - intake["oldest"]).total_seconds(), 0.0)
        if intake["oldest"]
        else 0.0,
        "notifications": notifications,
        "confidence": buckets,
        "confidence_sum": float(buckets["total"] or 0.0),
        "alerts": alerts,
        "reactions_parked": parked,
        "freshness": (now - state.refreshed_at).total_seconds()
        if state and state.refreshed_at
        else None,
    }


class DeskCollector:
    """Turns `desk_samples()` into Prometheus metric families at scrape time."""

    def describe(self):
        return []  # computed at scrape; describing would query the database at registration

    def collect(self):
        samples = cache.get(CACHE_KEY)
        if samples is None:
            samples = desk_samples()
            cache.set(CACHE_KEY, samples, CACHE_SECONDS)
        family = GaugeMetricFamily(
            "servicedesk_open_tickets",
            "Open tickets by priority, status and tier.",
            labels=["priority", "status", "tier"],
        )
        for priority, status, tier, n in samples["open"]:
            family.add_metric([priority, status, tier or "none"], n)
        yield family
        for name, key, text in (
            ("servicedesk_sla_at_risk_timers", "at_risk", "Running SLA clocks past their warning."),
            (
                "servicedesk_sla_breached_timers",
                "breached_now",
                "Running SLA clocks past their due time.",
            ),
        ):
            family = GaugeMetricFamily(name, text, labels=["metric"])
            for metric, n in samples[key]:
                family.add_metric([metric], n)
            yield family
        breaches = CounterMetricFamily(
            "servicedesk_sla_breaches", "SLA clocks ever breached.", labels=["metric"]
        )
        warnings = CounterMetricFamily(
            "servicedesk_sla_warnings", "SLA clocks ever warned.", labels=["metric"]
        )
        for metric, breached, warned in samples["ever"]:
            breaches.add_metric([metric], breached)
            warnings.add_metric([metric], warned)
        yield breaches
        yield warnings
        yield GaugeMetricFamily(
            "servicedesk_intake_queue_depth",
            "New tickets waiting for their intake reactions.",
            value=samples["intake_depth"],
        )
        yield GaugeMetricFamily(
            "servicedesk_intake_queue_lag_seconds",
            "How long the oldest waiting new ticket has been due.",
            value=samples["intake_lag"],
        )
        family = GaugeMetricFamily(
            "servicedesk_notifications", "Notifications not delivered.", labels=["status"]
        )
        for status in ("pending", "failed"):
            family.add_metric([status], samples["notifications"].get(status, 0))
        yield family
        confidence = samples["confidence"]
        yield HistogramMetricFamily(
            "servicedesk_classifier_confidence",
            "Classifier confidence of the tickets created since yesterday.",
            buckets=[(str(b), confidence[f"le_{b}"]) for b in CONFIDENCE_BUCKETS]
            + [("+Inf", confidence["n"])],
            sum_value=samples["confidence_sum"],
        )
        yield GaugeMetricFamily(
            "servicedesk_reactions_parked",
            "Reactions to ticket events that failed their last attempt (admin: Failed reactions).",
            value=samples["reactions_parked"],
        )
        yield CounterMetricFamily(
            "servicedesk_alert_tickets",
            "Tickets opened by monitoring alerts.",
            value=samples["alerts"],
        )
        if samples["freshness"] is not None:
            yield GaugeMetricFamily(
                "servicedesk_reports_age_seconds",
                "Seconds since the report rollups were refreshed.",
                value=samples["freshness"],
            )


_collector: DeskCollector | None = None


def register() -> None:
    """Add the desk's collector to the default registry once (called from AppConfig.ready)."""
    global _collector
    if _collector is None:
        _collector = DeskCollector()
        REGISTRY.register(_collector)


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header, f"Bearer {token}"):
        return True
    return _client_ip(request) in settings.METRICS_ALLOWED_IPS


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text exposition of every registered metric."""
    if not allowed(request):
        return HttpResponseForbidden("metrics: a bearer token or an allowed address is required\n")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
