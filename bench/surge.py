"""Benchmark: the public crisis site under a surge, against nginx serving its static export.

Run as ``.venv/bin/python bench/surge.py [--duration S] [--connections C] [--threads T]
[--server gunicorn|granian] [--workers W] [--app MODULE:NAME] [--database-url URL]``. Needs
``wrk`` and ``nginx`` (Debian packages of those names) and the server's Python package; it
says what is missing and stops.

It builds a throwaway database (a temporary SQLite file, or a fresh ``recalldesk_bench``
database on the PostgreSQL server of ``--database-url``, dropped afterwards) holding one
published recall through the real actions: four products, a scope of 2,000 lots and 50 serial
ranges, an approved consumer notice in English and German, a published update and a few FAQ
entries. It writes the static export with ``manage.py export_site``, then serves the app with
a production server on loopback (gunicorn by default, workers set to the CPU count) and,
in the same run, nginx serving the export, and drives each with wrk:

- ``nginx``: the exported incident page as a static file, the ceiling for the page;
- ``bare``: a Django view returning the exported page's bytes, fixed, through the same
  server, settings and middleware: the least a Django view costs here (it comes first in
  the URLconf, where the page's URL is matched against a dozen patterns on the way);
- ``page``: ``/status/<slug>/``, the incident page as the public gets it;
- ``lookup``: ``/status/<slug>/lookup/`` with a thousand different queries, half affected
  and half not, by GTIN and lot, lot alone, serial number and scanned GS1 code.

Each is first driven flat out (``rps``, ``p50``, ``p99``, the ratio to nginx), then the page
and the lookup are driven at half their target rate to read the latency people get when the
site is busy but not saturated (see ``at_rate`` for how). The load generators share the
machine with the servers, as the targets assume. Each run also gives the server's CPU time
per request (all its processes, from /proc) and the CPUs the generator kept busy: when other
work shares the machine, requests per second fall with it but CPU time per request moves
much less, and the load averages before and after say whether there was any. Progress goes
to standard output; the last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.util
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from match import create_postgres, drop_postgres, say, step

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLUG = "rc-surge-0001"
PRODUCTS = 4
SERIAL_PRODUCTS = (2, 3)  # product indexes whose units carry a serial number
SCOPE_LOTS = 2000
SCOPE_RANGES = 50
RANGE_WIDTH = 1000
RANGE_STRIDE = 10_000
LOOKUP_QUERIES = 1000
# The targets for this 2-core machine (wrk included): flat-out rates, and p99 when
# driven at half of them.
TARGET_RPS = {"page": 3000, "lookup": 2000}
TARGET_P99_MS = 50.0
WARMUP_SECONDS = 2
MAX_IN_FLIGHT = 512
READY_TIMEOUT = 30.0
APP = "recalldesk.wsgi:application"
AFFECTED_HEADING = "Yes, this unit is affected."
NOT_AFFECTED_HEADING = "No, this unit is not affected."

SHEETS = {
    "en": {
        "headline": "Product safety recall: Northwind fan heaters and stacking cups",
        "product": "Northwind fan heaters NH-2000 and NH-3000, and Tumble stacking cups.",
        "identification": "The lot code is printed on the label under the base, e.g. L2407A1.",
        "hazard": "The heater can overheat and catch fire, which can cause serious burns.",
        "instructions": "Stop using the product now, unplug it and keep it away from children.",
        "remedy": "We give you a full refund or a free replacement, your choice.",
        "contact": "Call 0800 123 456 (8am to 8pm, every day) or write to safety@example.com.",
        "sms": "Safety recall: stop using your Northwind heater, fire risk.",
    },
    "de": {
        "headline": "Produktsicherheitsrückruf: Northwind Heizlüfter und Stapelbecher",
        "product": "Northwind Heizlüfter NH-2000 und NH-3000 sowie Tumble Stapelbecher.",
        "identification": "Die Charge steht auf dem Etikett unter dem Sockel, z. B. L2407A1.",
        "hazard": "Das Gerät kann überhitzen und Feuer fangen; schwere Verbrennungen sind möglich.",
        "instructions": "Benutzen Sie das Produkt nicht mehr und ziehen Sie den Stecker.",
        "remedy": "Sie erhalten den vollen Kaufpreis zurück oder ein kostenloses Ersatzprodukt.",
        "contact": "Rufen Sie 0800 123 456 an oder schreiben Sie an safety@example.com.",
        "sms": "Sicherheitsrückruf: Northwind Heizlüfter nicht mehr benutzen, Brandgefahr.",
    },
}
UPDATE = {
    "resolved": "Every retailer has taken the products off its shelves.",
    "in_progress": "Replacement heaters are on their way to the first claimants.",
    "take_part": "Check your lot code below and register your unit.",
}
FAQ = [
    ("How do I find the lot code?", "It is printed on the label under the base, e.g. L2407A1."),
    ("Do I need the receipt?", "No. The lot code or serial number is enough."),
    ("How long does a refund take?", "We pay within 14 days of receiving your claim."),
]


# --- what is needed ----------------------------------------------------------------------


def find_tool(name: str) -> str | None:
    """``name`` on PATH or in the sbin directories, which a non-root PATH often lacks."""
    return shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/sbin") if (p := Path(d) / name).exists()), None
    )


def missing_tools(server: str) -> list[str]:
    missing = []
    for tool in ("wrk", "nginx"):
        if find_tool(tool) is None:
            missing.append(f"{tool} (Debian package {tool}: apt-get install {tool})")
    if importlib.util.find_spec(server) is None:
        missing.append(f"{server} (Python package {server}, in this virtualenv)")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the site ----------------------------------------------------------------------------


def setup_django(url: str, data_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recalldesk.settings")
    # Nothing is sent: the tasks a publish queues go nowhere.
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    import django

    django.setup()


def gtin_of(n: int) -> str:
    from stdnum import ean

    stem = f"400638{n:06d}"
    return stem + ean.calc_check_digit(stem)


def lot_code(index: int) -> str:
    """``L2407A1``: month, shift letter and line, 416 lots a month from January 2021."""
    month, rest = divmod(index, 26 * 16)
    letter, line = divmod(rest, 16)
    return f"L{21 + month // 12:02d}{month % 12 + 1:02d}{chr(65 + letter)}{line + 1}"


def serial_ranges() -> list[tuple[str, int, int]]:
    return [
        ("SN-", k * RANGE_STRIDE + 1, k * RANGE_STRIDE + RANGE_WIDTH) for k in range(SCOPE_RANGES)
    ]


def staff(username: str, role: str) -> Any:
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username, f"{username}@example.com", "bench-pass-9")
    user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)  # fresh, so its permission cache is empty


def publish_site() -> Any:
    """One published recall, made through the same actions the console uses."""
    import datetime as dt

    from django.utils import timezone

    from recalldesk.incidents import actions as incidents
    from recalldesk.incidents.models import Incident
    from recalldesk.outreach import actions as outreach
    from recalldesk.public import actions as public
    from recalldesk.public.models import FaqEntry, PublicPage
    from recalldesk.registry.models import Product
    from recalldesk.staff.roles import ensure_roles

    ensure_roles()
    author = staff("surge-coordinator", "coordinator")
    approver = staff("surge-approver", "approver")
    products = [
        Product.objects.create(
            sku=f"NH-{2000 + n}",
            gtin=gtin_of(n),
            name=("Northwind fan heater" if n in SERIAL_PRODUCTS else "Tumble stacking cups")
            + f" model {n + 1}",
            brand="Northwind",
        )
        for n in range(PRODUCTS)
    ]
    incident = incidents.do_create_incident(
        author,
        Incident(
            reference=SLUG.upper(),
            kind="recall",
            title="Fan heaters overheat; stacking cups break into small parts",
            hazard="Fire and burns; choking.",
        ),
    )
    lots = [lot_code(i) for i in range(SCOPE_LOTS)]
    ranges = serial_ranges()
    # The scope as the scope form cleans it: every rule present, only products and units set.
    data: dict[str, Any] = {
        "products": products,
        "all_units": False,
        "lots": lots,
        "serials": ranges,
        "date_basis": "manufactured",
        **dict.fromkeys(["date_from", "date_to", "window_start", "window_end"]),
        **{rule: [] for rule in ("regions", "postcodes", "services", "areas", "accounts")},
    }
    raw = {
        "lots": "\n".join(lots),
        "serials": "\n".join(f"{p}{a}-{p}{b}" for p, a, b in ranges),
    }
    incidents.do_save_scope(author, incident, data, raw)
    message = outreach.do_create_message(
        author, incident, name="Consumer notice", audience="consumer", sheets=SHEETS
    )
    version = message.latest()
    assert version is not None
    outreach.do_submit(author, version)
    outreach.do_approve(approver, version)
    update = public.do_write_update(
        author, incident, {"en": UPDATE}, timezone.now() + dt.timedelta(days=1)
    )
    public.do_submit_update(author, update)
    public.do_publish_update(approver, update)
    FaqEntry.objects.bulk_create(
        FaqEntry(incident=incident, language="en", question=q, answer=a, order=n)
        for n, (q, a) in enumerate(FAQ)
    )
    page = public.page_for(incident)
    PublicPage.objects.filter(pk=page.pk).update(published=True, phone="0800 123 456")
    public.bump(page)
    return Incident.objects.get(pk=incident.pk)


def lookup_queries(incident: Any) -> tuple[list[str], dict[str, int]]:
    """``LOOKUP_QUERIES`` query strings, half of them affected, and the outcome counts.

    Every outcome is the one the lookup code gives for it (asked here, in this process), so
    the mix is what was asked, not what was hoped for.
    """
    from recalldesk.public.lookup import build_index, lookup

    index = build_index(incident)
    rng = random.Random(20260101)
    lot_gtins = [gtin_of(n) for n in range(PRODUCTS) if n not in SERIAL_PRODUCTS]
    serial_gtins = [gtin_of(n) for n in SERIAL_PRODUCTS]
    ranges = serial_ranges()

    def lot(hit: bool) -> str:
        # Misses are lots of the same shape from the months after the scope's.
        return lot_code(rng.randrange(SCOPE_LOTS) + (0 if hit else SCOPE_LOTS))

    def serial(hit: bool) -> str:
        _, first, _ = rng.choice(ranges)
        offset = rng.randrange(RANGE_WIDTH) if hit else RANGE_WIDTH + rng.randrange(1000)
        return f"SN-{first + offset:08d}"

    queries: list[str] = []
    outcomes: dict[str, int] = {}
    for n in range(LOOKUP_QUERIES):
        hit = n % 2 == 0
        kind = n // 2 % 4
        if kind == 0:
            fields = {"gtin": rng.choice(lot_gtins), "lot": lot(hit)}
        elif kind == 1:
            fields = {"lot": lot(hit)}
        elif kind == 2:
            fields = {"gtin": rng.choice(serial_gtins), "serial": serial(hit)}
        else:
            fields = {"code": f"(01){rng.choice(lot_gtins).zfill(14)}(10){lot(hit)}"}
        outcome = lookup(index, **fields).outcome
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        queries.append(urlencode(fields))
    return queries, outcomes


def write_overrides(directory: Path, page_body: bytes) -> None:
    """A settings module and URLconf adding the bare view, both importable from ``directory``.

    The settings are recalldesk's own (ROOT_URLCONF is not read from the environment), with
    only the URLconf changed, so the bare view runs behind the same middleware.
    """
    (directory / "surge_body.html").write_bytes(page_body)
    (directory / "surge_settings.py").write_text(
        "from recalldesk.settings import *  # noqa: F403\n\nROOT_URLCONF = 'surge_urls'\n"
    )
    (directory / "surge_urls.py").write_text(
        "from pathlib import Path\n\n"
        "from django.http import HttpResponse\n"
        "from django.urls import include, path\n\n"
        "BODY = (Path(__file__).parent / 'surge_body.html').read_bytes()\n\n\n"
        "def bare(request):\n"
        "    return HttpResponse(BODY)\n\n\n"
        "urlpatterns = [path('surge/bare/', bare), path('', include('recalldesk.urls'))]\n"
    )


# --- the servers -------------------------------------------------------------------------


class Process:
    """A server started for the run: waits until it answers, stops by its own pid."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, probe: str) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(probe, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {probe}:\n{tail}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # SIGTERM is a graceful stop for gunicorn, granian and nginx alike.
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def app_command(args: argparse.Namespace, port: int) -> tuple[list[str], str]:
    """The server's command line and a one-line description of it."""
    app = args.app
    workers, threads = args.workers, args.threads_per_worker
    if args.server == "granian":
        options = (
            f"--interface wsgi --host 127.0.0.1 --port {port} --workers {workers}"
            f" --blocking-threads {threads} --no-ws --log-level warning"
        )
        version = importlib.metadata.version("granian")
        plural = "s" if threads > 1 else ""
        described = (
            f"granian {version} (wsgi, {workers} workers, {threads} blocking thread{plural} each)"
        )
        return [sys.executable, "-m", "granian", *options.split(), app], described
    # Sync workers close the connection after each answer; gthread keeps it alive.
    worker = "sync" if threads == 1 else "gthread"
    options = (
        f"--bind 127.0.0.1:{port} --workers {workers} --worker-class {worker}"
        f" --threads {threads} --backlog 4096 --log-level warning"
    )
    version = importlib.metadata.version("gunicorn")
    each = f", {threads} threads each" if worker == "gthread" else ""
    described = f"gunicorn {version} ({worker}, {workers} workers{each})"
    return [sys.executable, "-m", "gunicorn", *options.split(), app], described


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    types {{ text/html html; application/json json; text/css css;
            application/javascript js; application/atom+xml atom; }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/client;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root};
        index index.html;
    }}
}}
"""


def nginx_process(prefix: Path, root: Path, port: int, workers: int) -> Process:
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, root=root, port=port, workers=workers))
    nginx = find_tool("nginx")
    assert nginx is not None
    command = [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "nginx-error.log")]
    return Process("nginx", command, dict(os.environ), prefix / "nginx.log")


# --- wrk ---------------------------------------------------------------------------------

# The Lua that reports the figures as one JSON line (wrk's own text rounds them). Latencies
# are in microseconds; ``paths`` (when set) are cycled through, each thread from its own
# starting point.
WRK_LUA = """\
local paths = {paths}
local threads = 0

