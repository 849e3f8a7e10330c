from django.urls import path

from recalldesk.registry import views

app_name = "registry"
urlpatterns = [
    path("imports/", views.import_list, name="imports"),
]
