"""Mailboxes with counters and state, every message taken, the quarantine, bouncing addresses."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import Outcome
from .models import FlaggedAddress, InboundMessage, Mailbox, QuarantinedMessage
from .services import quarantine_discard, quarantine_retry

COUNTERS = (
    "fetched_count",
    "created_count",
    "replied_count",
    "ignored_count",
    "quarantined_count",
    "error_count",
)


class DeskConfigAdmin(admin.ModelAdmin):
    """Administrators of the desk (`configure_desk`) manage the e-mail channel; rows are never
    deleted (a mailbox is deactivated, a message discarded), so the history stays whole."""

    def _allowed(self, request) -> bool:
        return request.user.is_active and request.user.has_perm("accounts.configure_desk")

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Mailbox)
class MailboxAdmin(DeskConfigAdmin):
    def save_model(self, request, obj, form, change) -> None:
        # Only the settings: counters and state belong to the poller, which may have moved
        # them since this form was loaded.
        if change:
            obj.save(
                update_fields=[
                    f.name
                    for f in Mailbox._meta.concrete_fields
                    if f.editable and not f.primary_key
                ]
            )
        else:
            obj.save()

    list_display = ("name", "address", "is_active", "state", *COUNTERS, "last_success_at")
    list_filter = ("is_active", "state")
    readonly_fields = (
        *COUNTERS,
        "state",
        "consecutive_failures",
        "last_error",
        "last_polled_at",
        "last_success_at",
        "next_poll_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "is_active", "address")}),
        (
            _("IMAP"),
            {
                "fields": (
                    "host",
                    "port",
                    "security",
                    "username",
                    "password_env",
                    "folder",
                    "processed_folder",
                    "poll_seconds",
                )
            },
        ),
        (
            _("New tickets"),
            {
                "fields": (
                    "default_request_type",
                    "default_unit",
                    "unknown_sender",
                    "foreign_reply",
                    "new_tickets_per_hour",
                )
            },
        ),
        (_("Outgoing mail"), {"fields": ("from_name", "from_address", "reply_to")}),
        (
            _("State"),
            {
                "fields": (
                    "state",
                    "consecutive_failures",
                    "last_error",
                    "last_polled_at",
                    "last_success_at",
                    "next_poll_at",
                    *COUNTERS,
                )
            },
        ),
    )


class _MessageAdmin(DeskConfigAdmin):
    list_display = ("received_at", "mailbox", "from_address", "subject", "outcome", "ticket")
    list_filter = ("outcome", "mailbox")
    search_fields = ("message_id", "from_address", "subject")
    readonly_fields = (
        "mailbox",
        "message_id",
        "from_address",
        "subject",
        "outcome",
        "reason",
        "ticket",
        "comment",
        "raw_size",
        "raw_truncated",
        "attachments_not_kept",
        "received_at",
        "source_text",
    )
    exclude = ("html_sanitised",)
    list_select_related = ("mailbox", "ticket")

    @admin.display(description=_("source"))
    def source_text(self, obj: InboundMessage) -> str:
        return bytes(obj.raw[:20000]).decode("utf-8", "replace")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(_MessageAdmin):
    pass


@admin.register(QuarantinedMessage)
class QuarantineAdmin(_MessageAdmin):
    list_display = ("received_at", "mailbox", "from_address", "subject", "reason")
    actions = ("retry", "discard")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(outcome=Outcome.QUARANTINED)

    def _run(self, request, queryset, service, done_message) -> None:
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                service(message_pk=pk, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request,
                    f"{pk}: {' '.join(getattr(exc, 'messages', [str(exc)]))}",
                    messages.ERROR,
                )
        self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Retry the selected messages"))
    def retry(self, request, queryset) -> None:
        self._run(request, queryset, quarantine_retry, _("%(count)d messages retried."))

    @admin.action(description=_("Discard the selected messages"))
    def discard(self, request, queryset) -> None:
        self._run(request, queryset, quarantine_discard, _("%(count)d messages discarded."))


@admin.register(FlaggedAddress)
class FlaggedAddressAdmin(DeskConfigAdmin):
    list_display = ("address", "bounce_count", "last_bounce_at")
    search_fields = ("address",)
