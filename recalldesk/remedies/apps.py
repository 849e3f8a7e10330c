from django.apps import AppConfig


class RemediesConfig(AppConfig):
    name = "recalldesk.remedies"
    verbose_name = "Remedies and claims"
