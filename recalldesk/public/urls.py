from django.urls import path

from recalldesk.public import views
from recalldesk.public.feeds import all_feed, incident_feed

app_name = "public"
urlpatterns = [
    path("", views.index, name="index"),
    path("feed.atom", all_feed, name="feed_all"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("<slug:slug>/", views.incident_page, name="page"),
    path("<slug:slug>/feed.atom", incident_feed, name="feed"),
    path("<slug:slug>/lookup/", views.lookup, name="lookup"),
    path("<slug:slug>/lookup-index.json", views.lookup_index, name="lookup_index"),
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/subscribe/", views.subscribe, name="subscribe"),
    path("<slug:slug>/ask/", views.ask, name="ask"),
    path("<slug:slug>/<str:language>/", views.incident_page, name="page_language"),
]
