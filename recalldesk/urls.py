from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from recalldesk.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="incidents:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("incidents/", include("recalldesk.incidents.urls")),
    path("registry/", include("recalldesk.registry.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
