"""Choices of the notifications app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    INBOX = "inbox", _("In-app inbox")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Chat webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class WebhookKind(models.TextChoices):
    """The JSON shape each chat tool's incoming webhook expects."""

    WECOM = "wecom", _("WeCom (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk (钉钉)")
    FEISHU = "feishu", _("Feishu / Lark (飞书)")
    SLACK = "slack", _("Slack-style JSON")
