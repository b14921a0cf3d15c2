from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.request_new, name="new"),
    path("requests/<str:number>/", views.request_detail, name="request"),
    path("requests/<str:number>/reply/", views.request_reply, name="reply"),
    path("requests/<str:number>/confirm/", views.request_confirm, name="confirm"),
    path("requests/<str:number>/reject/", views.request_reject, name="reject"),
    path("requests/<str:number>/withdraw/", views.request_withdraw, name="withdraw"),
    path("requests/<str:number>/reopen/", views.request_reopen, name="reopen"),
    path("requests/<str:number>/rate/", views.request_rate, name="rate"),
]
