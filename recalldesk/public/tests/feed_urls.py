"""URLs of the feeds alone, as the lead mounts them, for the feed tests."""

from django.urls import path

from recalldesk.public.feeds import all_feed, incident_feed

urlpatterns = [
    path("status/feed.atom", all_feed),
    path("status/<slug:slug>/feed.atom", incident_feed),
]
