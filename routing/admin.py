from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html, format_html_join
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


class ClassifierModelForm(forms.ModelForm):
    """Only the target precision is edited; the threshold and triage share follow from it."""

    class Meta:
        model = ClassifierModel
        fields = ["target_precision"]


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    """Trained versions: what model selection chose and measured, read-only; the target
    precision of the manual-triage threshold is editable, with the share of held-out tickets
    it would send to triage. An earlier (or a not activated) version can be made active."""

    form = ClassifierModelForm
    list_display = (
        "target",
        "version",
        "is_active",
        "n_samples",
        "chosen",
        "cv_macro_f1",
        "baseline_cv_macro_f1",
        "ece",
        "target_precision",
        "threshold",
        "triage_share_percent",
        "note",
        "trained_at",
    )
    list_filter = ("target", "is_active")
    readonly_fields = (
        "target",
        "version",
        "is_active",
        "note",
        "file_path",
        "trained_at",
        "n_samples",
        "labels",
        "chosen",
        "cv_macro_f1",
        "baseline_cv_macro_f1",
        "ece",
        "threshold",
        "triage_share_percent",
        "triage_table",
        "candidate_table",
        "config",
        "data_fingerprint",
    )
    fieldsets = (
        (None, {"fields": ("target", "version", "is_active", "note", "trained_at", "n_samples")}),
        (
            _("Manual triage threshold"),
            {"fields": ("target_precision", "threshold", "triage_share_percent", "triage_table")},
        ),
        (
            _("Model selection (cross-validation on the training data)"),
            {
                "fields": (
                    "chosen",
                    "cv_macro_f1",
                    "baseline_cv_macro_f1",
                    "ece",
                    "candidate_table",
                    "config",
                )
            },
        ),
        (_("File and data"), {"fields": ("file_path", "labels", "data_fingerprint")}),
    )
    actions = ["activate"]

    @admin.display(description=_("chosen configuration"))
    def chosen(self, obj):
        return obj.metrics.get("chosen") or "—"

    @admin.display(description=_("share sent to triage"))
    def triage_share_percent(self, obj):
        if obj.triage_share is None:
            return "—"
        return f"{100 * obj.triage_share:.1f} %"

    @admin.display(description=_("precision and triage share by threshold (held-out folds)"))
    def triage_table(self, obj):
        curve = obj.curve
        if curve is None:
            return "—"
        rows = []
        for index in range(50, 101, 5):
            precision = curve["precision"][index]
            rows.append(
                (
                    f"{curve['thresholds'][index]:.2f}",
                    f"{100 * (1 - curve['auto_share'][index]):.1f} %",
                    "—" if precision is None else f"{100 * precision:.1f} %",
                )
            )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("threshold"),
            _("sent to triage"),
            _("precision of the rest"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description=_("candidates"))
    def candidate_table(self, obj):
        candidates = obj.metrics.get("candidates") or []
        if not candidates:
            return obj.metrics.get("note") or "—"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th></tr>{}</table>",
            _("configuration"),
            _("CV macro-F1"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td></tr>",
                ((c["name"], f"{c['cv_macro_f1']:.4f}") for c in candidates),
            ),
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.apply_target_precision(form.cleaned_data.get("target_precision"))
        super().save_model(request, obj, form, change)
        if obj.triage_share is not None:
            self.message_user(
                request,
                _("Threshold %(threshold)s: %(share).1f %% of held-out tickets go to triage.")
                % {
                    "threshold": "—" if obj.threshold is None else f"{obj.threshold:.2f}",
                    "share": 100 * obj.triage_share,
                },
            )

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
