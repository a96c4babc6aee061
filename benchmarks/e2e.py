"""End to end: the benchmark apps under real servers, driven by wrk over loopback.

Theory of operation: for each (scenario, server, framework) cell the app of
``apps.py`` (through ``e2e_app.py``) is served by one server process with one
worker on 127.0.0.1 and a free port. The answer is checked once over HTTP
(status and body, as in-process: a wrong answer never gets a number), wrk
warms it up, then runs for ``--duration`` seconds. The server's CPU time is
the user + system time of its whole process tree, read from ``/proc`` before
and after the measured run; divided by the requests wrk completed it is the
server CPU per request, the number that compares frameworks on a loaded
machine (req/s and p99 depend on what else runs on the cores). "above bare"
is a framework's CPU per request minus the bare app's under the same server.
"switches/req" counts how often a server thread went to sleep per request
(voluntary context switches, from /proc): each costs CPU that is the server's.

    python benchmarks/run.py --e2e                          # every cell, a few minutes
    python benchmarks/run.py --e2e --duration 1 --scenario hello --server granian-wsgi

wrk comes from Debian's ``wrk`` package; run as root, the script installs it
when missing. A server that is not installed makes its cells "pending".
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import FRAMEWORKS as BUILDERS
from apps import Pending
from run import Spec, specs

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "e2e.json"
SCENARIOS = ["hello", "param", "json", "cookie_session"]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    """How to start one server with one worker: its protocol and its command."""

    protocol: str
    module: str
    args: tuple[str, ...]

    def command(self, port: int) -> list[str]:
        """The command line that serves ``e2e_app:app`` on ``port``."""
        return [sys.executable, "-m", self.module, *(a.format(host=HOST, port=port) for a in self.args)]


#: granian-wsgi runs the app on one blocking thread, as granian-asgi always does: its
#: default (backpressure / 2 = 512 Python threads) makes up to one thread per
#: connection contend for the GIL, and the server's CPU per request then follows
#: how often its threads sleep and wake, not the app (docs/performance.md, session 10).
SERVERS: dict[str, Server] = {
    "granian-wsgi": Server("wsgi", "granian", (
        "--interface", "wsgi", "--host", "{host}", "--port", "{port}", "--workers", "1",
        "--blocking-threads", "1", "--no-ws", "--log-level", "warning", "e2e_app:app",
    )),
    "granian-asgi": Server("asgi", "granian", (
        "--interface", "asgi", "--host", "{host}", "--port", "{port}", "--workers", "1",
        "--no-ws", "--log-level", "warning", "e2e_app:app",
    )),
    "gunicorn": Server("wsgi", "gunicorn", (
        "--workers", "1", "--worker-class", "gthread", "--threads", "4",
        "--bind", "{host}:{port}", "--log-level", "warning", "e2e_app:app",
    )),
    "uvicorn": Server("asgi", "uvicorn", (
        "--host", "{host}", "--port", "{port}", "--workers", "1", "--log-level", "warning",
        "--no-access-log", "e2e_app:app",
    )),
}
#: Frameworks of apps.py that serve WSGI without "-wsgi" in their name.
WSGI_ONLY = ("flask", "falcon", "bottle")
#: The frameworks each protocol serves by default; the bare app is the floor.
FRAMEWORKS = {
    "wsgi": ["kettle-wsgi", "flask", "falcon", "bare-wsgi"],
    "asgi": ["kettle-asgi", "starlette", "falcon-asgi", "bare-asgi"],
}

# wrk prints one JSON line when it is done; the request is set per scenario.
LUA = """\
wrk.method = {method}
wrk.body = {body}
{headers}
local threads = {{}}
setup = function(thread) table.insert(threads, thread) end
{expect}
done = function(summary, latency, requests)
  local e = summary.errors
  local status = e.status
  if {counted} then
    status = 0
    for _, thread in ipairs(threads) do status = status + thread:get("unexpected") end
  end
  io.write(string.format(
    'KETTLE_E2E {{"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, '
    .. '"errors_status": %.0f, "errors_connect": %.0f, "errors_read": %.0f, '
    .. '"errors_write": %.0f, "errors_timeout": %.0f}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    status, e.connect, e.read, e.write, e.timeout))
end
"""
# wrk counts every status >= 400 as an error. When the scenario's answer is
# one (notfound), count the answers with another status instead; only then,
# since a response() callback makes wrk hand every response to Lua.
LUA_EXPECT = """\
unexpected = 0
response = function(status, headers, body)
  if status ~= {status} then unexpected = unexpected + 1 end
end
"""


def _lua_string(text: str | bytes) -> str:
    data = text.encode("latin-1") if isinstance(text, str) else text
    return '"' + "".join(f"\\{byte}" for byte in data) + '"'


def ensure_wrk() -> str | None:
    """Return the path of wrk; as root, install Debian's package when it is missing."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
        found = shutil.which("wrk")
    return found


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# -- the server's CPU time and context switches, from /proc -----------------------------
def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user + system clock ticks) of one process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3
    return int(fields[1]), int(fields[11]) + int(fields[12])  # fields 4, 14 and 15


def _switches(pid: int) -> int:
    """Voluntary context switches (a thread went to sleep) of the live threads of ``pid``."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in text.splitlines() if line.startswith("voluntary_ctxt"))
    return total


def tree_usage(root: int) -> tuple[float, int]:
    """User + system CPU seconds of ``root`` and every process below it (threads
    included), and the voluntary context switches of their threads."""
    stats: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    children: dict[int, list[int]] = {}
    for pid, (parent, _ticks) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, switches, pending = 0, 0, [root]
    while pending:
        pid = pending.pop()
        total += stats.get(pid, (0, 0))[1]
        switches += _switches(pid)
        pending.extend(children.get(pid, ()))
    return total / os.sysconf("SC_CLK_TCK"), switches


# -- one server ---------------------------------------------------------------------
class Served:
    """One server process serving one app; a context manager that always stops it."""

    def __init__(self, server: Server, framework: str, scenario: str, routes: int) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "KETTLE_BENCH_FRAMEWORK": framework,
            "KETTLE_BENCH_SCENARIO": scenario,
            "KETTLE_BENCH_ROUTES": str(routes),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        }
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            server.command(self.port), cwd=HERE, env=env, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-400:]

    def request(self, spec: Spec, cookie: str = "", timeout: float = 5.0) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the scenario's request once; return status, headers and body."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            headers = dict(spec.headers)
            if cookie:
                headers["Cookie"] = cookie
            target = spec.path + (f"?{spec.query}" if spec.query else "")
            connection.request(spec.method, target, body=spec.body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def wait_ready(self, spec: Spec, timeout: float = 30.0) -> None:
        """Wait until the server answers; raise Pending if it exits or never answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Pending(f"server exited ({self.process.returncode}): {self.output()}")
            try:
                self.request(spec, timeout=2.0)
                return
            except OSError:
                time.sleep(0.1)
        raise Pending(f"server did not answer within {timeout:.0f} s: {self.output()}")

    def stop(self) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL after 10 s."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


def check(served: Served, scenario: str, spec: Spec) -> str:
    """Raise Pending unless the answer is right; return the cookie header wrk sends."""
    cookie = ""
    if scenario == "cookie_session":
        status, headers, body = served.request(spec)
        cookies = [v for n, v in headers if n.lower() == "set-cookie"]
        if status != 200 or not cookies:
            raise Pending(f"no session cookie (status {status})")
        cookie = cookies[0].split(";", 1)[0]
    status, headers, body = served.request(spec, cookie)
    if status != spec.status:
        raise Pending(f"status {status}, expected {spec.status}: {body[:80]!r}")
    if spec.expect is not None and spec.expect not in body:
        raise Pending(f"wrong body {body[:80]!r}")
    if scenario == "cookie_session" and not any(n.lower() == "set-cookie" for n, _ in headers):
        raise Pending("the session was not written back")
    return cookie


def wrk_script(spec: Spec, cookie: str, path: Path) -> str:
    """Write the Lua script that sets the request and reports as JSON; return its path."""
    headers = list(spec.headers) + ([("Cookie", cookie)] if cookie else [])
    lines = "\n".join(f"wrk.headers[{_lua_string(n)}] = {_lua_string(v)}" for n, v in headers)
    counted = spec.status >= 400
    expect = LUA_EXPECT.format(status=spec.status) if counted else ""
    path.write_text(LUA.format(
        method=_lua_string(spec.method), body=_lua_string(spec.body), headers=lines,
        expect=expect, counted="true" if counted else "false",
    ))
    return str(path)


def run_wrk(wrk: str, url: str, script: str, seconds: int, connections: int) -> dict[str, Any]:
    """Run wrk (one thread) and return its JSON summary."""
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", script, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("KETTLE_E2E "):
            return dict(json.loads(line.removeprefix("KETTLE_E2E ")))
    raise Pending(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout)[-300:]}")


