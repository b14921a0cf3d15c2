"""Input and output shapes of the knowledge API."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import User
from catalog.models import Category, InformationSystem, RequestType, SystemModule

from ..choices import Audience, Language, ProblemStatus, ScriptLanguage
from ..models import SECTION_MAX_LENGTH, TITLE_MAX_LENGTH, Article, Problem, Scenario
from ..problem_services import TRANSITIONS
from ..search import QUERY_MAX_CHARS


class ArticleSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    scenario = serializers.SlugRelatedField(slug_field="code", read_only=True)
    helpfulness = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Article
        fields = [
            "id", "title", "symptom", "cause", "steps", "fix_script", "fix_language",
            "prevention", "scenario", "tags", "system", "module", "category", "request_type",
            "language", "translation_of", "audience", "owner", "status", "version",
            "review_due_on", "review_comment", "use_count", "view_count", "helpful_count",
            "unhelpful_count", "deflection_count", "helpfulness", "external_id",
            "published_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_tags(self, article: Article) -> list[str]:
        return [tag.code for tag in article.tags.all()]


class ArticleInputSerializer(serializers.Serializer):
    """Every field optional on an update; `title` required on create (checked by the view)."""

    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, required=False)
    symptom = serializers.CharField(
        max_length=SECTION_MAX_LENGTH, required=False, allow_blank=True, trim_whitespace=False
    )
    cause = serializers.CharField(max_length=SECTION_MAX_LENGTH, required=False, allow_blank=True)
    steps = serializers.CharField(max_length=SECTION_MAX_LENGTH, required=False, allow_blank=True)
    fix_script = serializers.CharField(
        max_length=SECTION_MAX_LENGTH, required=False, allow_blank=True, trim_whitespace=False
    )
    fix_language = serializers.ChoiceField(ScriptLanguage.choices, required=False)
    prevention = serializers.CharField(
        max_length=SECTION_MAX_LENGTH, required=False, allow_blank=True
    )
    language = serializers.ChoiceField(Language.choices, required=False)
    audience = serializers.ChoiceField(Audience.choices, required=False)
    scenario = serializers.SlugRelatedField(
        slug_field="code", queryset=Scenario.objects.all(), required=False, allow_null=True
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    system = serializers.PrimaryKeyRelatedField(
        queryset=InformationSystem.objects.all(), required=False, allow_null=True
    )
    module = serializers.PrimaryKeyRelatedField(
        queryset=SystemModule.objects.all(), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    request_type = serializers.PrimaryKeyRelatedField(
        queryset=RequestType.objects.all(), required=False, allow_null=True
    )
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    review_due_on = serializers.DateField(required=False, allow_null=True)
    translation_of = serializers.PrimaryKeyRelatedField(
        queryset=Article.objects.all(), required=False, allow_null=True
    )


class SuggestQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    system = serializers.IntegerField(required=False, min_value=1)
    category = serializers.IntegerField(required=False, min_value=1)
    lang = serializers.ChoiceField(Language.choices, required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=5)

    def validate_q(self, value: str) -> str:
        # Longer text is cut, not refused: a pasted description still gets suggestions.
        return value[:QUERY_MAX_CHARS]


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article.id")
    title = serializers.CharField(source="article.title")
    symptom = serializers.SerializerMethodField()
    language = serializers.CharField(source="article.language")
    audience = serializers.CharField(source="article.audience")
    score = serializers.FloatField()

    def get_symptom(self, hit) -> str:
        return hit.article.symptom[:300]


class ArticleApproveSerializer(serializers.Serializer):
    review_due_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class ArticleReturnSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000)


class ArticleRetireSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class ArticleReviewDateSerializer(serializers.Serializer):
    review_due_on = serializers.DateField(required=False, allow_null=True)


class ArticleVoteSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class KnowledgeTicketRefSerializer(serializers.Serializer):
    ticket = serializers.CharField(max_length=32, help_text="The ticket's number")


class KnowledgeLinkResultSerializer(serializers.Serializer):
    created = serializers.BooleanField()


class ArticleVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    content = serializers.JSONField()
    published_by = serializers.CharField(source="published_by.username", allow_null=True)
    published_at = serializers.DateTimeField()


class ProblemSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Problem
        fields = [
            "id", "title", "root_cause", "workaround", "workaround_article", "system", "module",
            "owner", "status", "fix_note", "ticket_count", "created_at", "fixed_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProblemInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH)
    root_cause = serializers.CharField(required=False, allow_blank=True, max_length=50_000)
    workaround = serializers.CharField(required=False, allow_blank=True, max_length=50_000)
    workaround_article = serializers.PrimaryKeyRelatedField(
        queryset=Article.objects.all(), required=False, allow_null=True
    )
    system = serializers.PrimaryKeyRelatedField(
        queryset=InformationSystem.objects.all(), required=False, allow_null=True
    )
    ticket = serializers.CharField(required=False, max_length=32)


class ProblemTransitionSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(sorted(TRANSITIONS))
    fix_note = serializers.CharField(required=False, allow_blank=True, max_length=20_000)


class ProblemFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(ProblemStatus.choices, required=False)


class ResolveOutcomeSerializer(serializers.Serializer):
    resolved = serializers.ListField(child=serializers.CharField())
    skipped = serializers.DictField(child=serializers.CharField())
