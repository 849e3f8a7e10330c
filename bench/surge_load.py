"""Driving the surge bench's targets: flat out with wrk, and at a fixed rate with an open-loop
asyncio generator for the latency people get when the site is busy but not saturated.

Part of ``bench/surge.py`` (run that).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import re
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from match import say
from surge_servers import Process, find_tool, tree_cpu_seconds

WARMUP_SECONDS = 2
# Connections (and so requests in flight) of the fixed-rate generator: as many as wrk uses.
MAX_IN_FLIGHT = 64

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
    target: Target, rate: float, seconds: float, warmup: float = 0.0
) -> tuple[list[float], list[float], int, int]:
    """Requests at random (Poisson) times, ``rate`` a second on average, each sent at its
    time whether or not earlier ones were answered, over at most ``MAX_IN_FLIGHT``
    connections: first for ``warmup`` seconds, not counted, then for ``seconds``. Returns the
    latencies (from the time a request was due to its answer), how late the generator woke up
    for each send it slept for, in seconds, how many sends waited for a connection, and how
    many answers came in all, the warm-up's included.

    The connections of the warm-up are kept for the count (a server sees the same clients
    going on), and there are never more than ``MAX_IN_FLIGHT`` of them: when this generator
    falls behind (it shares the CPUs), opening a connection for every send it is late with
    made it slower still, and it measured itself, not the server (nginx answered at p99 in
    half a second at 1,500 a second). A send waiting for a connection still counts from the
    time it was due."""
    parts = urlsplit(target.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    paths = target.paths or [parts.path]
    loop = asyncio.get_running_loop()
    rng = random.Random(20260101)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    lateness: list[float] = []
    answered = [0]
    counted_from = loop.time() + warmup

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
        answered[0] += 1
        if due >= counted_from:
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

    # One request at a time on a connection, so this bounds the connections too.
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    tasks: list[asyncio.Task[None]] = []
    capped = 0
    start = due = loop.time()
    while (due := due + rng.expovariate(rate)) < start + warmup + seconds:
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
            if due >= counted_from:
                lateness.append(loop.time() - due)
        capped += in_flight.locked() and due >= counted_from
        await in_flight.acquire()
        tasks.append(asyncio.create_task(bounded(paths[len(tasks) % len(paths)], due)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return latencies, lateness, capped, answered[0]


def at_rate(target: Target, rate: float, args: argparse.Namespace) -> Load:
    """The target driven at ``rate`` requests per second, to read p99 below saturation.

    wrk keeps a fixed number of requests in flight and has no fixed-rate mode (wrk2 is not
    packaged in Debian), so this is a small asyncio generator in this process: requests
    arrive at random times at the given mean rate, each counted from when it was due, so
    time queued in the server or behind a slow answer counts (no coordinated omission).
    ``lag_p99_ms`` says how late the generator itself woke up to send (it shares the CPUs);
    with ``MAX_IN_FLIGHT`` requests unanswered (all its connections busy: the server is
    saturated, or the generator fell behind) a send waits for an answer, which counts too,
    and ``capped`` says how many did.
    """
    assert target.server.proc is not None
    server_before = tree_cpu_seconds(target.server.proc.pid)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    # This process holds Django and the generated site: a full collection in the middle of
    # the run would stall the generator for tens of milliseconds, charged to the server as
    # latency. What is alive now is frozen out of the collector's sight for the run.
    gc.collect()
    gc.freeze()
    try:
        latencies, lateness, capped, answered = asyncio.run(
            open_loop(target, rate, args.duration, warmup=WARMUP_SECONDS)
        )
    finally:
        gc.unfreeze()
    # The warm-up is in the wall and CPU times, so the rate and CPU per request are of every
    # answer; the latencies are of the answers counted.
    wall = time.perf_counter() - started
    server_cpu = tree_cpu_seconds(target.server.proc.pid) - server_before
    after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    ordered = sorted(latencies)
    load = Load(
        rps=answered / wall,
        p50_ms=percentile(ordered, 50) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        mean_ms=sum(ordered) / len(ordered) * 1000,
        requests=len(latencies),
        bytes_per_response=0,
        server_cpu_us=server_cpu / answered * 1e6,
        client_cpus=client_cpu / wall,
        lag_p99_ms=percentile(sorted(lateness), 99) * 1000 if lateness else 0.0,
        capped=capped,
    )
    say(
        f"  {target.name} at {rate:,.0f}/s: {load.rps:,.0f} requests/s answered, "
        f"p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms; generator {load.client_cpus:.2f} "
        f"CPUs, woke late by {load.lag_p99_ms:.2f} ms at p99, {capped:,} sends waited for one "
        f"of {MAX_IN_FLIGHT} connections"
    )
    return load
