from django.urls import path

from recalldesk.registry import views

app_name = "registry"
urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/<uuid:run_uuid>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:run_uuid>/errors.csv", views.import_errors_csv, name="import_errors"),
    path("imports/template/<str:kind>.csv", views.import_template, name="import_template"),
]
