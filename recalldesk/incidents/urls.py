from django.urls import path

from recalldesk.incidents import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_create, name="create"),
    path("<uuid:incident_uuid>/", views.incident_detail, name="detail"),
    path("<uuid:incident_uuid>/edit/", views.incident_edit, name="edit"),
    path("<uuid:incident_uuid>/status/", views.incident_status, name="status"),
    path("<uuid:incident_uuid>/scope/", views.incident_scope, name="scope"),
    path("<uuid:incident_uuid>/rematch/", views.incident_rematch, name="rematch"),
    path("<uuid:incident_uuid>/ledger/", views.incident_ledger, name="ledger"),
    path("<uuid:incident_uuid>/ledger.csv", views.incident_ledger_csv, name="ledger_csv"),
]
