"""Knowledge pages: the workspace's articles, review queue and problems; the portal's help
centre and suggestions; the fragments of the agent's ticket page."""

from django.urls import path

from . import embed_views, views

app_name = "knowledge"

urlpatterns = [
    path("", views.article_list, name="articles"),
    path("articles/new/", views.article_edit, name="article_new"),
    path("articles/new/from-ticket/<str:number>/", views.article_edit, name="article_from_ticket"),
    path("articles/<int:article_id>/", views.article_detail, name="article"),
    path("articles/<int:article_id>/edit/", views.article_edit, name="article_edit"),
    path("articles/<int:article_id>/diff/", views.article_diff, name="article_diff"),
    path(
        "articles/<int:article_id>/attach/",
        embed_views.attachment_upload,
        name="attachment_upload",
    ),
    path("articles/<int:article_id>/<slug:action>/", views.article_act, name="article_act"),
    path("attachments/<int:attachment_id>/", embed_views.attachment_download, name="attachment"),
    path("review/", views.review_queue, name="review"),
    path("problems/", views.problem_list, name="problems"),
    path("problems/new/", views.problem_new, name="problem_new"),
    path("problems/<int:problem_id>/", views.problem_detail, name="problem"),
    path("problems/<int:problem_id>/<slug:action>/", views.problem_act, name="problem_act"),
    # The requester's side (portal).
    path("help/", embed_views.portal_help, name="help"),
    path("help/<int:article_id>/", embed_views.portal_article, name="help_article"),
    path("help/<int:article_id>/solved/", embed_views.portal_solved, name="help_solved"),
    path("help/<int:article_id>/vote/", embed_views.portal_vote, name="help_vote"),
    path("suggest/portal/", embed_views.portal_suggest, name="portal_suggest"),
    # The agent's ticket page.
    path("ticket/<str:number>/panel/", embed_views.ticket_panel, name="ticket_panel"),
    path(
        "ticket/<str:number>/link/<int:article_id>/",
        embed_views.ticket_link_article,
        name="ticket_link",
    ),
    path(
        "ticket/<str:number>/update/<int:article_id>/",
        embed_views.ticket_update_article,
        name="ticket_update_article",
    ),
    path("ticket/<str:number>/problem/", embed_views.ticket_link_problem, name="ticket_problem"),
]
