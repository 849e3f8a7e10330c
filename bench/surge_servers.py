"""The servers the surge bench starts (the app server under test, nginx serving the static
export) and what it reads about them: the tools it needs, free ports, CPU time from /proc.

Part of ``bench/surge.py`` (run that).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0


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