@dataclass
class Target:
    """A served app, checked and ready for load."""

    served: Served
    url: str
    script: str


def start(
    scenario: str, server: Server, framework: str, routes: int, directory: Path, stack: ExitStack
) -> Target:
    """Build (Pending early), serve and check one app; the stack stops its server."""
    spec = specs()[scenario]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        BUILDERS[framework](scenario, routes)  # Raises Pending before a server starts.
    served = stack.enter_context(Served(server, framework, scenario, routes))
    served.wait_ready(spec)
    cookie = check(served, scenario, spec)
    script = wrk_script(spec, cookie, directory / f"{framework}.lua")
    url = f"http://{HOST}:{served.port}{spec.path}" + (f"?{spec.query}" if spec.query else "")
    return Target(served, url, script)


def measure_once(wrk: str, target: Target, seconds: int, connections: int) -> dict[str, Any]:
    """One measured wrk run: wrk's summary plus the server tree's CPU seconds and switches."""
    pid = target.served.process.pid
    cpu, switches = tree_usage(pid)
    summary = run_wrk(wrk, target.url, target.script, seconds, connections)
    after = tree_usage(pid)
    summary["cpu_s"], summary["switches"] = after[0] - cpu, after[1] - switches
    if target.served.process.poll() is not None:
        raise Pending(f"server exited during the run: {target.served.output()}")
    if not summary["requests"]:
        raise Pending("wrk completed no request")
    return summary


