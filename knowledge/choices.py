"""Choice sets of the knowledge base."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Audience(models.TextChoices):
    PUBLIC = "public", _("Public (requesters and agents)")
    INTERNAL = "internal", _("Internal (agents only)")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("Simplified Chinese")
    EN = "en", _("English")


class ScriptLanguage(models.TextChoices):
    NONE = "", _("None")
    SHELL = "shell", "Shell"
    POWERSHELL = "powershell", "PowerShell"
    SQL = "sql", "SQL"
    PYTHON = "python", "Python"
    BATCH = "batch", _("Windows batch")
    TEXT = "text", _("Plain text")


class LinkKind(models.TextChoices):
    USED = "used", _("Used on the ticket")
    CREATED_FROM = "created_from", _("Archived from the ticket")
    UPDATED_FROM = "updated_from", _("Updated from the ticket")


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KNOWN_ERROR = "known_error", _("Known error")
    FIX_IN_PROGRESS = "fix_in_progress", _("Fix in progress")
    FIXED = "fixed", _("Fixed")
    CLOSED = "closed", _("Closed")


class ArticleEventKind(models.TextChoices):
    CREATED = "article.created", _("Created")
    EDITED = "article.edited", _("Edited")
    SUBMITTED = "article.submitted", _("Submitted for review")
    APPROVED = "article.approved", _("Approved and published")
    RETURNED = "article.returned", _("Returned to the author")
    RETIRED = "article.retired", _("Retired")
    AUTO_RETIRED = "article.auto_retired", _("Retired automatically (unused)")
    REVISED = "article.revised", _("New revision started")
    REVIEW_DUE = "article.review_due", _("Review due")
    REVIEW_CONFIRMED = "article.review_confirmed", _("Review confirmed")
    LINKED = "article.linked", _("Linked to a ticket")
    VOTED = "article.voted", _("Voted")
    IMPORTED = "article.imported", _("Imported")


class ProblemEventKind(models.TextChoices):
    CREATED = "problem.created", _("Created")
    EDITED = "problem.edited", _("Edited")
    STATUS = "problem.status", _("Status changed")
    LINKED = "problem.linked", _("Ticket linked")
    RESOLVED_LINKED = "problem.resolved_linked", _("Linked tickets resolved")
