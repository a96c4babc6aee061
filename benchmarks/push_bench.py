"""``make bench-push``: subscribers per process, memory, fan-out latency, idle CPU.

For each broker (in-process, Redis) and each size it starts a real redis-server
(Redis broker) and one uvicorn process serving ``push_app.py`` on loopback,
then load processes (``push_load.py``, at most 9,000 streams each) that hold
SSE connections. It reports, per size:

* held: streams that subscribed and were still open at the end;
* Python memory per subscriber (tracemalloc in the server, from before the
  first stream to all of them connected), and RSS per subscriber;
* idle CPU of the server process with every stream open and nothing sent
  (keep-alive comments included: one timer for all streams);
* fan-out latency p50/p99: from the publish timestamp to each stream's
  receipt, over every (message, subscriber) pair.

The client processes run on the same machine, so latency includes their
own reading time. Results go to benchmarks/results/push-latest.json, the
chart to docs/_static/push-bench.png, the table to stdout and into
docs/performance.md between its push-bench markers (with --write-docs).

    python benchmarks/push_bench.py --sizes 1000,5000 --brokers memory,redis
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = ROOT / "benchmarks" / "results" / "push-latest.json"
CHART = ROOT / "docs" / "_static" / "push-bench.png"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- push-bench:start -->", "<!-- push-bench:end -->"
PER_LOADER = 9000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def call(port: int, path: str, method: str = "GET") -> dict[str, Any]:
    data = b"" if method == "POST" else None
    with urllib.request.urlopen(
        urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method),
        timeout=120,
    ) as reply:
        return dict(json.load(reply))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_size(broker: str, redis_url: str | None, size: int, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PYTHONTRACEMALLOC": "1", "PYTHONPATH": os.pathsep.join(
        [str(HERE), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env["KETTLE_BROKER_URL"] = redis_url or "memory://"
    log = open(HERE / "results" / f"push-server-{broker}-{size}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "push_app:app.asgi", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--backlog", "16384",
         "--timeout-keep-alive", "30"],
        cwd=HERE, env=env, stdout=log, stderr=log,
    )
    loaders: list[subprocess.Popen[str]] = []
    try:
        wait_port(port, server)
        base0 = call(port, "/bench/stats")
        time.sleep(args.idle)
        base1 = call(port, "/bench/stats")
        # Warm up: ten streams and one message load every module and connection once.
        warm = subprocess.Popen(
            [sys.executable, str(HERE / "push_load.py"), str(port), "10"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        loaders.append(warm)
        assert warm.stdout is not None
        warm.stdout.readline()
        call(port, "/bench/publish?n=-1", "POST")
        time.sleep(0.5)
        before = call(port, "/bench/stats?gc=1")
        started = time.monotonic()
        remaining = size
        while remaining:
            count = min(PER_LOADER, remaining)
            remaining -= count
            loaders.append(subprocess.Popen(
                [sys.executable, str(HERE / "push_load.py"), str(port), str(count)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            ))
        ready = failed = 0
        for loader in loaders[1:]:
            assert loader.stdout is not None
            words = loader.stdout.readline().split()
            ready, failed = ready + int(words[1]), failed + int(words[2])
        connect_s = time.monotonic() - started
        after = call(port, "/bench/stats?gc=1")
        call(port, "/bench/tracemalloc-off", "POST")
        idle0 = call(port, "/bench/stats")
        time.sleep(args.idle)
        idle1 = call(port, "/bench/stats")
        for n in range(args.messages):
            call(port, f"/bench/publish?n={n}", "POST")
            time.sleep(args.gap)
        time.sleep(max(2.0, size / 5000))
        latencies: list[float] = []
        still_open = 0
        for loader in loaders[1:]:
            assert loader.stdin is not None and loader.stdout is not None
            loader.stdin.write("report\n")
            loader.stdin.flush()
            report = json.loads(loader.stdout.readline())
            latencies += report["latencies"]
            still_open += report["open"]
        held = max(ready, 1)
        return {
            "broker": broker,
            "size": size,
            "held": min(still_open, ready),
            "failed": failed,
            "connect_s": round(connect_s, 1),
            "python_bytes_per_sub": round((after["traced"] - before["traced"]) / held),
            "rss_bytes_per_sub": round((after["rss"] - before["rss"]) / held),
            "idle_cpu_pct": round(100 * (idle1["cpu"] - idle0["cpu"]) / args.idle, 2),
            "idle_cpu_base_pct": round(100 * (base1["cpu"] - base0["cpu"]) / args.idle, 2),
            "delivered": len(latencies),
            "expected": ready * args.messages,
            "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(1000 * percentile(latencies, 0.99), 1) if latencies else None,
            "load_average": round(os.getloadavg()[0], 1),
        }
    finally:
        for loader in loaders:
            stop(loader)
        stop(server)
        log.close()


def table(rows: list[dict[str, Any]], note: str) -> str:
    lines = [
        note,
        "",
        "| broker | SSE clients | held | Python memory / subscriber | RSS / subscriber"
        " | fan-out p50 | fan-out p99 | delivered | idle CPU (no clients) | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        clients = f"{r['size']:,}" if r.get("asked", r["size"]) == r["size"] else (
            f"{r['asked']:,} (ran {r['size']:,}: ulimit -n)"
        )
        lines.append(
            f"| {r['broker']} | {clients} | {r['held']:,} | {r['python_bytes_per_sub'] / 1024:.1f} KB"
            f" | {r['rss_bytes_per_sub'] / 1024:.1f} KB | {r['p50_ms']} ms | {r['p99_ms']} ms"
            f" | {r['delivered']:,}/{r['expected']:,}"
            f" | {r['idle_cpu_pct']} % ({r['idle_cpu_base_pct']} %) | {r['load_average']} |"
        )
    return "\n".join(lines)


def chart(rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (memory, latency) = plt.subplots(1, 2, figsize=(10, 4))
    for broker in sorted({r["broker"] for r in rows}):
        mine = [r for r in rows if r["broker"] == broker]
        sizes = [r["size"] for r in mine]
        memory.plot(sizes, [r["python_bytes_per_sub"] / 1024 for r in mine], "o-", label=broker)
        latency.plot(sizes, [r["p99_ms"] or 0 for r in mine], "o-", label=f"{broker} p99")
        latency.plot(sizes, [r["p50_ms"] or 0 for r in mine], "x--", label=f"{broker} p50")
    memory.set(title="Python memory per idle subscriber", xlabel="SSE clients", ylabel="KB")
    memory.axhline(16, color="grey", linestyle=":", label="16 KB target")
    memory.set_ylim(0, 20)
    latency.set(title="Fan-out latency (one process)", xlabel="SSE clients", ylabel="ms")
    for axes in (memory, latency):
        axes.legend()
        axes.grid(alpha=0.3)
    figure.tight_layout()
    CHART.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(CHART, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000,20000")
    parser.add_argument("--brokers", default="memory,redis")
    parser.add_argument("--messages", type=int, default=20, help="messages published per size")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between messages")
    parser.add_argument("--idle", type=float, default=10.0, help="idle CPU window, seconds")
    parser.add_argument("--note", default="", help="conditions to print above the table")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # What `ulimit -n` allows.
    sizes = [int(s) for s in args.sizes.split(",")]
    (HERE / "results").mkdir(exist_ok=True)
    rows: list[dict[str, Any]] = []
    for broker in args.brokers.split(","):
        redis_proc = None
        redis_url = None
        if broker == "redis":
            binary = shutil.which("redis-server")
            if binary is None:
                sys.exit("redis-server is needed for the Redis broker (apt-get install redis-server)")
            redis_port = free_port()
            redis_proc = subprocess.Popen(
                [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=subprocess.DEVNULL)
            wait_port(redis_port, redis_proc)
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
        try:
            for asked in sizes:
                size = min(asked, hard - 100)  # The server needs a descriptor per client.
                if size < asked:
                    print(f"{broker} {asked}: ulimit -n is {hard}, measuring {size}", flush=True)
                row = run_size(broker, redis_url, size, args)
                row["asked"] = asked
                print(json.dumps(row), flush=True)
                rows.append(row)
        finally:
            if redis_proc is not None:
                stop(redis_proc)
    note = args.note or (
        f"One run on {os.cpu_count()} cores, {platform.machine()}, Python"
        f" {platform.python_version()}, uvicorn (h11) with one worker; load processes on"
        " the same machine."
    )
    text = table(rows, note)
    print(text)
    RESULTS.write_text(json.dumps({"note": note, "rows": rows}, indent=1))
    if rows:
        chart(rows)
    if args.write_docs:
        doc = DOC.read_text()
        if START in doc and END in doc:
            head, rest = doc.split(START, 1)
            DOC.write_text(head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])


if __name__ == "__main__":
    main()