def summarize(cell: dict[str, Any], samples: list[dict[str, Any]]) -> None:
    """Medians over the rounds (each round's numbers kept under ``rounds``)."""
    per_round = [
        {
            "req_per_s": round(s["requests"] / (s["duration_us"] / 1e6), 1),
            "p50_ms": round(s["p50_us"] / 1000, 3),
            "p99_ms": round(s["p99_us"] / 1000, 3),
            "cpu_us_per_request": round(s["cpu_s"] / s["requests"] * 1e6, 2),
            "switches_per_request": round(s["switches"] / s["requests"], 3),
        }
        for s in samples
    ]
    errors: dict[str, int] = {}
    for sample in samples:
        for key, value in sample.items():
            if key.startswith("errors_"):
                errors[key.removeprefix("errors_")] = errors.get(key.removeprefix("errors_"), 0) + int(value)
    cell.update({
        "requests": sum(int(s["requests"]) for s in samples),
        "seconds": round(sum(s["duration_us"] for s in samples) / 1e6, 3),
        "server_cpu_s": round(sum(s["cpu_s"] for s in samples), 3),
        **{key: statistics.median(r[key] for r in per_round) for key in per_round[0]},
        "errors": errors,
        "rounds": per_round,
    })


def run_group(
    scenario: str, server_name: str, frameworks: list[str], *, wrk: str, duration: int = 5,
    warmup: int = 1, rounds: int = 1, connections: int = 16, routes: int = 100,
) -> list[dict[str, Any]]:
    """Serve each framework's app under one server at once; measure them in interleaved rounds.

    Each round loads every app in turn (the first one rotating), so a change
    in the machine's other load hits every framework alike. Returns one cell
    per framework: medians over the rounds, or why it is pending.
    """
    server = SERVERS[server_name]
    cells = {fw: {"scenario": scenario, "server": server_name, "framework": fw} for fw in frameworks}
    samples: dict[str, list[dict[str, Any]]] = {fw: [] for fw in frameworks}
    missing = importlib.util.find_spec(server.module) is None
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        targets: dict[str, Target] = {}
        for framework in frameworks:
            try:
                if missing:
                    raise Pending(f"{server.module} is not installed (pip install -e '.[bench]')")
                targets[framework] = start(scenario, server, framework, routes, Path(tmp), stack)
                if warmup:
                    run_wrk(wrk, targets[framework].url, targets[framework].script, warmup, connections)
            except Pending as e:
                targets.pop(framework, None)
                cells[framework]["pending"] = str(e)[:300]
        order = list(targets)
        for index in range(rounds):
            shift = index % max(1, len(order))
            for framework in order[shift:] + order[:shift]:
                if "pending" in cells[framework]:
                    continue
                try:
                    samples[framework].append(measure_once(wrk, targets[framework], duration, connections))
                except Pending as e:
                    cells[framework]["pending"] = str(e)[:300]
    for framework, cell in cells.items():
        if "pending" not in cell:
            summarize(cell, samples[framework])
    return list(cells.values())


