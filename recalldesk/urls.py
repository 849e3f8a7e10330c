from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from recalldesk.api import api
from recalldesk.outreach import ack
from recalldesk.outreach.channels.sms.callbacks import twilio_status
from recalldesk.outreach.channels.voice.callbacks import twilio_gather

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="incidents:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("incidents/", include("recalldesk.incidents.urls")),
    path("registry/", include("recalldesk.registry.urls")),
    path("outreach/", include("recalldesk.outreach.urls")),
    path("outreach/callbacks/twilio/status/", twilio_status, name="twilio_status"),
    path("outreach/callbacks/twilio/gather/<str:token>/", twilio_gather, name="twilio_gather"),
    path("outreach/callbacks/anymail/", include("anymail.urls")),
    path("a/<str:token>/", ack.acknowledge, name="acknowledge"),
    path("status/", include("recalldesk.public.urls")),
    path("site/", include("recalldesk.public.console_urls")),
    path("remedies/", include("recalldesk.remedies.urls")),
    path("", include("recalldesk.remedies.public_urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
