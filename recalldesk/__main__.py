"""The ``recalldesk`` command: Django's manage.py under the product's name."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recalldesk.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # Commands read better with dashes on the command line: `recalldesk export-site DIR`.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
