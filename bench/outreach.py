"""Benchmark: queue a wave of a million emails, then send it through real workers and SMTP.

Run as ``.venv/bin/python bench/outreach.py [--recipients N] [--workers W]
[--database-url URL]``.

It builds a throwaway database (a temporary SQLite file, or a fresh ``recalldesk_bench``
database on the PostgreSQL server of ``--database-url``, dropped afterwards), generates N
consumers in SQL, each with one holding and one ledger entry of one incident, and an approved
English message, then measures:

- ``do_launch_wave``, the real code path: every delivery row written and one task per batch
  queued (the ``queued`` figure);
- the dispatch: W ``manage.py db_worker`` processes send the wave to an SMTP sink on loopback
  (postfix's ``smtp-sink`` when installed, else an aiosmtpd server in its own process), until
  every delivery is recorded sent; the rows recorded sent must equal the recipients and what
  the sink counted;
- references against the same kind of sink: a bare smtplib loop sending pre-rendered messages
  over one connection (a sample, as a rate), and postfix's ``smtp-source`` (C) when installed,
  each run three times before and three times after the dispatch (the medians are used).

Progress goes to standard output; the last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from match import Dialect, Loader, create_postgres, drop_postgres, say, step

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
NOW = "2026-01-01 00:00:00"
CHUNK = 1_000_000
SMTPLIB_SAMPLE = 20_000
REFERENCE_RUNS = 3
# Which sink: postfix's smtp-sink when installed, else aiosmtpd (--sink chooses).
SINK = "smtp-sink" if os.path.exists(SMTP_SINK) else "aiosmtpd"


# --- the SMTP sink ----------------------------------------------------------------------


def serve_sink() -> None:
    """An aiosmtpd server on a free loopback port that counts the messages it accepts.

    Prints its port on start and its count when told to stop (SIGTERM or SIGINT).
    """
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class Counter:
        accepted = 0

        async def handle_EHLO(
            self,
            server: SMTP,
            session: Session,
            envelope: Envelope,
            hostname: str,
            responses: list[str],
        ) -> list[str]:
            # Offer PIPELINING, as smtp-sink and postfix do.
            session.host_name = hostname
            return [*responses[:-1], "250-PIPELINING", responses[-1]]

        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            self.accepted += 1
            return "250 OK"

    async def run() -> None:
        counter = Counter()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(counter, hostname="sink.test", ident="sink"), "127.0.0.1", 0
        )
        print(server.sockets[0].getsockname()[1], flush=True)
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        server.close()
        print(counter.accepted, flush=True)

    asyncio.run(run())


class Sink:
    """One SMTP sink process for one measured step, and the messages it counted."""

    def __init__(self) -> None:
        self.postfix = SINK == "smtp-sink"
        self.port = 0
        self.proc: subprocess.Popen[Any] | None = None
        self.counter: Any = None

    def __enter__(self) -> Sink:
        if self.postfix:
            self.port = free_port()
            # Its counters go to a file: through a pipe nobody reads until the end, the
            # sink would block once the pipe's buffer is full.
            self.counter = tempfile.TemporaryFile("w+")
            # -c counts, -u drops root; 1000 is the connection backlog.
            self.proc = subprocess.Popen(
                [SMTP_SINK, "-c", "-u", "nobody", f"127.0.0.1:{self.port}", "1000"],
                stdout=self.counter,
            )
            wait_for_port(self.port)
        else:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--serve-sink"], stdout=subprocess.PIPE, text=True
            )
            assert self.proc.stdout is not None
            self.port = int(self.proc.stdout.readline())
        return self

    def stop(self) -> int:
        """Stop the sink; the number of messages it accepted."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        self.proc = None
        if self.postfix:
            self.counter.seek(0)
            # smtp-sink -c rewrites one line ("sess=1 quit=1 mesg=20000") with a \r each time.
            messages = re.findall(r"mesg=(\d+)", self.counter.read()[-4096:])
            self.counter.close()
            return int(messages[-1]) if messages else 0
        return int(out.split()[-1])

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int) -> None:
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the SMTP sink did not listen on port {port}")


