from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(**kwargs: Any) -> None:
    # Permissions only exist once every app has migrated, so roles are set up here.
    from recalldesk.staff.roles import ensure_roles

    ensure_roles()


class StaffConfig(AppConfig):
    name = "recalldesk.staff"
    label = "staff"

    def ready(self) -> None:
        post_migrate.connect(_ensure_roles, sender=self)
