from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "recalldesk.public"
    verbose_name = "Crisis site"