# --- the data ---------------------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recalldesk.settings")
    os.environ["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    import django

    django.setup()


def generate(dialect: Dialect, count: int) -> Any:
    """N consumers with one holding each, all in one incident's ledger; the incident."""
    from django.utils import timezone

    from recalldesk.incidents.choices import IncidentKind, IncidentStatus
    from recalldesk.incidents.models import Incident, LedgerEntry
    from recalldesk.registry.models import Holding, Party, Product

    product = Product.objects.create(sku="BENCH-HEATER", name="Space heater model 7")
    incident = Incident.objects.create(
        reference="RC-BENCH-0002",
        kind=IncidentKind.RECALL,
        title="Space heater overheats",
        hazard="Overheating.",
        status=IncidentStatus.ACTIVE,
        first_notice_at=timezone.now(),
    )
    loader = Loader(dialect)
    d = dialect
    tables = (Party, Holding, LedgerEntry)
    with step(f"{count:,} parties, holdings and ledger entries"):
        for model in tables:
            with loader.without_indexes(model._meta.db_table):
                for lo in range(1, count + 1, CHUNK):
                    hi = min(count, lo + CHUNK - 1)
                    loader.execute(insert_sql(d, model, lo, hi, product.pk, incident.pk))
    first = loader.execute(f"SELECT MIN(id), MAX(id) FROM {Party._meta.db_table}")[0]
    if first[1] - first[0] + 1 != count:
        raise RuntimeError("parties did not get consecutive ids")
    with step("statistics"):
        loader.execute("ANALYZE")
    loader.close()
    return incident


def insert_sql(d: Dialect, model: Any, lo: int, hi: int, product: int, incident: int) -> str:
    """One INSERT ... SELECT over ids lo..hi; party i owns holding i and ledger entry i."""
    from recalldesk.incidents.models import LedgerEntry
    from recalldesk.registry.models import Holding, Party

    table = model._meta.db_table
    series = d.series(lo, hi)
    party = f"(SELECT MIN(id) FROM {Party._meta.db_table}) - 1 + i"
    if model is Party:
        return (
            f"INSERT INTO {table} (uuid, role, external_id, name, consignee_kind, email, phone,"
            " address_line1, address_line2, city, region, postcode, country, language,"
            " time_zone, preferred_channels, opted_out_channels, webhook_url, created_at,"
            " updated_at)"
            f" SELECT {d.uuid('i')}, 'consumer', 'C' || {d.pad('i', 9)},"
            f" 'Customer ' || {d.text('i')}, '', 'customer' || {d.text('i')} || '@example.com',"
            f" '', {d.text('i % 9000 + 1')} || ' Main Street', '', 'Springfield', 'R1',"
            f" {d.pad('i % 100000', 5)}, 'US', 'en', 'UTC', '[]', '[]', '', '{NOW}', '{NOW}'"
            f" FROM {series}"
        )
    if model is Holding:
        return (
            f"INSERT INTO {table} (external_id, kind, party_id, product_id, lot, serial,"
            " serial_prefix, serial_number, quantity, region, postcode, country, source,"
            " service, account_number, area, created_at, updated_at)"
            f" SELECT 'H' || {d.pad('i', 10)}, 'unit', {party}, {product},"
            f" 'L2407A' || {d.text('i % 16 + 1')}, 'SN-' || {d.pad('i', 8)}, 'SN-', i, 1, 'R1',"
            f" {d.pad('i % 100000', 5)}, 'US', 'order', '', '', '', '{NOW}', '{NOW}'"
            f" FROM {series}"
        )
    holding = f"(SELECT MIN(id) FROM {Holding._meta.db_table}) - 1 + i"
    # The entry's holdings, as the match writes them: [[holding id, units]].
    if d.pg:
        pairs = f"ARRAY[ARRAY[({holding})::bigint, 1]]"
    else:
        pairs = f"json_array(json_array({holding}, 1))"
    assert model is LedgerEntry
    return (
        f"INSERT INTO {table} (incident_id, party_id, status, units, holdings_count, holdings,"
        " first_affected_at, updated_at)"
        f" SELECT {incident}, {party}, 'affected', 1, 1, {pairs}, '{NOW}', '{NOW}' FROM {series}"
    )


def approved_version(incident: Any) -> Any:
    """An English consumer notice, approved, as the console would leave it."""
    from django.utils import timezone

    from recalldesk.outreach.choices import Audience, VersionStatus
    from recalldesk.outreach.models import FactSheet, Message, MessageVersion

    message = Message.objects.create(
        incident=incident, name="Stop using your heater", audience=Audience.CONSUMER
    )
    version = MessageVersion.objects.create(
        message=message, number=1, status=VersionStatus.APPROVED, approved_at=timezone.now()
    )
    FactSheet.objects.create(
        version=version,
        language="en",
        headline="Recall: Space heater model 7 can overheat",
        product="Space heater model 7, white, sold from March to July 2024.",
        identification="The lot code is on the label under the base, e.g. L2407A1.",
        hazard="The heater can overheat and melt its casing, posing a fire hazard.",
        instructions="Stop using the heater now and unplug it, {{ name }}.",
        remedy="We refund the full price or replace the heater, free of charge.",
        contact="Call 0800 123 456, 8am to 8pm, or write to safety@example.com.",
        sms="Recall: stop using your space heater model 7. {{ link }}",
    )
    return version


def coordinator() -> Any:
    from django.contrib.auth.models import Group, User

    from recalldesk.staff.roles import ensure_roles

    ensure_roles()
    user = User.objects.create_user("bench-coordinator", "bench@example.com", "bench-pass-9")
    user.groups.add(Group.objects.get(name="coordinator"))
    return User.objects.get(pk=user.pk)  # fresh, so its permission cache is empty


# --- the measures -----------------------------------------------------------------------


def measure_queue(user: Any, incident: Any, version: Any, batch_size: int | None) -> Any:
    from recalldesk.outreach.waves import do_launch_wave

    started = time.perf_counter()
    wave = do_launch_wave(
        user, incident, version, channels=["email"], segment={}, batch_size=batch_size
    )
    seconds = time.perf_counter() - started
    say(f"  do_launch_wave: {seconds:.2f} s, {wave.total:,} deliveries in {wave.batches} batches")
    return wave, seconds


def status_counts(wave: Any) -> dict[str, int]:
    from django.db.models import Count

    from recalldesk.outreach.models import Delivery

    rows = Delivery.objects.filter(wave=wave).values_list("status").annotate(n=Count("id"))
    return dict(rows)


def measure_dispatch(wave: Any, url: str, workers: int, port: int) -> tuple[float, float]:
    """W db_worker processes until no delivery of the wave is queued or claimed; the rate,
    and the wall-clock time the workers were started at."""
    from django.db import close_old_connections

    from recalldesk.outreach.models import Delivery

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "db_worker",
        # The system checks load the whole URLconf (the API, its schemas, the importers):
        # about 1.5 s of CPU per worker, which a short run would count as sending time.
        "--skip-checks",
        "--no-startup-delay",
        "--no-reload",
        "--interval",
        "0.2",
        "--verbosity",
        "0",
    ]
    pending = Delivery.objects.filter(wave=wave, status__in=["queued", "claimed"])
    started, wall_start = time.perf_counter(), time.time()
    procs = [subprocess.Popen(command, env=env, cwd=ROOT) for _ in range(workers)]
    try:
        left, last_change, last_report = wave.total, time.perf_counter(), 0.0
        while left:
            time.sleep(0.5)
            close_old_connections()
            now_left = pending.count()
            now = time.perf_counter()
            if now_left != left:
                last_change = now
            left = now_left
            if now - last_report >= 10:
                say(f"    {wave.total - left:,} of {wave.total:,} after {now - started:.0f} s")
                last_report = now
            if now - last_change > 120:
                raise RuntimeError(f"no progress for two minutes: {status_counts(wave)}")
            if any(proc.poll() is not None for proc in procs):
                raise RuntimeError("a worker exited early")
        seconds = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    rate = wave.total / seconds
    say(f"  dispatch: {seconds:.1f} s, {rate:,.0f} messages/s with {workers} workers")
    return rate, wall_start


