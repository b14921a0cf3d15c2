"""Admin of the knowledge base: configure scenarios and tags; read articles and problems.

Articles and problems change only through their services (lifecycle, log, search index), so
the admin shows them read-only; scenarios and tags are plain configuration.
"""

from django.contrib import admin

from .models import Article, ArticleEvent, Deflection, Problem, Scenario, Tag


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "is_active"]
    search_fields = ["code", "name", "name_zh"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh"]
    search_fields = ["code", "name", "name_zh"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "status", "language", "audience", "owner", "use_count",
                    "review_due_on"]  # fmt: skip
    list_filter = ["status", "language", "audience"]
    search_fields = ["title", "external_id"]
    list_select_related = ["owner"]
    exclude = ["search_vector"]


@admin.register(ArticleEvent)
class ArticleEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "article", "kind", "actor", "created_at"]
    list_select_related = ["article", "actor"]


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "status", "owner", "ticket_count"]
    list_filter = ["status"]
    exclude = ["search_vector"]


@admin.register(Deflection)
class DeflectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "article", "requester", "created_at"]
    list_select_related = ["article", "requester"]
