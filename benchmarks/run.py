"""Per-request framework cost, every framework in one run, side by side.

Theory of operation: no network. WSGI apps are called directly with a
prepared environ (a fresh copy and a fresh ``wsgi.input`` per call) and a
no-op ``start_response``, and their body is consumed and closed. ASGI apps
are awaited directly, ``await app(scope, receive, send)``, in a loop on one
event loop. Each (scenario, framework) cell is first checked once (status
and body must be right, else it is "pending": never a number for a wrong
answer), then calibrated so one batch takes about ``--target-ms``. Rounds
go round-robin over every cell, the start rotating each round, so drift
(thermal, other load) hits all frameworks alike; the table shows medians.

    python benchmarks/run.py            # the table, results JSON and chart
    python benchmarks/run.py --routes   # routing growth: 10, 100, 1000 rules
    python benchmarks/run.py --e2e      # end to end under real servers (e2e.py)

The ``kettle-*-compiled`` columns run the same apps on the mypyc-compiled
build (``benchmarks/build_compiled.py``) in a child process, interleaved
with the others (see compiled_cells.py); they are left out, with a note,
when that build is missing or older than ``src``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import goals
from apps import FRAMEWORKS, HELLO, Pending, filler
from build_compiled import DEFAULT_OUT, stale
from compiled_cells import COMPILED, CompiledWorker, RemoteRunner, prepare_remote

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
CHART = ROOT / "docs" / "_static" / "bench.png"

SCENARIOS = [
    "hello", "param", "query", "json", "form", "upload", "cookie_session", "notfound", "async_hello",
]
ROUTE_COUNTS = (10, 100, 1000)
ROUTE_FRAMEWORKS = ("kettle-wsgi", "flask", "falcon", "starlette")


@dataclass
class Spec:
    """One HTTP request and what a correct answer looks like."""

    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    status: int = 200
    expect: bytes | None = None


def _multipart() -> tuple[str, bytes]:
    boundary = "----kettlebenchboundary7MA4YWxkTrZu0gW"
    payload = bytes(range(256)) * 400  # 100 KiB, every byte value.
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nreport\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="tags"\r\n\r\na,b\r\n'.encode(),
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="data.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + payload + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def specs() -> dict[str, Spec]:
    """The request each scenario sends."""
    form_body = "&".join(f"f{i}=v{i}" for i in range(10)).encode()
    upload_type, upload_body = _multipart()
    return {
        "hello": Spec("GET", "/hello", expect=HELLO.encode()),
        "param": Spec("GET", "/users/42/posts/my-first-post", expect=b"user 42 post my-first-post"),
        "query": Spec("GET", "/search", "tag=a&tag=b&tag=c&page=2&q=hello+world", expect=b"a,b,c 2"),
        "json": Spec("GET", "/json", expect=b"Hello, World!"),
        "form": Spec(
            "POST", "/form", headers=[("Content-Type", "application/x-www-form-urlencoded")],
            body=form_body, expect=b"".join(f"v{i}".encode() for i in range(10)),
        ),
        "upload": Spec(
            "POST", "/upload", headers=[("Content-Type", upload_type)], body=upload_body,
            expect=b"102400 report a,b",
        ),
        "cookie_session": Spec("GET", "/session", expect=b"1"),
        "notfound": Spec("GET", "/users/x/nothing/here", status=404),
        "async_hello": Spec("GET", "/async", expect=HELLO.encode()),
    }


# -- drivers -------------------------------------------------------------------------
def _environ(spec: Spec) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": spec.method, "SCRIPT_NAME": "", "PATH_INFO": spec.path,
        "QUERY_STRING": spec.query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "kettle-bench", "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    if spec.body:
        environ["CONTENT_LENGTH"] = str(len(spec.body))
    for name, value in spec.headers:
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


def _scope(spec: Spec) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"kettle-bench"), (b"accept", b"*/*")]
    if spec.body:
        headers.append((b"content-length", str(len(spec.body)).encode()))
    headers += [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in spec.headers]
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": spec.method, "scheme": "http", "path": spec.path,
        "raw_path": spec.path.encode(), "query_string": spec.query.encode(), "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "state": {},
    }


def _no_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return _no_write


def _no_write(data: bytes) -> None:
    return None


async def _no_send(message: dict[str, Any]) -> None:
    return None


class Runner:
    """Call one app with one request, checked once, then in timed batches."""

    def __init__(self, protocol: str, app: Any, spec: Spec, loop: asyncio.AbstractEventLoop) -> None:
        self.protocol, self.app, self.spec, self.loop = protocol, app, spec, loop
        self.environ = _environ(spec)
        self.scope = _scope(spec)
        self._never = asyncio.Event()

    def add_header(self, name: str, value: str) -> None:
        self.environ[f"HTTP_{name.upper().replace('-', '_')}"] = value
        self.scope["headers"].append((name.lower().encode(), value.encode("latin-1")))

    # One call that records what came back, to check correctness.
    def call_once(self) -> tuple[int, list[tuple[str, str]], bytes]:
        if self.protocol == "wsgi":
            seen: dict[str, Any] = {}

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                seen["status"], seen["headers"] = status, headers
                return _no_write

            environ = dict(self.environ)
            environ["wsgi.input"] = io.BytesIO(self.spec.body)
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            return int(seen["status"][:3]), list(seen["headers"]), body
        messages: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        self.loop.run_until_complete(self.app(dict(self.scope), self._receiver(), send))
        start = next(m for m in messages if m["type"] == "http.response.start")
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start["headers"]]
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        return int(start["status"]), headers, body

    def _receiver(self) -> Callable[[], Any]:
        body = self.spec.body
        sent = False
        never = self._never

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await never.wait()  # The client stays connected (Quart listens for disconnect).
            return {"type": "http.disconnect"}

        return receive

    def time_batch(self, count: int) -> tuple[float, float]:
        """Return (wall, CPU) seconds per request over ``count`` calls."""
        gc.collect()
        if self.protocol == "wsgi":
            app, template, body, start_response = self.app, self.environ, self.spec.body, _no_start_response
            cpu = time.process_time()
            begin = time.perf_counter()
            for _ in range(count):
                environ = template.copy()
                environ["wsgi.input"] = io.BytesIO(body)
                result = app(environ, start_response)
                for _chunk in result:
                    pass
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            wall = time.perf_counter() - begin
            return wall / count, (time.process_time() - cpu) / count
        return self.loop.run_until_complete(self._async_batch(count))

    async def _async_batch(self, count: int) -> tuple[float, float]:
        app, template, receiver = self.app, self.scope, self._receiver
        cpu = time.process_time()
        begin = time.perf_counter()
        for _ in range(count):
            await app(template.copy(), receiver(), _no_send)
        wall = time.perf_counter() - begin
        return wall / count, (time.process_time() - cpu) / count


def warm_runner(scenario: str, framework: str, requests: int) -> Runner:
    """A checked runner of ``scenario`` on ``framework`` (100 routes), after ``requests`` calls.

    What the counting tools (``opcount.py``, ``specializations.py``) start from:
    the first requests' work and the caches filling are not what they count.
    """
    warnings.simplefilter("ignore")
    protocol, app = FRAMEWORKS[framework](scenario, 100)
    runner = Runner(protocol, app, specs()[scenario], asyncio.new_event_loop())
    check(runner, scenario)
    for _ in range(requests):
        runner.call_once()
    return runner


def check(runner: Runner, scenario: str) -> None:
    """Raise Pending unless the app answers this scenario correctly."""
    spec = runner.spec
    if scenario == "cookie_session":
        status, headers, body = runner.call_once()
        cookies = [v for n, v in headers if n.lower() == "set-cookie"]
        if status != 200 or not cookies:
            raise Pending(f"no session cookie (status {status})")
        runner.add_header("Cookie", cookies[0].split(";", 1)[0])
    status, headers, body = runner.call_once()
    if status != spec.status:
        raise Pending(f"status {status}, expected {spec.status}: {body[:80]!r}")
    if spec.expect is not None and spec.expect not in body:
        raise Pending(f"wrong body {body[:80]!r}")
    if scenario == "cookie_session" and not any(n.lower() == "set-cookie" for n, _ in headers):
        raise Pending("the session was not written back")


@dataclass
class Cell:
    """One (scenario, framework) measurement."""

    scenario: str
    framework: str
    runner: Runner | RemoteRunner | None = None
    count: int = 0
    samples: list[float] = field(default_factory=list)
    wall_samples: list[float] = field(default_factory=list)
    pending: str | None = None

    @property
    def median_us(self) -> float | None:
        """Median CPU µs per request (robust when other processes share the cores)."""
        return statistics.median(self.samples) * 1e6 if self.samples else None

    @property
    def wall_us(self) -> float | None:
        """Median wall-clock µs per request (counts thread-hop latency too)."""
        return statistics.median(self.wall_samples) * 1e6 if self.wall_samples else None


def prepare(scenario: str, framework: str, routes: int, loop: asyncio.AbstractEventLoop, target: float) -> Cell:
    """Build, check and calibrate one cell; a failure anywhere makes it pending."""
    cell = Cell(scenario, framework)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            protocol, app = FRAMEWORKS[framework](scenario, routes)
            runner = Runner(protocol, app, specs()[scenario], loop)
            check(runner, scenario)
            for _ in range(20):  # Warm caches, lazy compilation, thread pools.
                runner.call_once()
            count = 8
            while True:
                per_call = runner.time_batch(count)[0]
                if per_call * count >= target / 4 or count >= 200_000:
                    break
                count *= 4
            # The fastest of three: one batch slowed by another process would make every
            # batch of the run short, and each pays a fixed cost (the collection before it).
            per_call = min(per_call, *(runner.time_batch(count)[0] for _ in range(2)))
            cell.count = max(5, int(target / per_call))
            cell.runner = runner
    except Pending as e:
        cell.pending = str(e) or "pending"
    except Exception as e:  # A framework that cannot run this yet: report, never guess.
        cell.pending = f"{type(e).__name__}: {e}"[:120]
    return cell


def prepare_compiled(
    scenario: str, framework: str, routes: int, target: float, worker: CompiledWorker | str
) -> Cell:
    """Prepare a compiled cell in the child process (``worker``), or say why it cannot run."""
    cell = Cell(scenario, framework)
    if isinstance(worker, str):
        cell.pending = worker
        return cell
    answer = prepare_remote(worker, scenario, framework, routes, target)
    if answer["pending"] is not None:
        cell.pending = answer["pending"]
    else:
        cell.count, cell.runner = answer["count"], RemoteRunner(worker, answer["key"], answer["protocol"])
    return cell


def compiled_worker(build_dir: Path) -> CompiledWorker | str:
    """Start the child that runs the compiled cells, or return why there is none."""
    reason = stale(build_dir)
    if reason is not None:
        return reason
    try:
        return CompiledWorker(build_dir)
    except RuntimeError as e:
        return str(e)


def measure(cells: list[Cell], rounds: int) -> None:
    live = [cell for cell in cells if cell.runner is not None]
    for index in range(rounds):
        shift = index % max(1, len(live))
        for cell in live[shift:] + live[:shift]:
            assert cell.runner is not None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wall, cpu = cell.runner.time_batch(cell.count)
                cell.wall_samples.append(wall)
                cell.samples.append(cpu)


# -- reporting ---------------------------------------------------------------------------
def bare_name(cell: Cell) -> str:
    protocol = cell.runner.protocol if cell.runner is not None else "wsgi"
    return f"bare-{protocol}"


def table(cells: list[Cell]) -> str:
    by_key = {(c.scenario, c.framework): c for c in cells}
    lines = [f"{'scenario':<15} {'framework':<20} {'µs/req':>9} {'xFlask':>8} {'xbare':>8} {'wall µs':>9}"]
    lines.append("-" * len(lines[0]))
    for scenario in dict.fromkeys(c.scenario for c in cells):
        flask = by_key.get((scenario, "flask"))
        flask_us = flask.median_us if flask else None
        for cell in (c for c in cells if c.scenario == scenario):
            us = cell.median_us
            if us is None:
                lines.append(f"{scenario:<15} {cell.framework:<20} {'pending':>9}   ({cell.pending})")
                continue
            bare = by_key.get((scenario, bare_name(cell)))
            bare_us = bare.median_us if bare else None
            vs_flask = f"{us / flask_us:.2f}" if flask_us else "-"
            vs_bare = f"{us / bare_us:.1f}" if bare_us else "-"
            lines.append(
                f"{scenario:<15} {cell.framework:<20} {us:>9.1f} {vs_flask:>8} {vs_bare:>8} {cell.wall_us or 0:>9.1f}"
            )
        lines.append("")
    return "\n".join(lines)


def as_json(cells: list[Cell]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cell in cells:
        out.setdefault(cell.scenario, {})[cell.framework] = (
            {"us_per_request": round(cell.median_us, 3),
             "min_us": round(min(cell.samples) * 1e6, 3),
             "wall_us_per_request": round(cell.wall_us or 0, 3),
             "rounds": len(cell.samples), "calls_per_round": cell.count}
            if cell.median_us is not None else {"pending": cell.pending}
        )
    return out


def chart(cells: list[Cell], path: Path) -> str:
    """Draw grouped bars (µs/req, log scale) to ``path``; return a message."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "chart skipped: matplotlib is not installed (pip install -e '.[bench]')"
    scenarios = list(dict.fromkeys(c.scenario for c in cells))
    frameworks = list(dict.fromkeys(c.framework for c in cells))
    by_key = {(c.scenario, c.framework): c.median_us for c in cells}
    fig, ax = plt.subplots(figsize=(13, 6))
    width = 0.8 / len(frameworks)
    for index, framework in enumerate(frameworks):
        xs, ys = [], []
        for position, scenario in enumerate(scenarios):
            value = by_key.get((scenario, framework))
            if value is not None:
                xs.append(position + index * width - 0.4 + width / 2)
                ys.append(value)
        ax.bar(xs, ys, width, label=framework)
    ax.set_yscale("log")
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_ylabel("µs per request (log scale, lower is better)")
    ax.set_title(f"Per-request framework cost (Python {platform.python_version()}, no network)")
    ax.legend(ncol=5, fontsize="small")
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"chart written to {path.relative_to(ROOT)}"


