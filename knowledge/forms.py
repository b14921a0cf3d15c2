"""Forms of the knowledge pages. They shape input; the services check and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from catalog.models import Category, InformationSystem, RequestType, SystemModule
from servicedesk.ui import StyledForm

from .choices import ArticleStatus, Audience, Language, ScriptLanguage
from .models import SECTION_MAX_LENGTH, TITLE_MAX_LENGTH, Article, Problem, Scenario
from .services import ArticleInput


class LabelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return getattr(obj, "label", None) or str(obj)


def _section(label, help_text=""):
    return forms.CharField(
        label=label,
        required=False,
        max_length=SECTION_MAX_LENGTH,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


MARKDOWN_HELP = _("Markdown: **bold**, lists, `code`, links. HTML is not rendered.")


class ArticleForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    symptom = _section(_("Symptom (故障现象)"), MARKDOWN_HELP)
    cause = _section(_("Cause (原因)"))
    steps = _section(_("Troubleshooting steps (排查步骤)"))
    fix_script = forms.CharField(
        label=_("Fix script (修复脚本)"),
        required=False,
        max_length=SECTION_MAX_LENGTH,
        strip=False,
        help_text=_("Shown with a copy button; the desk never runs it."),
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace", "spellcheck": "false"}),
    )
    fix_language = forms.ChoiceField(
        label=_("Script language"), choices=ScriptLanguage.choices, required=False
    )
    prevention = _section(_("Prevention (预防措施)"))
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices)
    scenario = LabelChoiceField(
        label=_("Scenario"), queryset=Scenario.objects.filter(is_active=True), required=False
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )
    system = LabelChoiceField(
        label=_("Information system"),
        queryset=InformationSystem.objects.filter(is_active=True),
        required=False,
    )
    module = LabelChoiceField(
        label=_("Module"),
        queryset=SystemModule.objects.filter(is_active=True).select_related("system"),
        required=False,
    )
    category = LabelChoiceField(
        label=_("Problem category"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
    )
    request_type = LabelChoiceField(
        label=_("Request type"), queryset=RequestType.objects.filter(is_active=True), required=False
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.filter(
            is_active=True, groups__permissions__codename="manage_knowledge"
        ).distinct(),
        required=False,
    )
    review_due_on = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    translation_of = forms.ModelChoiceField(
        label=_("Translation of"),
        queryset=Article.objects.exclude(status=ArticleStatus.RETIRED).only("id", "title"),
        required=False,
        widget=forms.NumberInput,
        help_text=_("The id of the same article in the other language."),
    )

    @classmethod
    def initial_from(cls, article: Article) -> dict:
        initial = {name: getattr(article, name) for name in cls.base_fields if name != "tags"}
        for name in ("scenario", "system", "module", "category", "request_type", "owner",
                     "translation_of"):  # fmt: skip
            initial[name] = getattr(article, f"{name}_id")
        initial["tags"] = ", ".join(t.code for t in article.tags.all())
        return initial

    @staticmethod
    def initial_from_input(data: ArticleInput) -> dict:
        initial = {k: v for k, v in vars(data).items() if v is not None and k != "given"}
        initial["tags"] = ", ".join(data.tags or [])
        return initial

    def to_input(self) -> ArticleInput:
        data = dict(self.cleaned_data)
        tags = [t for t in (data.pop("tags") or "").replace("，", ",").split(",") if t.strip()]
        given = {"scenario", "system", "module", "category", "request_type", "review_due_on",
                 "translation_of"}  # fmt: skip
        return ArticleInput(tags=tags, given=given, **data)


class ApproveForm(StyledForm):
    review_due_on = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000)


class CommentForm(StyledForm):
    comment = forms.CharField(
        label=_("Comments for the author"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=5000)


class VoteForm(StyledForm):
    helpful = forms.TypedChoiceField(
        choices=[("1", _("Helpful")), ("0", _("Not helpful"))], coerce=lambda v: v == "1"
    )
    comment = forms.CharField(
        label=_("Comment to the owner (optional)"), required=False, max_length=2000
    )


class ArticleSearchForm(StyledForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=500)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *ArticleStatus.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any")), *Language.choices]
    )


class ProblemForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    root_cause = forms.CharField(
        label=_("Root cause"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    workaround = forms.CharField(
        label=_("Workaround"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    workaround_article = forms.ModelChoiceField(
        label=_("Workaround article (id)"),
        queryset=Article.objects.filter(status=ArticleStatus.PUBLISHED).only("id", "title"),
        required=False,
        widget=forms.NumberInput,
    )
    system = LabelChoiceField(
        label=_("Affected system"),
        queryset=InformationSystem.objects.filter(is_active=True),
        required=False,
    )


class ProblemTransitionForm(StyledForm):
    fix_note = forms.CharField(
        label=_("Fix note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ProblemLinkForm(StyledForm):
    problem = forms.ModelChoiceField(
        label=_("Problem"),
        queryset=Problem.objects.exclude(status="closed").order_by("-ticket_count", "-id"),
    )
