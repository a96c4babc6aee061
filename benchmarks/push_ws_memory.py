"""Python memory per idle WebSocket, by ASGI server and WebSocket implementation.

For each server below it starts one process serving ``push_app.py``'s
``floor`` app with ``PYTHONTRACEMALLOC=1``, opens WebSockets to three
handlers and reports the growth of ``tracemalloc``'s traced memory (the
whole server process: server, asyncio, Kettle, app) per idle socket:

* ``listen``: ``/bench/ws``, a handler that subscribes and forwards (the
  smallest push subscriber over WebSocket);
* ``chat``: ``/bench/chat``, the chat room of docs/push.md (a task forwards
  the channel while the handler reads the socket);
* ``floor``: ``/floor/ws``, a bare ASGI app that accepts and waits for the
  close: what the server alone holds per socket.

"Kettle" is the memory allocated by Kettle's own lines for ``listen``. RSS
per socket is printed too: a Rust server (granian) keeps its buffers out of
Python's allocator, where tracemalloc does not see them. The client offers
no compression unless ``--deflate``; every run is bounded (``--count``
sockets, a timeout per step).

    python benchmarks/push_ws_memory.py --count 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from push_bench import call, free_port, stop, wait_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GRANIAN = str(Path(sys.executable).with_name("granian"))
#: (name, command after the app and port are filled in).
SERVERS: dict[str, list[str]] = {
    "granian": [GRANIAN, "--interface", "asgi", "--workers", "1", "--log-level", "warning",
                "--host", "127.0.0.1", "--port", "{port}", "push_app:floor"],
    "granian --http 1 --http1-buffer-size 8192": [
        GRANIAN, "--interface", "asgi", "--workers", "1", "--log-level", "warning", "--http", "1",
        "--http1-buffer-size", "8192", "--host", "127.0.0.1", "--port", "{port}", "push_app:floor"],
    "uvicorn (default: websockets-sansio)": [
        sys.executable, "-m", "uvicorn", "push_app:floor", "--log-level", "warning",
        "--host", "127.0.0.1", "--port", "{port}"],
    "uvicorn --ws-per-message-deflate false": [
        sys.executable, "-m", "uvicorn", "push_app:floor", "--ws-per-message-deflate", "false",
        "--log-level", "warning", "--host", "127.0.0.1", "--port", "{port}"],
    "uvicorn --ws wsproto": [
        sys.executable, "-m", "uvicorn", "push_app:floor", "--ws", "wsproto",
        "--log-level", "warning", "--host", "127.0.0.1", "--port", "{port}"],
    "uvicorn --ws websockets (legacy)": [
        sys.executable, "-m", "uvicorn", "push_app:floor", "--ws", "websockets",
        "--log-level", "warning", "--host", "127.0.0.1", "--port", "{port}"],
    "hypercorn": [sys.executable, "-m", "hypercorn", "push_app:floor", "--log-level", "warning",
                  "--bind", "127.0.0.1:{port}"],
}
HANDLERS = {"listen": "/bench/ws", "chat": "/bench/chat", "floor": "/floor/ws"}


async def open_sockets(port: int, path: str, count: int, deflate: bool) -> list[Any]:
    """Open ``count`` sockets, 50 at a time, each ready once it received "subscribed"."""
    import websockets

    async def one() -> Any:
        socket = await websockets.connect(
            f"ws://127.0.0.1:{port}{path}",
            compression="deflate" if deflate else None,
            close_timeout=1,
            open_timeout=30,
        )
        async with asyncio.timeout(30):
            assert await socket.recv() == "subscribed"
        return socket

    sockets: list[Any] = []
    for start in range(0, count, 50):
        sockets += await asyncio.gather(*(one() for _ in range(min(50, count - start))))
    return sockets


async def measure(port: int, path: str, count: int, deflate: bool) -> dict[str, float]:
    """Bytes per idle socket: traced, Kettle's part, RSS (after 20 warm-up sockets)."""
    warm = await open_sockets(port, path, 20, deflate)
    await asyncio.sleep(0.5)
    before = await asyncio.to_thread(call, port, "/bench/stats?gc=1&kettle=1")
    sockets = await open_sockets(port, path, count, deflate)
    await asyncio.sleep(0.5)
    after = await asyncio.to_thread(call, port, "/bench/stats?gc=1&kettle=1")
    if path != "/floor/ws":  # Still subscribed: one publish reaches every socket.
        reply = await asyncio.to_thread(call, port, "/bench/publish?n=1", "POST")
        assert reply["receivers"] == count + 20, reply
        async with asyncio.timeout(60):
            for socket in sockets:
                assert json.loads(await socket.recv())["n"] == 1
    await asyncio.gather(*(s.close() for s in [*warm, *sockets]))
    return {
        "traced": (after["traced"] - before["traced"]) / count,
        "kettle": (after["kettle"] - before["kettle"]) / count,
        "rss": (after["rss"] - before["rss"]) / count,
    }


def run_once(name: str, path: str, count: int, deflate: bool, traced: bool) -> dict[str, float]:
    """Start the server, measure ``count`` idle sockets at ``path``, stop it."""
    port = free_port()
    env = {**os.environ, "KETTLE_BROKER_URL": "memory://",
           "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT / "src"),
                                          os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTHONTRACEMALLOC", None)
    if traced:
        env["PYTHONTRACEMALLOC"] = "1"
    command = [part.format(port=port) for part in SERVERS[name]]
    log = open(HERE / "results" / f"push-ws-{port}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(command, cwd=HERE, env=env, stdout=log, stderr=log)
    try:
        wait_port(port, server)
        return asyncio.run(measure(port, path, count, deflate))
    finally:
        stop(server)
        log.close()
        time.sleep(0.5)


def run_server(name: str, count: int, deflate: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"server": name}
    for handler, path in HANDLERS.items():
        result = run_once(name, path, count, deflate, traced=True)
        row[handler] = result["traced"]
        if handler == "listen":
            row["kettle"] = result["kettle"]
    # RSS without tracemalloc (whose own records would dominate it): what the OS
    # sees, buffers of a server written in Rust included.
    row["listen_rss"] = run_once(name, HANDLERS["listen"], count, deflate, traced=False)["rss"]
    return row


def table(rows: list[dict[str, Any]], note: str) -> str:
    kb = lambda value: f"{value / 1024:.1f} KB"  # noqa: E731
    lines = [
        note,
        "",
        "| server | listen: total | of it Kettle | chat recipe: total | server alone (floor)"
        " | listen: RSS (untraced) | meets 16 KB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        meets = "yes" if max(r["listen"], r["chat"]) <= 16 * 1024 else "no"
        lines.append(
            f"| {r['server']} | {kb(r['listen'])} | {kb(r['kettle'])} | {kb(r['chat'])}"
            f" | {kb(r['floor'])} | {kb(r['listen_rss'])} | {meets} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="idle sockets per measure")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated names")
    parser.add_argument("--deflate", action="store_true", help="the client offers deflate")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # What `ulimit -n` allows.
    count = min(args.count, (hard - 200) // 2)  # Client and server share the limit here.
    (HERE / "results").mkdir(exist_ok=True)
    rows = []
    for name in args.servers.split(","):
        row = run_server(name, count, args.deflate)
        print(json.dumps(row), flush=True)
        rows.append(row)
    note = (
        f"{count:,} idle sockets per measure, Python {platform.python_version()},"
        f" {platform.machine()}; client {'offers deflate' if args.deflate else 'no compression'}."
    )
    print(table(rows, note))


if __name__ == "__main__":
    main()
