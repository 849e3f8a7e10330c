from django.urls import path

from recalldesk.outreach import views

app_name = "outreach"
urlpatterns = [
    path("incidents/<uuid:incident_uuid>/", views.outreach_home, name="home"),
    path("incidents/<uuid:incident_uuid>/messages/new/", views.message_new, name="message_new"),
    path("incidents/<uuid:incident_uuid>/waves/new/", views.wave_new, name="wave_new"),
    path("incidents/<uuid:incident_uuid>/calls/", views.call_list, name="calls"),
    path(
        "incidents/<uuid:incident_uuid>/parties/<uuid:party_uuid>/",
        views.party_timeline,
        name="timeline",
    ),
    path("messages/<uuid:message_uuid>/", views.message_detail, name="message"),
    path("messages/<uuid:message_uuid>/edit/", views.message_edit, name="message_edit"),
    path("messages/<uuid:message_uuid>/submit/", views.message_submit, name="message_submit"),
    path("messages/<uuid:message_uuid>/approve/", views.message_approve, name="message_approve"),
    path("waves/<uuid:wave_uuid>/", views.wave_detail, name="wave"),
    path("waves/<uuid:wave_uuid>/progress.json", views.wave_progress, name="wave_progress"),
    path("waves/<uuid:wave_uuid>/letters/", views.wave_letters, name="wave_letters"),
]
