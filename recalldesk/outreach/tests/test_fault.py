"""Faults while sending: a worker killed in the middle of a wave, a worker that lost its
claim, a commit that failed. Every recipient gets one message, never two.

The kill test is real from end to end: a database the worker processes share (a SQLite
file, or the test database on PostgreSQL), ``manage.py worker`` processes, and an SMTP
server on loopback that records every message it accepts. The first worker is SIGKILLed in
the middle of a batch; a second one must hand that batch out again once its claim's lease
(2 s here) runs out.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from recalldesk.outreach import choices, dispatch, waves
from recalldesk.outreach.channels import Outgoing
from recalldesk.outreach.channels.email.transport import SmtpTransport
from recalldesk.outreach.models import BadContact, Delivery
from recalldesk.outreach.tests import builders as ob
from recalldesk.outreach.tests.conftest import Inbox, serving

S = choices.DeliveryStatus

RECIPIENTS = 20_000
BATCH = 500
KILL_AFTER = 3_000
LEASE_SECONDS = 2
MANAGE = Path(settings.BASE_DIR).parent / "manage.py"
_TO = re.compile(rb"^To: (.*?)\r?$", re.MULTILINE)


class OffersPipelining:
    """An aiosmtpd handler part that offers PIPELINING, as postfix and most servers do, so
    the workers take that path (the outreach tests' inbox covers the other)."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


class Recorder(OffersPipelining):
    """An SMTP server's handler that keeps the To address of every message it accepts."""

    def __init__(self) -> None:
        self.to: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = _TO.search(envelope.content)
        self.to.append(found.group(1).decode() if found else "")
        return "250 Message accepted"


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    with serving(handler) as port:
        yield handler, port


class SharedDatabase:
    """The database the test and its subprocesses all see, and plain SQL against it."""

    def __init__(self, tmp_path: Path) -> None:
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            # The test database is in memory, which no other process can open.
            self.path = str(tmp_path / "fault.sqlite3")
            self.url = f"sqlite:///{self.path}"
        else:
            user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
            host, port = db["HOST"] or "localhost", db["PORT"] or 5432
            self.url = f"postgres://{user}:{password}@{host}:{port}/{db['NAME']}"

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if connection.vendor == "sqlite":
            with closing(sqlite3.connect(self.path, timeout=30)) as raw:
                return raw.execute(sql).fetchall()
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def statuses(self) -> dict[str, int]:
        return dict(self.rows("SELECT status, COUNT(*) FROM outreach_delivery GROUP BY status"))


def environment(db: SharedDatabase, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "recalldesk.settings",
        "DATABASE_URL": db.url,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "RATE_LIMIT_EMAIL": "0",
        "OUTREACH_BATCH_SIZE": str(BATCH),
        "OUTREACH_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
    }


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run ``manage.py``; one that hangs fails the test with its stack and what the
    database's sessions are waiting on (the time limit is a guard, not a measure)."""
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), *args],
        env={**env, "PYTHONFAULTHANDLER": "1"},  # SIGABRT prints every thread's stack
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        sessions = database_sessions()
        process.send_signal(signal.SIGABRT)
        stdout, stderr = process.communicate()
        pytest.fail(
            f"manage.py {' '.join(args)} did not finish in {timeout:.0f} s.\n"
            f"Database sessions:\n{sessions}\nIts stack:\n{stderr}"
        )
    assert process.returncode == 0, stderr
    return stdout


