from django.urls import path

from recalldesk.public import views

app_name = "public"
urlpatterns = [
    path("", views.index, name="index"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("<slug:slug>/", views.incident_page, name="page"),
    path("<slug:slug>/lookup/", views.lookup, name="lookup"),
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/subscribe/", views.subscribe, name="subscribe"),
    path("<slug:slug>/ask/", views.ask, name="ask"),
    path("<slug:slug>/<str:language>/", views.incident_page, name="page_language"),
]
