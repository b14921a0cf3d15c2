"""Output shapes of the e-mail channel's API (never the password or its variable's value)."""

from __future__ import annotations

from rest_framework import serializers

from ..models import InboundMessage, Mailbox


class MailboxSerializer(serializers.ModelSerializer):
    class Meta:
        model = Mailbox
        fields = [
            "id",
            "name",
            "address",
            "is_active",
            "state",
            "consecutive_failures",
            "last_error",
            "last_polled_at",
            "last_success_at",
            "next_poll_at",
            "fetched_count",
            "created_count",
            "replied_count",
            "ignored_count",
            "quarantined_count",
            "error_count",
        ]
        read_only_fields = fields


class InboundMessageSerializer(serializers.ModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number", default=None, read_only=True)

    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "mailbox",
            "message_id",
            "from_address",
            "subject",
            "outcome",
            "reason",
            "ticket",
            "ticket_number",
            "raw_size",
            "raw_truncated",
            "attachments_not_kept",
            "received_at",
        ]
        read_only_fields = fields
