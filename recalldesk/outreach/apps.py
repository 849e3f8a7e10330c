from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "recalldesk.outreach"
    verbose_name = "Outreach"

    def ready(self) -> None:
        # django-anymail reports its email services' webhooks only through this signal.
        from anymail.signals import tracking

        from recalldesk.outreach.events import on_anymail_tracking

        tracking.connect(on_anymail_tracking, dispatch_uid="recalldesk.outreach.tracking")
