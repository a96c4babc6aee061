"""A load process for ``make bench-push``: holds many SSE connections, times each event.

Usage (run by push_bench.py): ``push_load.py PORT COUNT``. Prints ``ready N``
once N streams said ``: subscribed``; on the stdin line ``report`` prints
one JSON line with every receive latency (seconds from the publish
timestamp in the event to its arrival here) and the streams still open.
A protocol object per connection, no task: ten thousand cost little here.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import time

STAMP = re.compile(rb'"t":\s*([0-9.]+)')
READY = b": subscribed"


class Stream(asyncio.Protocol):
    """One SSE connection: wait for the subscribed comment, then time every event."""

    def __init__(self, load: Load, request: bytes) -> None:
        self.load = load
        self.request = request
        self.buffer = b""
        self.ready = False
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.open = True
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.ready:
            self.buffer += data
            at = self.buffer.find(READY)
            if at < 0:
                return
            self.ready = True
            self.load.ready += 1
            data, self.buffer = self.buffer[at:], b""
        for stamp in STAMP.finditer(data):
            self.load.latencies.append(now - float(stamp.group(1)))

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False


class Load:
    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.count = count
        self.ready = 0
        self.failed = 0
        self.latencies: list[float] = []
        self.streams: list[Stream] = []

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        request = b"GET /bench/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        gate = asyncio.Semaphore(200)

        async def one() -> None:
            async with gate:
                stream = Stream(self, request)
                try:
                    await loop.create_connection(lambda: stream, "127.0.0.1", self.port)
                except OSError:
                    self.failed += 1
                    return
                self.streams.append(stream)
                for _ in range(600):  # Up to 60 s for the subscription to be live.
                    if stream.ready or not stream.open:
                        return
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(one() for _ in range(self.count)))


async def main() -> None:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    load = Load(port, count)
    await load.connect()
    print(f"ready {load.ready} {load.failed}", flush=True)
    while (await asyncio.to_thread(sys.stdin.readline)).strip() != "report":
        pass
    report = {
        "latencies": load.latencies,
        "open": sum(1 for s in load.streams if s.open and s.ready),
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