def run_cell(scenario: str, server_name: str, framework: str, *, wrk: str, **options: Any) -> dict[str, Any]:
    """Serve, check and measure one app alone (see ``run_group`` for the options)."""
    return run_group(scenario, server_name, [framework], wrk=wrk, **options)[0]


def add_above_bare(cells: list[dict[str, Any]]) -> None:
    """Set ``above_bare_us`` and ``x_bare``: CPU per request against the bare app's.

    The bare app of the same scenario under the same server is the floor; for
    a scenario the bare app does not run (cookie_session) it is the bare
    app's ``hello`` under that server, when measured, named in ``bare_floor``.
    """
    bare = {
        (c["scenario"], c["server"]): c["cpu_us_per_request"]
        for c in cells if c["framework"].startswith("bare-") and "cpu_us_per_request" in c
    }
    for cell in cells:
        if "cpu_us_per_request" not in cell:
            continue
        for scenario in (cell["scenario"], "hello"):
            floor = bare.get((scenario, cell["server"]))
            if floor is not None:
                cell["bare_floor"] = scenario
                cell["above_bare_us"] = round(cell["cpu_us_per_request"] - floor, 2)
                cell["x_bare"] = round(cell["cpu_us_per_request"] / floor, 2) if floor > 0 else None
                break


def _above(cell: dict[str, Any]) -> tuple[str, str]:
    if "above_bare_us" not in cell:
        return "-", "-"
    mark = "" if cell["bare_floor"] == cell["scenario"] else "*"
    ratio = "-" if cell["x_bare"] is None else f"{cell['x_bare']:.2f}{mark}"
    return f"{cell['above_bare_us']:.1f}{mark}", ratio


def table(cells: list[dict[str, Any]]) -> str:
    """The cells as a text table, grouped by scenario and server."""
    head = (
        f"{'scenario':<15} {'server':<13} {'framework':<12} {'req/s':>9} {'p99 ms':>8}"
        f" {'CPU µs/req':>11} {'above bare':>11} {'x bare':>7} {'switches/req':>13}"
    )
    lines = [head, "-" * len(head)]
    for cell in cells:
        start = f"{cell['scenario']:<15} {cell['server']:<13} {cell['framework']:<12}"
        if "pending" in cell:
            lines.append(f"{start} pending: {cell['pending'][:90]}")
            continue
        above, ratio = _above(cell)
        lines.append(
            f"{start} {cell['req_per_s']:>9.0f} {cell['p99_ms']:>8.2f} {cell['cpu_us_per_request']:>11.1f}"
            f" {above:>11} {ratio:>7} {cell['switches_per_request']:>13.2f}"
        )
    if any(cell.get("bare_floor", cell["scenario"]) != cell["scenario"] for cell in cells):
        lines.append("* against the bare app's hello under the same server (no bare equivalent)")
    return "\n".join(lines)