def sample_messages(wave: Any, count: int) -> list[tuple[str, bytes]]:
    """Pre-rendered messages of the wave's first ``count`` deliveries: (address, bytes)."""
    from recalldesk.outreach.channels.email.mime import build_message
    from recalldesk.outreach.models import Delivery
    from recalldesk.outreach.rendering import ack_link, compiled_for

    compiled = compiled_for(wave.version_id, "en", "email")
    rows = Delivery.objects.filter(wave=wave).order_by("id")[:count]
    out = []
    for row in rows.values("id", "address", "party__name", "party__uuid"):
        parts = compiled.fill(
            {
                "name": row["party__name"],
                "units": "1 × Space heater model 7, lot L2407A1",
                "link": ack_link(wave.incident.uuid, row["party__uuid"]),
                "reference": wave.incident.reference,
            }
        )
        data = build_message(
            sender="Product Safety <safety@example.com>",
            to=row["address"],
            subject=parts["subject"],
            text=parts["text"],
            html=parts["html"],
            message_id=f"<d{row['id']}@example.com>",
        )
        out.append((row["address"], data))
    return out


def measure_smtplib(messages: list[tuple[str, bytes]]) -> list[float]:
    """Rates of a bare smtplib loop over one connection, one run per fresh sink."""
    rates = []
    for _ in range(REFERENCE_RUNS):
        with Sink() as sink:
            smtp = smtplib.SMTP("127.0.0.1", sink.port)
            started = time.perf_counter()
            for address, data in messages:
                smtp.sendmail("safety@example.com", [address], data)
            seconds = time.perf_counter() - started
            smtp.quit()
            accepted = sink.stop()
        if accepted != len(messages):
            raise RuntimeError(f"smtplib sent {len(messages)}, the sink counted {accepted}")
        rates.append(len(messages) / seconds)
    say(f"  smtplib loop, {len(messages):,} messages: {', '.join(f'{r:,.0f}' for r in rates)}/s")
    return rates


