from django.urls import path

from recalldesk.remedies import views

app_name = "remedies"
urlpatterns = [
    path("incidents/<uuid:incident_uuid>/", views.home, name="home"),
    path("incidents/<uuid:incident_uuid>/offers/new/", views.offer_new, name="offer_new"),
    path("incidents/<uuid:incident_uuid>/priority/", views.priority_rules, name="priority"),
    path(
        "incidents/<uuid:incident_uuid>/credits/apply/", views.credits_apply, name="credits_apply"
    ),
    path("incidents/<uuid:incident_uuid>/claims/", views.claim_queue, name="claims"),
    path("offers/<uuid:offer_uuid>/", views.offer_edit, name="offer"),
    path("offers/<uuid:offer_uuid>/capacity/", views.offer_capacity, name="offer_capacity"),
    path("offers/<uuid:offer_uuid>/credits.csv", views.credits_csv, name="credits_csv"),
    path("claims/<uuid:claim_uuid>/", views.claim_detail, name="claim"),
    path("claims/<uuid:claim_uuid>/decide/", views.claim_decide, name="claim_decide"),
    path("claims/<uuid:claim_uuid>/step/", views.claim_step, name="claim_step"),
    path("claims/<uuid:claim_uuid>/evidence/", views.claim_evidence, name="claim_evidence"),
    path("claims/<uuid:claim_uuid>/proof/<int:event_id>/", views.event_proof, name="event_proof"),
]