function setup(thread)
    thread:set("id", threads)
    threads = threads + 1
end

function init(args)
    if paths then i = (id or 0) * 97 end
end

if paths then
    request = function()
        i = i % #paths + 1
        return wrk.format(nil, paths[i])
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'SURGE-WRK {{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,'
        .. '"write":%d,"status":%d,"timeout":%d,"mean_us":%f,"p50_us":%d,"p90_us":%d,'
        .. '"p99_us":%d,"max_us":%d}}\\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
        e.status, e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max))
end
"""


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by ``pid`` and every process below it.

    Read from /proc: with other work on the machine, requests per second move with it, but
    the server's CPU time per request does not, or much less.
    """
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we read
            continue
        # Fields after the command name (which may hold spaces): state, ppid, ... utime, stime.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, grew = {pid}, True
    while grew:
        below = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= below
        grew = bool(below)
    return sum(ticks.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Target:
    """What wrk drives: a URL (or a list of paths on its host), served by ``server``."""

    name: str
    url: str
    server: Process
    paths: list[str] | None = None


@dataclass
class Load:
    """What one wrk run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    requests: int
    bytes_per_response: int
    server_cpu_us: float  # server CPU time per request, all its processes
    client_cpus: float  # CPUs the load generator kept busy, on average
    lag_p99_ms: float | None = None  # how late the open-loop generator woke, at p99
    capped: int = 0  # open-loop sends held back: too many unanswered

    def figures(self, prefix: str) -> dict[str, float]:
        figures = {
            f"{prefix}_rps": round(self.rps, 1),
            f"{prefix}_p50_ms": round(self.p50_ms, 2),
            f"{prefix}_p99_ms": round(self.p99_ms, 2),
            f"{prefix}_server_cpu_us_per_request": round(self.server_cpu_us),
            f"{prefix}_client_cpus": round(self.client_cpus, 2),
        }
        if self.lag_p99_ms is not None:
            figures[f"{prefix}_send_lag_p99_ms"] = round(self.lag_p99_ms, 2)
            figures[f"{prefix}_sends_held_back"] = self.capped
        return figures


def lua_paths(paths: list[str] | None) -> str:
    if not paths:
        return "nil"
    return "{" + ",".join(json.dumps(p) for p in paths) + "}"


def run_wrk(
    target: Target,
    *,
    seconds: float,
    connections: int,
    threads: int,
    workdir: Path,
) -> Load:
    script = workdir / "surge.lua"
    script.write_text(
        WRK_LUA.format(
            paths=lua_paths(target.paths),
        )
    )
    wrk = find_tool("wrk")
    assert wrk is not None and target.server.proc is not None
    # The timeout is longer than any answer should take: slow answers are counted, not lost.
    options = (
        f"--threads {threads} --connections {connections} --duration {max(1, round(seconds))}s"
        f" --timeout 10s --script {script}"
    )
    server_before, wrk_before = tree_cpu_seconds(target.server.proc.pid), children_cpu_seconds()
    done = subprocess.run(
        [wrk, *options.split(), target.url], capture_output=True, text=True, check=True
    )
    server_cpu = tree_cpu_seconds(target.server.proc.pid) - server_before
    wrk_cpu = children_cpu_seconds() - wrk_before
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("SURGE-WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("SURGE-WRK "))
    errors = {k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]}
    if errors:
        raise RuntimeError(f"wrk saw errors on {target.url}: {errors}\n{done.stdout}")
    if not raw["requests"]:
        raise RuntimeError(f"wrk made no requests to {target.url}:\n{done.stdout}")
    wall = raw["duration_us"] / 1e6
    return Load(
        rps=raw["requests"] / wall,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        requests=raw["requests"],
        bytes_per_response=raw["bytes"] // raw["requests"],
        server_cpu_us=server_cpu / raw["requests"] * 1e6,
        client_cpus=wrk_cpu / wall,
    )


def flat_out(target: Target, args: argparse.Namespace, workdir: Path) -> Load:
    """Warm the workers' caches, then drive the target as fast as it answers."""
    common = {"connections": args.connections, "threads": args.threads, "workdir": workdir}
    run_wrk(target, seconds=WARMUP_SECONDS, **common)
    load = run_wrk(target, seconds=args.duration, **common)
    say(
        f"  {target.name}: {load.rps:,.0f} requests/s, p50 {load.p50_ms:.2f} ms, "
        f"p99 {load.p99_ms:.2f} ms; server {load.server_cpu_us:,.0f} µs CPU a request, "
        f"wrk {load.client_cpus:.2f} CPUs; {load.bytes_per_response:,} bytes a response"
    )
    return load


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def open_loop(
    target: Target, rate: float, seconds: float
) -> tuple[list[float], list[float], int]:
    """Requests at random (Poisson) times, ``rate`` a second on average, each sent at its
    time whether or not earlier ones were answered. Returns the latencies (from the time a
    request was due to its answer), how late the generator woke up for each send it slept
    for, in seconds, and how many sends waited for ``MAX_IN_FLIGHT``."""
    parts = urlsplit(target.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    paths = target.paths or [parts.path]
    loop = asyncio.get_running_loop()
    rng = random.Random(20260101)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    lateness: list[float] = []

    async def exchange(path: str, due: float) -> None:
        # A kept-alive connection when there is one (granian, nginx), else a new one, opened
        # only now: gunicorn's sync workers close after each answer, and a connection opened
        # early and left idle would hold a whole worker waiting for its request.
        for attempt in (1, 2):
            reused = bool(idle)
            reader, writer = idle.pop() if reused else await asyncio.open_connection(host, port)
            try:
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if not reused or attempt == 2:  # a kept-alive one may have timed out
                    raise
        fields = head.decode("latin-1").lower()
        length = re.search(r"\r\ncontent-length: *(\d+)", fields)
        if not fields.startswith("http/1.1 200") or length is None:
            raise RuntimeError(f"{target.url} answered {fields.splitlines()[0]!r}")
        await reader.readexactly(int(length.group(1)))
        latencies.append(loop.time() - due)
        if "\r\nconnection: close" in fields:
            writer.close()
        else:
            idle.append((reader, writer))

    async def bounded(path: str, due: float) -> None:
        try:
            await exchange(path, due)
        finally:
            in_flight.release()

    # Past this many unanswered requests the server is saturated anyway; more connections
    # would only overflow its backlog. Waiting here still counts: latency runs from ``due``.
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    tasks: list[asyncio.Task[None]] = []
    capped = 0
    start = due = loop.time()
    while (due := due + rng.expovariate(rate)) < start + seconds:
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
            lateness.append(loop.time() - due)
        capped += in_flight.locked()
        await in_flight.acquire()
        tasks.append(asyncio.create_task(bounded(paths[len(tasks) % len(paths)], due)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return latencies, lateness, capped


def at_rate(target: Target, rate: float, args: argparse.Namespace) -> Load:
    """The target driven at ``rate`` requests per second, to read p99 below saturation.

    wrk keeps a fixed number of requests in flight and has no fixed-rate mode (wrk2 is not
    packaged in Debian), so this is a small asyncio generator in this process: requests
    arrive at random times at the given mean rate, each counted from when it was due, so
    time queued in the server or behind a slow answer counts (no coordinated omission).
    ``lag_p99_ms`` says how late the generator itself woke up to send (it shares the CPUs);
    past ``MAX_IN_FLIGHT`` unanswered requests (the server is saturated) it waits for
    answers, which counts too, and ``capped`` says how many sends did.
    """
    assert target.server.proc is not None
    asyncio.run(open_loop(target, rate, WARMUP_SECONDS))
    server_before = tree_cpu_seconds(target.server.proc.pid)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    latencies, lateness, capped = asyncio.run(open_loop(target, rate, args.duration))
    wall = time.perf_counter() - started
    server_cpu = tree_cpu_seconds(target.server.proc.pid) - server_before
    after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    ordered = sorted(latencies)
    load = Load(
        rps=len(latencies) / wall,
        p50_ms=percentile(ordered, 50) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        mean_ms=sum(ordered) / len(ordered) * 1000,
        requests=len(latencies),
        bytes_per_response=0,
        server_cpu_us=server_cpu / len(latencies) * 1e6,
        client_cpus=client_cpu / wall,
        lag_p99_ms=percentile(sorted(lateness), 99) * 1000 if lateness else 0.0,
        capped=capped,
    )
    say(
        f"  {target.name} at {rate:,.0f}/s: {load.rps:,.0f} requests/s answered, "
        f"p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms; generator {load.client_cpus:.2f} "
        f"CPUs, woke late by {load.lag_p99_ms:.2f} ms at p99, {capped:,} sends held back by "
        f"{MAX_IN_FLIGHT} unanswered"
    )
    return load


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body.decode()


def check_answers(base: str, incident: Any, queries: list[str]) -> None:
    """The server answers the lookup as this process does, before anything is timed."""
    from urllib.parse import parse_qsl

    from recalldesk.public.lookup import AFFECTED, NOT_AFFECTED, build_index, lookup

    index = build_index(incident)
    headings = {AFFECTED: AFFECTED_HEADING, NOT_AFFECTED: NOT_AFFECTED_HEADING}
    for query in queries[:8]:
        expected = lookup(index, **dict(parse_qsl(query))).outcome
        body = fetch(f"{base}?{query}")
        if headings[expected] not in body:
            raise RuntimeError(f"the lookup of {query} did not answer {expected}")


# --- the run -----------------------------------------------------------------------------


def bench(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    # WhiteNoise warns on every start when STATIC_ROOT is missing; nothing is collected.
    (workdir / "static").mkdir()
    setup_django(url, workdir)
    from django.core.management import call_command
    from django.db import connection

    say(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    with step("migrate"):
        call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
    with step("published recall"):
        incident = publish_site()
    queries, outcomes = lookup_queries(incident)
    export = workdir / "export"
    with step("static export"):
        call_command("export_site", str(export), verbosity=0)
    page_file = export / "status" / SLUG / "index.html"
    page_body = page_file.read_bytes()
    write_overrides(workdir, page_body)
    # nginx's workers run as nobody when started by root: they must be able to read it.
    for path in [workdir, *export.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    connection.close()

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATA_DIR": str(workdir),
        "DJANGO_SETTINGS_MODULE": "surge_settings",
        "PYTHONPATH": os.pathsep.join(
            [str(workdir), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        # The per-IP limit would answer 429 to a load generator on one address.
        "PUBLIC_LOOKUP_RATE": "1000000000/s",
    }
    app_port, nginx_port = free_port(), free_port()
    command, server = app_command(args, app_port)
    app = Process(args.server, command, env, workdir / "server.log")
    nginx = nginx_process(workdir, export, nginx_port, args.workers)
    app_base, nginx_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{nginx_port}"
    page_path, lookup_path = f"/status/{SLUG}/", f"/status/{SLUG}/lookup/"
    say(f"server: {server}; nginx with {args.workers} workers")
    say(f"wrk: {args.threads} threads, {args.connections} connections, {args.duration:g} s a run")
    load_before = os.getloadavg()
    try:
        app.start(f"{app_base}/surge/bare/")
        nginx.start(f"{nginx_base}{page_path}")
        if fetch(f"{nginx_base}{page_path}").encode() != page_body:
            raise RuntimeError("nginx does not serve the exported page")
        if "<h1" not in fetch(f"{app_base}{page_path}"):
            raise RuntimeError("the app does not serve the incident page")
        check_answers(f"{app_base}{lookup_path}", incident, queries)
        lookups = [f"{lookup_path}?{q}" for q in queries]
        targets = {
            "nginx": Target("nginx", f"{nginx_base}{page_path}", nginx),
            "bare": Target("bare", f"{app_base}/surge/bare/", app),
            "page": Target("page", f"{app_base}{page_path}", app),
            "lookup": Target("lookup", f"{app_base}{lookup_path}", app, lookups),
        }
        say("flat out:")
        loads = {name: flat_out(target, args, workdir) for name, target in targets.items()}
        say("at half the target rate:")
        half = {name: at_rate(targets[name], rate / 2, args) for name, rate in TARGET_RPS.items()}
    finally:
        app.stop()
        nginx.stop()
    load_after = os.getloadavg()

    nginx_rps = loads["nginx"].rps
    figures: dict[str, Any] = {
        "bench": "surge",
        "database": connection.vendor,
        "server": server,
        "app": args.app,
        "cpus": os.cpu_count(),
        "wrk_threads": args.threads,
        "wrk_connections": args.connections,
        "seconds_per_run": args.duration,
        "exported_page_bytes": len(page_body),
        "lookup_queries": len(queries),
        "lookup_outcomes": outcomes,
    }
    for name, load in loads.items():
        figures.update(load.figures(name))
        if name != "nginx":
            figures[f"{name}_ratio_to_nginx"] = round(load.rps / nginx_rps, 3)
    for name in ("page", "lookup"):
        figures[f"{name}_ratio_to_bare"] = round(loads[name].rps / loads["bare"].rps, 3)
    for name, load in half.items():
        figures[f"{name}_half_target_rps"] = TARGET_RPS[name] / 2
        figures.update(load.figures(f"{name}_half"))
    figures["half_load_method"] = (
        "open loop: an asyncio generator sends at random (Poisson) times at half the target "
        "rate, each request timed from when it was due to its answer"
    )
    figures["targets_met"] = {
        "page_rps": loads["page"].rps >= TARGET_RPS["page"],
        "lookup_rps": loads["lookup"].rps >= TARGET_RPS["lookup"],
        "page_half_p99": half["page"].p99_ms < TARGET_P99_MS,
        "lookup_half_p99": half["lookup"].p99_ms < TARGET_P99_MS,
    }
    # Other work on the machine skews every figure; the load averages say whether there was.
    figures["load_average_before"] = round(load_before[0], 2)
    figures["load_average_after"] = round(load_after[0], 2)
    return figures


def main() -> int:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds a run (10)")
    parser.add_argument(
        "--connections", type=int, default=64, help="wrk connections, flat out (64)"
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument(
        "--server",
        choices=["gunicorn", "granian"],
        default="gunicorn",
        help="the WSGI server (gunicorn)",
    )
    parser.add_argument(
        "--workers", type=int, default=cpus, help=f"server and nginx workers (CPUs: {cpus})"
    )
    parser.add_argument(
        "--threads-per-worker",
        type=int,
        default=1,
        help="gunicorn: 1 = sync workers, more = gthread; granian: blocking threads (1)",
    )
    parser.add_argument(
        "--app",
        default=APP,
        help=f"the WSGI application served, module:name, e.g. to measure a change ({APP})",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL URL to an existing database (the admin connection); the bench "
        "creates and drops its own recalldesk_bench database there. Default: a temporary "
        "SQLite file.",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    missing = missing_tools(args.server)
    if missing:
        say("surge: missing, install first: " + "; ".join(missing))
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="recalldesk-surge-"))
    url = (
        create_postgres(args.database_url)
        if args.database_url
        else f"sqlite:///{workdir}/surge.sqlite3"
    )
    try:
        figures = bench(args, url, workdir)
    finally:
        from django.conf import settings

        if settings.configured:  # not when it failed before Django was set up
            from django.db import connections

            connections.close_all()
        if args.database_url:
            drop_postgres(args.database_url)
        if args.keep:
            say(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