def measure_smtp_source(count: int, size: int) -> list[float]:
    """Rates of postfix's smtp-source, one session, ``count`` messages of ``size`` bytes;
    none when it is not installed."""
    if not os.path.exists(SMTP_SOURCE):
        say("  smtp-source: not installed (Debian package postfix)")
        return []
    rates = []
    for _ in range(REFERENCE_RUNS):
        with Sink() as sink:
            target = f"127.0.0.1:{sink.port}"
            started = time.perf_counter()
            subprocess.run(
                [SMTP_SOURCE, "-d", "-s", "1", "-m", str(count), "-l", str(size), "-N", target],
                check=True,
            )
            seconds = time.perf_counter() - started
            accepted = sink.stop()
        if accepted != count:
            raise RuntimeError(f"smtp-source sent {count}, the sink counted {accepted}")
        rates.append(count / seconds)
    say(f"  smtp-source, {count:,} messages: {', '.join(f'{r:,.0f}' for r in rates)}/s")
    return rates


def measure_references(messages: list[tuple[str, bytes]]) -> tuple[list[float], list[float]]:
    size = sum(len(data) for _, data in messages) // len(messages)
    return measure_smtplib(messages), measure_smtp_source(len(messages), size)


# --- the run ----------------------------------------------------------------------------


