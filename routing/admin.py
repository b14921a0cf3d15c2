from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ClassificationRule, ClassifierModel, PriorityMatrix, TrainingExample


@admin.register(ClassificationRule)
class ClassificationRuleAdmin(admin.ModelAdmin):
    """Rules are tried by `order` (lowest first); the first active match wins."""

    list_display = (
        "name",
        "order",
        "is_active",
        "channel",
        "system",
        "set_request_type",
        "set_category",
        "set_team",
    )
    list_editable = ("order", "is_active")
    list_filter = ("is_active", "channel", "set_request_type", "set_team")
    search_fields = ("name", "keywords", "regex")
    ordering = ("order", "id")
    fieldsets = (
        (None, {"fields": ("name", "order", "is_active")}),
        (
            _("When (every condition given must hold)"),
            {"fields": ("keywords", "regex", "channel", "system")},
        ),
        (
            _("Then set"),
            {
                "fields": (
                    "set_request_type",
                    "set_category",
                    "set_team",
                    "set_impact",
                    "set_urgency",
                )
            },
        ),
    )


@admin.register(PriorityMatrix)
class PriorityMatrixAdmin(admin.ModelAdmin):
    """The sixteen cells of impact × urgency; only the priority of a cell is edited."""

    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
    list_display_links = None
    ordering = ("impact", "urgency")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    """Trained versions are read-only; an earlier version can be made active again."""

    list_display = ("target", "version", "is_active", "n_samples", "accuracy", "trained_at")
    list_filter = ("target", "is_active")
    readonly_fields = (
        "target",
        "version",
        "file_path",
        "trained_at",
        "n_samples",
        "labels",
        "metrics",
        "data_fingerprint",
        "is_active",
    )
    actions = ["activate"]

    @admin.display(description=_("holdout accuracy"))
    def accuracy(self, obj):
        return obj.metrics.get("accuracy")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Make the selected version the active one of its target"))
    def activate(self, request, queryset):
        for model in queryset.order_by("target", "version"):
            try:
                services.routing_model_activate(model_id=model.pk, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{model}: {' '.join(exc.messages)}", messages.ERROR)
            except PermissionDenied as exc:
                self.message_user(request, f"{model}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("%(model)s is active.") % {"model": model})


@admin.register(TrainingExample)
class TrainingExampleAdmin(admin.ModelAdmin):
    """Labelled texts the classifier learns from; wrong ones can be fixed or deleted."""

    list_display = ("short_text", "target", "label", "source", "ticket", "created_at")
    list_filter = ("target", "source")
    search_fields = ("text", "label")
    raw_id_fields = ("ticket", "created_by")
    show_full_result_count = False

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return obj.text[:80]
