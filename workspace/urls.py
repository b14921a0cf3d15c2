from django.urls import path

from . import search_views, views

app_name = "workspace"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("queue/<slug:which>/", views.queue, name="queue_which"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket"),
    path("tickets/<str:number>/comment/", views.ticket_comment, name="comment"),
    path("tickets/<str:number>/follow/", views.ticket_follow, name="follow"),
    path("tickets/<str:number>/<slug:action>/", views.ticket_act, name="act"),
    path("log/", views.log_request, name="log"),
    path("search/", search_views.search, name="search"),
    path("bulk/", views.bulk, name="bulk"),
]
