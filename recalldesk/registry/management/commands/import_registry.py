from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from recalldesk.registry import importing
from recalldesk.registry.choices import ImportKind, ImportStatus
from recalldesk.registry.models import ImportRun

SHOWN_PROBLEMS = 20


class ProgressBar:
    """One line on stderr, redrawn in place with ``\\r`` after every batch."""

    width = 30

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.drawn = False

    def __call__(self, run: ImportRun) -> None:
        done = int(self.width * run.progress_percent / 100)
        bar = "#" * done + "." * (self.width - done)
        label = run.get_status_display()
        self.stream.write(
            f"\r{label:<14} [{bar}] {run.progress_percent:3d}% "
            f"{run.rows_processed:,}/{run.rows_total:,} rows",
            ending="",
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("")


class Command(BaseCommand):
    help = "Import a CSV or Excel file of products, customers, consignees or holdings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", help="a .csv, .txt (tab separated) or .xlsx file")
        parser.add_argument(
            "--valid-rows",
            action="store_true",
            help="import the valid rows even when some rows have errors",
        )
        parser.add_argument("--user", help="the staff user recorded as the importer")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"No staff user named {options['user']!r}.") from exc
        with path.open("rb") as handle:
            try:
                run = importing.create_import(
                    user,
                    options["kind"],
                    File(handle, name=path.name),
                    import_valid_rows=options["valid_rows"],
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        bar = ProgressBar(self.stderr)
        try:
            importing.run_import(run, progress=bar)
        finally:
            bar.close()
        self.report(run)
        if run.status != ImportStatus.DONE:
            raise CommandError(f"Nothing was imported from {path.name}.")

    def report(self, run: ImportRun) -> None:
        self.stdout.write(
            f"{run.get_status_display()}: {run.rows_total:,} rows, {run.created:,} new, "
            f"{run.updated:,} updated, {run.unchanged:,} unchanged, "
            f"{run.rows_invalid:,} with errors."
        )
        if run.message:
            self.stdout.write(run.message)
        problems = list(run.problems.all()[: SHOWN_PROBLEMS + 1])
        for problem in problems[:SHOWN_PROBLEMS]:
            where = f"line {problem.line}" + (f", {problem.column}" if problem.column else "")
            value = f" ({problem.value!r})" if problem.value else ""
            self.stdout.write(f"  {where}: {problem.message}{value}")
        if len(problems) > SHOWN_PROBLEMS:
            self.stdout.write(
                f"  ... and more: see the error report of import {run.uuid} in the console."
            )
