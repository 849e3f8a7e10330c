from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "recalldesk.audit"
    label = "audit"