def markdown(cells: list[dict[str, Any]]) -> str:
    """The measured cells as a Markdown table (for docs/performance.md)."""
    lines = [
        "| scenario | server | framework | req/s | p99 ms | server CPU µs/req | above bare µs | x bare"
        " | switches/req |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in cells:
        if "pending" in c:
            continue
        above, ratio = _above(c)
        lines.append(
            f"| {c['scenario']} | {c['server']} | {c['framework']} | {c['req_per_s']:.0f} "
            f"| {c['p99_ms']:.2f} | {c['cpu_us_per_request']:.1f} | {above} | {ratio}"
            f" | {c['switches_per_request']:.2f} |"
        )
    return "\n".join(lines)


def goals(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 16's end-to-end goals, under granian-wsgi: Kettle's CPU per request at
    or below Falcon's on each scenario, and within 1.3x of the bare app's on hello."""
    cpu = {
        (c["scenario"], c["framework"]): c["cpu_us_per_request"]
        for c in cells if c["server"] == "granian-wsgi" and "cpu_us_per_request" in c
    }
    out = []
    for scenario in dict.fromkeys(c["scenario"] for c in cells):
        kettle = cpu.get((scenario, "kettle-wsgi"))
        for peer, limit in (("falcon", 1.0), ("bare-wsgi", 1.3 if scenario == "hello" else None)):
            other = cpu.get((scenario, peer))
            if kettle is not None and other and limit is not None:
                ratio = round(kettle / other, 2)
                out.append({"scenario": scenario, "versus": peer, "ratio": ratio, "goal": limit, "met": ratio <= limit})
    return out


def plan(
    scenarios: list[str], servers: list[str], frameworks: list[str] | None
) -> list[tuple[str, str, list[str]]]:
    """(scenario, server, frameworks) groups; a framework runs where its protocol fits."""
    out = []
    for scenario in scenarios:
        for server in servers:
            protocol = SERVERS[server].protocol
            fitting = [
                framework for framework in frameworks or FRAMEWORKS[protocol]
                if ("wsgi" if framework.endswith("-wsgi") or framework in WSGI_ONLY else "asgi") == protocol
            ]
            if fitting:
                out.append((scenario, server, fitting))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="run.py --e2e", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", action="append", choices=list(specs()), help="only these")
    parser.add_argument("--server", action="append", choices=list(SERVERS), help="only these")
    parser.add_argument("--framework", action="append", help="only these (e.g. kettle-wsgi, bare-wsgi)")
    parser.add_argument("--duration", type=int, default=2, help="seconds of load per cell and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per cell (median)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--routes", type=int, default=100, help="rules in each app")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args(argv)
    wrk = ensure_wrk()
    if wrk is None:
        print("wrk is not installed: apt-get install wrk (Debian), or run this as root", file=sys.stderr)
        return 2
    started = time.perf_counter()
    cells: list[dict[str, Any]] = []
    for scenario, server, frameworks in plan(args.scenario or SCENARIOS, args.server or list(SERVERS), args.framework):
        group = run_group(
            scenario, server, frameworks, wrk=wrk, duration=args.duration, warmup=args.warmup,
            rounds=args.rounds, connections=args.connections, routes=args.routes,
        )
        cells.extend(group)
        done = ", ".join(f"{c['framework']} {c.get('cpu_us_per_request', 'pending')}" for c in group)
        print(f"  {scenario} / {server}: {done}", file=sys.stderr, flush=True)
    add_above_bare(cells)
    meta = {
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()], "duration_s": args.duration,
        "warmup_s": args.warmup, "rounds": args.rounds, "connections": args.connections, "wrk_threads": 1,
        "workers": 1, "routes": args.routes, "seconds": round(time.perf_counter() - started, 1),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    print(
        f"End to end: wrk ({args.connections} connections, {args.duration} s x {args.rounds} interleaved"
        f" rounds, medians) on loopback, one worker, server CPU per request from /proc;"
        f" load average {meta['load_average']}\n"
    )
    print(table(cells))
    checked = goals(cells)
    for goal in checked:
        print(
            f"goal: {goal['scenario']} under granian-wsgi, kettle-wsgi / {goal['versus']} CPU per request"
            f" {goal['ratio']:.2f}x (at most {goal['goal']}x): {'met' if goal['met'] else 'not met'}"
        )
    if args.markdown:
        print("\n" + markdown(cells))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"meta": meta, "cells": cells, "goals": checked}, indent=2) + "\n")
    print(f"\nresults written to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
