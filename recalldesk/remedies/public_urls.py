from django.urls import path

from recalldesk.remedies import public_views

app_name = "claims"
urlpatterns = [
    path("claim/<str:token>/", public_views.choose, name="choose"),
    path("claims/status/", public_views.status_lookup, name="status_lookup"),
    path("claims/<str:number>/<str:secret>/", public_views.status, name="status"),
]
