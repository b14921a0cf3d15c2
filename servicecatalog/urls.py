from django.urls import path

from . import views

app_name = "servicecatalog"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("data/", views.data_catalogue, name="data"),
    path("on-behalf/", views.agent_catalogue, name="agent_catalogue"),
    path("answers/<str:number>/", views.ticket_answers, name="answers"),
    path("s/<slug:code>/", views.service_form, name="service"),
    path("s/<slug:code>/on-behalf/", views.service_form_on_behalf, name="on_behalf"),
]
