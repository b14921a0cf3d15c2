"""Monitoring alerts → tickets (Alertmanager, Grafana, signed JSON webhooks)."""
