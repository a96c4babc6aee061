"""The app ``make bench-push`` serves: one SSE channel, a publish endpoint, process stats.

Run by ``benchmarks/push_bench.py`` under uvicorn; the broker comes from
``KETTLE_BROKER_URL`` (memory:// or redis://...).
"""

from __future__ import annotations

import gc
import os
import resource
import time
import tracemalloc
from typing import Any

from kettle import Kettle, request
from kettle.push import publish, stream_channel

app = Kettle(__name__)


@app.route("/bench/events")
async def events() -> Any:
    """Every subscriber listens to one channel (the fan-out case)."""
    return stream_channel("bench")


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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(f"/proc/{os.getpid()}/statm") as statm:
        rss = int(statm.read().split()[1]) * resource.getpagesize()
    return {"traced": traced, "rss": rss, "cpu": usage.ru_utime + usage.ru_stime}


@app.route("/bench/tracemalloc-off", methods=["POST"])
async def tracemalloc_off() -> Any:
    """Stop tracing once memory is measured, so CPU and latency are measured without it."""
    tracemalloc.stop()
    return {"tracing": tracemalloc.is_tracing()}
