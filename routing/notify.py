"""Messages routing sends to people, one function per kind (each with a stable dedupe key)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext as _

from notifications.services import notify

from .models import ClassifierModel


def notify_retrain_kept_active(model: ClassifierModel) -> list[int]:
    """Tell the desk's administrators that a retrained version scored worse than the active
    one on cross-validation and was not activated (they may still activate it by hand)."""
    admins = get_user_model().objects.with_perm("accounts.configure_desk").filter(is_active=True)
    subject = _("Classifier %(target)s v%(version)d was not activated") % {
        "target": str(model.get_target_display()).lower(),
        "version": model.version,
    }
    return notify(
        recipients=list(admins),
        subject=subject,
        body=model.note,
        dedupe_key=f"routing:retrain-kept-active:{model.pk}",
        url=reverse("admin:routing_classifiermodel_change", args=[model.pk]),
    )