def database_sessions() -> str:
    """The other sessions on the test database on PostgreSQL: state, wait and query."""
    if connection.vendor != "postgresql":
        return "(SQLite)"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 300)"
            " FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return "\n".join(" | ".join(map(str, row)) for row in cursor.fetchall())


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, str(MANAGE), "worker", "--interval", "0.1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(check: Any, what: str, log: Path, *, every: float, timeout: float = 300) -> None:
    """Poll ``check``; the timeout only catches a hang (a busy machine is merely slow)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")
        time.sleep(every)


def build_wave(recipients: int) -> None:
    """Run in a subprocess (``manage.py shell``): N consumers in one incident's ledger, an
    approved English message, and a wave of it launched by a coordinator."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from recalldesk.incidents.models import Incident, LedgerEntry
    from recalldesk.outreach.models import FactSheet, Message, MessageVersion
    from recalldesk.outreach.tests.builders import CLEAN_EN
    from recalldesk.outreach.waves import do_launch_wave
    from recalldesk.registry.models import Party
    from recalldesk.staff.roles import ensure_roles

    ensure_roles()
    user = User.objects.create_user("cora", "cora@example.com", "correct-horse-9")
    user.groups.add(Group.objects.get(name="coordinator"))
    incident = Incident.objects.create(
        reference="RC-2026-0099", kind="recall", title="Heater overheats", status="active"
    )
    Party.objects.bulk_create(
        (
            Party(
                role="consumer",
                external_id=f"F{n}",
                name=f"Customer {n}",
                email=f"customer{n}@example.com",
                language="en",
                country="US",
            )
            for n in range(recipients)
        ),
        batch_size=2000,
    )
    now = timezone.now()
    LedgerEntry.objects.bulk_create(
        (
            LedgerEntry(incident=incident, party_id=party_id, first_affected_at=now, updated_at=now)
            for party_id in Party.objects.values_list("id", flat=True)
        ),
        batch_size=2000,
    )
    message = Message.objects.create(incident=incident, name="Notice", audience="consumer")
    version = MessageVersion.objects.create(message=message, number=1, status="approved")
    FactSheet.objects.create(version=version, language="en", **CLEAN_EN)
    coordinator = User.objects.get(pk=user.pk)
    wave = do_launch_wave(coordinator, incident, version, channels=["email"], segment={})
    print(wave.pk, wave.total, wave.batches)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(recorder, tmp_path):
    inbox, port = recorder
    db = SharedDatabase(tmp_path)
    env = environment(db, port)
    log = tmp_path / "workers.log"
    if connection.vendor == "sqlite":
        manage(env, "migrate", "--no-input", "--verbosity", "0")
    launched = manage(
        env,
        "shell",
        "-c",
        f"from recalldesk.outreach.tests.test_fault import build_wave; build_wave({RECIPIENTS})",
    )
    assert launched.splitlines()[-1].split()[1:] == [str(RECIPIENTS), str(RECIPIENTS // BATCH)]

    first = start_worker(env, log)
    try:
        # Kill it in the middle of a batch, so a batch is left part sent, part claimed.
        wait_for(
            lambda: len(inbox.to) >= KILL_AFTER and 50 <= len(inbox.to) % BATCH <= 400,
            f"{KILL_AFTER} messages",
            log,
            every=0.01,
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        first.kill()
    # What the dead worker recorded last: the one row that may be recorded sent although
    # its message never left (killed between the commit and the final dot).
    last_recorded = db.rows(
        "SELECT address FROM outreach_delivery WHERE status = 'sent' "
        "ORDER BY sent_at DESC, id DESC LIMIT 1"
    )[0][0]
    held = db.statuses().get("claimed", 0)
    assert held > 0, "the killed worker held no claimed rows"

    second = start_worker(env, log)
    try:
        # Counting the rows costs the worker time: every half second is often enough.
        wait_for(lambda: db.statuses() == {"sent": RECIPIENTS}, "every row sent", log, every=0.5)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()

    received = Counter(inbox.to)
    expected = {f"customer{n}@example.com" for n in range(RECIPIENTS)}
    twice = [address for address, count in received.items() if count > 1]
    assert twice == []
    assert set(received) <= expected
    assert expected - set(received) <= {last_recorded}
    assert len(inbox.to) >= RECIPIENTS - 1
    resent = db.rows("SELECT COUNT(*) FROM outreach_delivery WHERE attempts = 2")[0][0]
    assert resent == held


# --- one worker, in this process ---------------------------------------------------------


class PipeliningInbox(OffersPipelining, Inbox):
    """The outreach tests' inbox, offering PIPELINING."""


@pytest.fixture
def pipelining_server(settings: Any) -> Iterator[Inbox]:
    inbox = PipeliningInbox()
    with serving(inbox, settings):
        yield inbox


def small_wave(coordinator: Any, approver: Any) -> Any:
    incident = ob.recall_with_ledger(
        coordinator,
        [
            {"name": "Ann Owner", "email": "ann@example.com"},
            {"name": "Bea Owner", "email": "bea@example.com"},
        ],
    )
    version = ob.approved(coordinator, approver, incident)
    # Not sent on launch: the test's transaction never commits, so nothing is enqueued.
    return waves.do_launch_wave(
        coordinator, incident, version, channels=["email"], respect_quiet_hours=False
    )


@pytest.mark.django_db
def test_a_worker_that_lost_its_claim_drops_the_message_rather_than_send_it_twice(
    coordinator, approver, pipelining_server
):
    wave = small_wave(coordinator, approver)
    mine = timezone.now()
    rows = dispatch.claim(wave, 0, mine)
    # This worker stalled past its lease and another claimed Ann's row meanwhile.
    theirs = mine + dt.timedelta(seconds=1)
    Delivery.objects.filter(wave=wave, address="ann@example.com").update(claimed_at=theirs)

    sender = dispatch.BatchSender(wave, 0, mine)
    try:
        sender.send_rows(rows)
    finally:
        sender.close()

    assert [m["To"] for m in pipelining_server.messages] == ["bea@example.com"]
    assert sender.counts == {"sent": 1, "lost": 1}
    ann = Delivery.objects.get(wave=wave, address="ann@example.com")
    assert (ann.status, ann.claimed_at, ann.provider_id) == (S.CLAIMED, theirs, "")
    assert Delivery.objects.get(wave=wave, address="bea@example.com").status == S.SENT


@pytest.mark.django_db
def test_a_commit_that_fails_before_the_final_dot_leaves_the_server_without_the_message(
    pipelining_server,
):
    transport = SmtpTransport()
    item = Outgoing(
        delivery_id=1,
        address="ann@example.com",
        language="en",
        subject="Recall",
        text="Stop using the heater.",
        html="",
        link="https://example.com/a/x/",
        party_name="Ann Owner",
        reference="RC-2026-0001",
    )

    def refuse(provider_id: str) -> None:
        raise RuntimeError("the database went away")

    try:
        with pytest.raises(RuntimeError):
            transport.send_committing(item, refuse)
        kept = transport.send_committing(replace(item, address="bea@example.com"), None)
    finally:
        transport.close()

    assert [(m["To"], m["Message-ID"]) for m in pipelining_server.messages] == [
        ("bea@example.com", kept)
    ]


@pytest.mark.django_db
def test_a_pipelining_server_that_refuses_an_address_gets_nothing_and_the_address_is_bad(
    coordinator, approver, pipelining_server
):
    pipelining_server.refuse.add("ann@example.com")
    wave = small_wave(coordinator, approver)

    dispatch.send_batch(wave.pk, 0)

    assert [m["To"] for m in pipelining_server.messages] == ["bea@example.com"]
    ann = Delivery.objects.get(wave=wave, address="ann@example.com")
    assert ann.status == S.BOUNCED and "550" in ann.error
    assert BadContact.objects.filter(channel="email", address="ann@example.com").exists()
