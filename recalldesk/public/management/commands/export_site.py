"""``recalldesk export-site DIR``: the public site as static files for any web server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from recalldesk.public.export import export_site


class Command(BaseCommand):
    help = (
        "Write the public crisis site (pages in every language, Atom feeds, assets and the "
        "lookup index with its in-browser script) to DIR, to serve as static files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        written = export_site(options["directory"])
        self.stdout.write(f"Wrote {len(written)} files to {options['directory']}.")
