from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recalldesk.staff.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token for an integration, acting as the given staff user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="What the integration is, e.g. 'ERP nightly push'")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No staff user named {options['username']!r}.") from exc
        _, token = ApiToken.issue(user, options["name"])
        self.stdout.write(token)
