"""URLs of the knowledge API, included under /api/ by servicedesk/api_urls.py."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("knowledge/suggest/", v.SuggestView.as_view(), name="api-knowledge-suggest"),
    path("knowledge/articles/", v.ArticleListView.as_view(), name="api-knowledge-articles"),
    path(
        "knowledge/articles/<int:article_id>/",
        v.ArticleDetailView.as_view(),
        name="api-knowledge-article",
    ),
    path(
        "knowledge/articles/<int:article_id>/versions/",
        v.ArticleVersionsView.as_view(),
        name="api-knowledge-article-versions",
    ),
    *[
        path(
            f"knowledge/articles/<int:article_id>/{action}/",
            view.as_view(),
            name=f"api-knowledge-{action}",
        )
        for action, view in [
            ("submit", v.ArticleSubmitView),
            ("approve", v.ArticleApproveView),
            ("return", v.ArticleReturnView),
            ("retire", v.ArticleRetireView),
            ("revise", v.ArticleReviseView),
            ("confirm-review", v.ArticleConfirmReviewView),
            ("vote", v.ArticleVoteView),
            ("link-ticket", v.ArticleLinkTicketView),
        ]
    ],
    path("knowledge/problems/", v.ProblemListView.as_view(), name="api-knowledge-problems"),
    path(
        "knowledge/problems/<int:problem_id>/",
        v.ProblemDetailView.as_view(),
        name="api-knowledge-problem",
    ),
    path(
        "knowledge/problems/<int:problem_id>/transition/",
        v.ProblemTransitionView.as_view(),
        name="api-knowledge-problem-transition",
    ),
    path(
        "knowledge/problems/<int:problem_id>/link-ticket/",
        v.ProblemLinkTicketView.as_view(),
        name="api-knowledge-problem-link",
    ),
    path(
        "knowledge/problems/<int:problem_id>/resolve-linked/",
        v.ProblemResolveLinkedView.as_view(),
        name="api-knowledge-problem-resolve",
    ),
]
