"""``manage.py worker``: the task worker, plus a watch for work a dead worker left behind."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from recalldesk.outreach.dispatch import resume_stalled


class Command(BaseCommand):
    help = (
        "Run django-tasks' database worker, and every half lease re-enqueue outreach batches "
        "whose worker died holding them (their claim outlived OUTREACH_CLAIM_LEASE_SECONDS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="default")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")

    def handle(self, *args: Any, **options: Any) -> None:
        self.resume()
        stop = threading.Event()
        # A killed worker's task stays "running" in the task table for ever: its batch is
        # found by the claims it left, not by the task, and handed out again.
        watch = threading.Thread(target=self.watch, args=(stop,), daemon=True)
        watch.start()
        worker_options: dict[str, Any] = {
            "queue_name": options["queue_name"],
            "interval": options["interval"],
        }
        if options["batch"]:
            worker_options["batch"] = True
        try:
            call_command("db_worker", **worker_options)
        finally:
            stop.set()

    def resume(self) -> None:
        resumed = resume_stalled()
        if resumed:
            self.stdout.write(f"Resumed {resumed} outreach batch(es) left by a stopped worker.")

    def watch(self, stop: threading.Event) -> None:
        period = max(1.0, settings.OUTREACH_CLAIM_LEASE_SECONDS / 2)
        while not stop.wait(period):
            close_old_connections()
            self.resume()
        close_old_connections()
