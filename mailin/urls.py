from django.urls import path

from . import views

app_name = "mailin"

urlpatterns = [
    path("", views.channel, name="channel"),
    path("source/<int:message_pk>.eml", views.source, name="source"),
]
