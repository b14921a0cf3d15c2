"""Incident pages in the workspace, the portal's "affected too", and the status page."""

from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("workspace/incidents/", views.incident_list, name="list"),
    path("workspace/incidents/declare/", views.incident_declare, name="declare"),
    path("workspace/incidents/<int:incident_id>/", views.incident_detail, name="detail"),
    path("workspace/incidents/<int:incident_id>/link/", views.incident_link, name="link"),
    path("workspace/incidents/<int:incident_id>/update/", views.incident_update, name="update"),
    path(
        "workspace/incidents/<int:incident_id>/announce/", views.incident_announce, name="announce"
    ),
    path("workspace/incidents/<int:incident_id>/recover/", views.incident_recover, name="recover"),
    path("portal/outages/", views.portal_outages, name="portal_outages"),
    path("portal/incidents/<int:incident_id>/affected/", views.portal_affected, name="affected"),
    path("status/", views.status_page, name="status"),
]
