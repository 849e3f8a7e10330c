from django.urls import path

from recalldesk.public import console

app_name = "public_console"
urlpatterns = [
    path("incidents/<uuid:incident_uuid>/", console.site_home, name="home"),
    path("incidents/<uuid:incident_uuid>/updates/", console.update_write, name="update_write"),
    path("incidents/<uuid:incident_uuid>/actions/", console.action_save, name="action_save"),
    path("incidents/<uuid:incident_uuid>/faq/", console.faq_add, name="faq_add"),
    path("updates/<uuid:update_uuid>/publish/", console.update_publish, name="update_publish"),
]