def bench(args: argparse.Namespace, url: str) -> dict[str, Any]:
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max, Min

    from recalldesk.outreach.models import Delivery

    dialect = Dialect(connection.vendor)
    say(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    say(f"SMTP sink: {SINK}")
    with step("migrate"):
        call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
    incident = generate(dialect, args.recipients)
    version = approved_version(incident)
    user = coordinator()

    say("queue:")
    wave, queue_seconds = measure_queue(user, incident, version, args.batch_size)
    if wave.total != args.recipients:
        raise RuntimeError(f"{wave.total} deliveries queued for {args.recipients} recipients")

    # The references run before and after the dispatch, and the medians of both are used:
    # a shared machine's load drifts over a run of many minutes.
    say("references, before:")
    messages = sample_messages(wave, min(args.recipients, args.sample))
    smtplib_rates, source_rates = measure_references(messages)

    say("dispatch:")
    with Sink() as sink:
        dispatch_rate, dispatch_start = measure_dispatch(wave, url, args.workers, sink.port)
        accepted = sink.stop()

    say("references, after:")
    after = measure_references(messages)
    smtplib_rate = statistics.median(smtplib_rates + after[0])
    source_rate = statistics.median(source_rates + after[1]) if source_rates else None
    say(
        f"  medians: smtplib {smtplib_rate:,.0f}/s"
        + (f", smtp-source {source_rate:,.0f}/s" if source_rate else "")
    )
    counts = status_counts(wave)
    sent = counts.get("sent", 0)
    say(f"  rows: {counts}; the sink counted {accepted:,}")
    if not (sent == args.recipients == accepted):
        raise RuntimeError(
            f"{sent:,} rows sent and {accepted:,} messages received for {args.recipients:,}"
        )
    sends = Delivery.objects.filter(wave=wave).aggregate(first=Min("sent_at"), last=Max("sent_at"))
    span = (sends["last"] - sends["first"]).total_seconds()
    # The workers' start-up (and a short run's first batch) is in the dispatch time; the
    # rate between the first and the last send is the sending alone.
    first_send = sends["first"].timestamp() - dispatch_start
    steady_rate = args.recipients / span
    say(
        f"  first send {first_send:.1f} s after the workers started; from the first send to "
        f"the last: {steady_rate:,.0f} messages/s ({steady_rate / smtplib_rate:.2f} of smtplib)"
    )

    return {
        "bench": "outreach",
        "database": dialect.vendor,
        "sink": SINK,
        "workers": args.workers,
        "recipients": args.recipients,
        "message_bytes": sum(len(data) for _, data in messages) // len(messages),
        "seconds_to_queue": round(queue_seconds, 2),
        "dispatch_msgs_per_s": round(dispatch_rate, 1),
        "dispatch_msgs_per_s_first_to_last_send": round(steady_rate, 1),
        "seconds_to_first_send": round(first_send, 2),
        "smtplib_msgs_per_s": round(smtplib_rate, 1),
        "ratio_to_smtplib": round(dispatch_rate / smtplib_rate, 2),
        "ratio_to_smtplib_first_to_last_send": round(steady_rate / smtplib_rate, 2),
        "smtp_source_msgs_per_s": round(source_rate, 1) if source_rate else None,
        "ratio_to_smtp_source": round(dispatch_rate / source_rate, 2) if source_rate else None,
        "rows_recorded": sent,
        "sink_accepted": accepted,
    }


def main() -> int:
    global SINK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="default: settings.OUTREACH_BATCH_SIZE"
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=SMTPLIB_SAMPLE,
        help="messages each reference sends, to give its rate",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL URL to an existing database (the admin connection); the bench "
        "creates and drops its own recalldesk_bench database there. Default: a temporary "
        "SQLite file.",
    )
    parser.add_argument(
        "--sink",
        choices=["smtp-sink", "aiosmtpd"],
        default=SINK,
        help=f"the SMTP server sent to (default here: {SINK})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--serve-sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    SINK = args.sink
    if args.serve_sink:
        serve_sink()
        return 0
    tmpdir = None
    if args.database_url:
        url = create_postgres(args.database_url)
    else:
        tmpdir = tempfile.mkdtemp(prefix="recalldesk-bench-")
        url = f"sqlite:///{tmpdir}/bench.sqlite3"
    try:
        figures = bench(args, url)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            say(f"kept: DATABASE_URL={url}")
        elif args.database_url:
            drop_postgres(args.database_url)
        elif tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
