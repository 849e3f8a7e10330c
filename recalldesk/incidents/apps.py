from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "recalldesk.incidents"
    label = "incidents"
