"""Benchmark: the public crisis site under a surge, against nginx serving its static export.

Run as ``make bench-surge [DURATION=S]`` (the web server ``make serve`` runs, with its
``SERVER``, ``WORKERS`` and ``THREADS``) or ``.venv/bin/python bench/surge.py [--duration S]
[--connections C] [--threads T] [--server granian|gunicorn] [--workers W]
[--threads-per-worker N] [--app MODULE:NAME] [--database-url URL]``. Needs ``wrk`` and
``nginx`` (Debian packages of those names) and the server's Python package; it says what is
missing and stops.

It builds a throwaway database (a temporary SQLite file, or a fresh ``recalldesk_bench``
database on the PostgreSQL server of ``--database-url``, dropped afterwards) holding one
published recall through the real actions: four products, a scope of 2,000 lots and 50 serial
ranges, an approved consumer notice in English and German, a published update and a few FAQ
entries. It writes the static export with ``manage.py export_site``, then serves the app with
a production server on loopback (granian by default, as ``make serve``; workers set to the
CPU count) and, in the same run, nginx serving the export, and drives each with wrk:

- ``nginx``: the exported incident page as a static file, the ceiling for the page;
- ``bare``: a Django view returning the exported page's bytes, fixed, through the same
  server, settings and middleware: the least a Django view costs here (it comes first in
  the URLconf, where the page's URL is matched against a dozen patterns on the way);
- ``page``: ``/status/<slug>/``, the incident page as the public gets it (answered in front
  of Django when the worker has it in memory, see ``recalldesk/public/fastpath.py``, so it
  can beat ``bare``);
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
import json
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from match import create_postgres, drop_postgres, say, step
from surge_load import MAX_IN_FLIGHT, WARMUP_SECONDS, Target, at_rate, flat_out
from surge_servers import Process, app_command, free_port, missing_tools, nginx_process
from surge_site import SLUG, lookup_queries, publish_site, setup_django, write_overrides

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The targets for this 2-core machine (wrk included): flat-out rates, and p99 when
# driven at half of them.
TARGET_RPS = {"page": 3000, "lookup": 2000}
TARGET_P99_MS = 50.0
APP = "recalldesk.wsgi:application"
AFFECTED_HEADING = "Yes, this unit is affected."
NOT_AFFECTED_HEADING = "No, this unit is not affected."


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
        f"rate over at most {MAX_IN_FLIGHT} connections kept from a {WARMUP_SECONDS} s warm-up, "
        "each request timed from when it was due to its answer"
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
        choices=["granian", "gunicorn"],
        default="granian",
        help="the WSGI server (granian, as make serve)",
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
