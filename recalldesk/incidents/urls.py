from django.urls import path

from recalldesk.incidents import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
]
