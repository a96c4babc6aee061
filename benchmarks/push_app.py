"""The app ``make bench-push`` serves: one SSE channel, a publish endpoint, process stats.

Run by ``benchmarks/push_bench.py`` under uvicorn; the broker comes from
``KETTLE_BROKER_URL`` (memory:// or redis://...). ``benchmarks/push_ws_memory.py``
serves ``floor`` (this app, plus a bare ASGI WebSocket at ``/floor/ws`` that
measures what the server alone holds per idle socket) under several servers.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import time
import tracemalloc
from typing import Any

from kettle import Kettle, request, websocket
from kettle.push import publish, stream_channel, subscribe

app = Kettle(__name__)


@app.route("/bench/events")
async def events() -> Any:
    """Every subscriber listens to one channel (the fan-out case)."""
    return stream_channel("bench")


@app.websocket("/bench/ws")
async def socket() -> None:
    """The chat recipe of docs/push.md: every WebSocket listens to the one channel."""
    await websocket.accept()
    async with subscribe("bench") as messages:
        await websocket.send_text("subscribed")
        async for message in messages:
            await websocket.send_json(message)


@app.websocket("/bench/chat")
async def chat() -> None:
    """The chat room of docs/push.md: a task forwards the channel, the handler reads the socket."""
    await websocket.accept()
    async with subscribe("bench") as messages:

        async def forward() -> None:
            async for message in messages:
                await websocket.send_json(message)

        task = asyncio.ensure_future(forward())
        await websocket.send_text("subscribed")
        try:
            async for text in websocket:
                await publish("bench", {"text": text})
        finally:
            task.cancel()


@app.route("/bench/publish", methods=["POST"])
async def send() -> Any:
    """Publish one message stamped with the time it was published."""
    n = int(request.args.get("n", "0"))
    receivers = await publish("bench", {"t": time.time(), "n": n})
    return {"receivers": receivers}


@app.route("/bench/stats")
async def stats() -> Any:
    """Python memory (tracemalloc, when on), RSS and CPU time of this process."""
    if request.args.get("gc"):
        gc.collect()
    traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else -1
    kettle = -1
    if request.args.get("kettle") and tracemalloc.is_tracing():
        # Python memory allocated by Kettle's own lines (the rest: server, asyncio, app).
        statistics = tracemalloc.take_snapshot().statistics("filename")
        kettle = sum(s.size for s in statistics if "/kettle/" in s.traceback[0].filename)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(f"/proc/{os.getpid()}/statm") as statm:
        rss = int(statm.read().split()[1]) * resource.getpagesize()
    return {"traced": traced, "kettle": kettle, "rss": rss, "cpu": usage.ru_utime + usage.ru_stime}


@app.route("/bench/tracemalloc-off", methods=["POST"])
async def tracemalloc_off() -> Any:
    """Stop tracing once memory is measured, so CPU and latency are measured without it."""
    tracemalloc.stop()
    return {"tracing": tracemalloc.is_tracing()}


_floor_waiters: list[asyncio.Future[None]] = []


async def floor(scope: Any, receive: Any, send: Any) -> None:
    """``app.asgi``, plus ``/floor/ws``: a bare WebSocket that accepts, says ready and waits.

    What the server alone holds per idle socket (no framework, no broker):
    the floor under Kettle's numbers in ``push_ws_memory.py``.
    """
    if scope["type"] != "websocket" or scope["path"] != "/floor/ws":
        await app.asgi(scope, receive, send)
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "subscribed"})
    waiter = asyncio.get_running_loop().create_future()
    _floor_waiters.append(waiter)
    try:
        # A bare server app still has to learn of the close: wait for it.
        message = await receive()
        while message["type"] != "websocket.disconnect":
            message = await receive()
    finally:
        _floor_waiters.remove(waiter)