def routes_table(cells: list[Cell]) -> str:
    lines = [f"{'scenario':<10} {'framework':<17} " + " ".join(f"{n:>9}" for n in ROUTE_COUNTS)]
    lines.append("-" * len(lines[0]))
    grid: dict[tuple[str, str], dict[int, Cell]] = {}
    for cell in cells:
        scenario, framework, routes = cell.scenario.split("@")[0], cell.framework, int(cell.scenario.split("@")[1])
        grid.setdefault((scenario, framework), {})[routes] = cell
    for (scenario, framework), row in grid.items():
        values = []
        for n in ROUTE_COUNTS:
            us = row[n].median_us if n in row else None
            values.append(f"{us:>9.1f}" if us is not None else f"{'pending':>9}")
        lines.append(f"{scenario:<10} {framework:<17} " + " ".join(values))
    return "\n".join(lines)


def map_build_ms(repetitions: int = 21, rules: int = 1000) -> dict[str, dict[str, float]]:
    """Median and minimum ms to build and compile a map of ``rules`` rules, Kettle and Werkzeug.

    Half the rules have two converters, half are static (as the filler routes).
    Garbage is collected before each build, so one build's garbage does not
    land on the next.
    """
    import werkzeug.routing

    import kettle.routing

    out: dict[str, dict[str, float]] = {}
    for name, module in (("kettle", kettle.routing), ("werkzeug", werkzeug.routing)):
        times = []
        for _ in range(repetitions):
            gc.collect()
            begin = time.perf_counter()
            url_map = module.Map()
            for kind, i in filler(rules):
                if kind == "dynamic":
                    url_map.add(module.Rule(f"/api{i}/<int:id>/items/<slug>", endpoint=f"f{i}"))
                else:
                    url_map.add(module.Rule(f"/page{i}", endpoint=f"f{i}"))
            url_map.update()
            times.append(time.perf_counter() - begin)
        out[name] = {"median_ms": round(statistics.median(times) * 1e3, 2), "min_ms": round(min(times) * 1e3, 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--e2e" in argv:
        from e2e import main as e2e_main

        return e2e_main([arg for arg in argv if arg != "--e2e"])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--e2e", action="store_true",
        help="end to end: serve the apps under granian, gunicorn and uvicorn and drive them with wrk"
        " (other options: run.py --e2e --help)",
    )
    parser.add_argument("--routes", action="store_true", help="routing growth at 10/100/1000 rules")
    parser.add_argument("--rounds", type=int, default=15, help="rounds over every cell (median)")
    parser.add_argument("--target-ms", type=float, default=25.0, help="time per batch")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="only these")
    parser.add_argument("--framework", action="append", choices=[*FRAMEWORKS, *COMPILED], help="only these")
    parser.add_argument(
        "--compiled-dir", type=Path, default=DEFAULT_OUT,
        help="the compiled build for the kettle-*-compiled columns (benchmarks/build_compiled.py)",
    )
    parser.add_argument("--no-chart", action="store_true")
    args = parser.parse_args(argv)
    if args.routes and any(framework in COMPILED for framework in args.framework or ()):
        parser.error("--routes measures the source tree only, not the compiled columns")
    target = args.target_ms / 1000
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    started = time.perf_counter()
    cells: list[Cell] = []
    if args.routes:
        frameworks = args.framework or list(ROUTE_FRAMEWORKS)
        for scenario in args.scenario or ["param", "notfound"]:
            for framework in frameworks:
                for n in ROUTE_COUNTS:
                    cell = prepare(scenario, framework, n, loop, target)
                    cell.scenario = f"{scenario}@{n}"
                    cells.append(cell)
        measure(cells, args.rounds)
        print(f"Routing growth: µs/req by number of rules (median of {args.rounds} rounds)\n")
        print(routes_table(cells))
        build = map_build_ms()
        print("\nBuilding a 1,000-rule map (add + compile), median (min) of 21: " + ", ".join(
            f"{name} {row['median_ms']} ms ({row['min_ms']})" for name, row in build.items()
        ))
    else:
        frameworks = args.framework or list(FRAMEWORKS)
        compiled_note = ""
        if args.framework is None:
            reason = stale(args.compiled_dir)
            if reason is None:
                frameworks += list(COMPILED)
            else:
                compiled_note = f"Compiled columns left out: {reason}; `make bench-compiled` builds and runs them.\n"
        worker = compiled_worker(args.compiled_dir) if any(f in COMPILED for f in frameworks) else ""
        for scenario in args.scenario or SCENARIOS:
            for framework in frameworks:
                if framework in COMPILED:
                    cells.append(prepare_compiled(scenario, framework, 100, target, worker))
                else:
                    cells.append(prepare(scenario, framework, 100, loop, target))
        measure(cells, args.rounds)
        if isinstance(worker, CompiledWorker):
            worker.close()
        print(
            f"Per-request cost: median CPU µs of {args.rounds} interleaved rounds (wall-clock"
            f" median last), 100 routes, Python {platform.python_version()} ({platform.machine()})\n"
        )
        print(table(cells))
        print(
            "Views: kettle-asgi, starlette and falcon-asgi run async views; kettle-asgi-sync runs\n"
            "the Flask-style sync views, each costing one hop to the thread pool;\n"
            "kettle-asgi-inline runs those sync views on the loop (ASGI_INLINE_SYNC_VIEWS).\n"
            "kettle-*-compiled: the same apps on the mypyc build (benchmarks/build_compiled.py),\n"
            "measured in a child process, interleaved with the rest.\n" + compiled_note
        )
        # The targets; the map build (item 5) in a full run only (it takes seconds).
        full = args.scenario is None and args.framework is None
        build = map_build_ms() if full else None
        verdicts = goals.judge(cells, build["kettle"]["median_ms"] if build else None)
        print(goals.report(verdicts) + "\n")
    elapsed = time.perf_counter() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    key = "routes" if args.routes else "scenarios"
    if args.routes:
        previous["routes_build"] = build
    else:
        previous["goals"] = goals.as_json(verdicts)
        if build is not None:
            previous["routes_build"] = build
    previous.update({
        key: as_json(cells),
        f"{key}_meta": {
            "python": platform.python_version(), "machine": platform.machine(),
            "rounds": args.rounds, "target_ms": args.target_ms, "seconds": round(elapsed, 1),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    })
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"results written to {RESULTS.relative_to(ROOT)} ({elapsed:.0f} s)")
    if not args.routes and not args.no_chart:
        print(chart(cells, CHART))
    loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
