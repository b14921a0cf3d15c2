"""Why this app exists: monitoring systems (Prometheus Alertmanager, Grafana, other monitors and
chat bots) open tickets by themselves (PRODUCT.md §2, "alert → ticket"). Each sender is an
integration with its own credentials; what it delivers is deduplicated by the sender's own key
(fingerprint + startsAt, Idempotency-Key), mapped onto the desk's taxonomy by admin-editable
rules, held back by storm control, and turned into calls of the `tickets` services."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Monitoring alerts")
