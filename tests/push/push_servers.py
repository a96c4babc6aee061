"""Helpers for live push tests: a real redis-server, uvicorn/gunicorn apps, raw SSE clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kettle.http.sse import EventParser, ServerSentEvent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early: {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def require_redis() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required under CI (apt-get install -y redis-server)")
        pytest.skip("redis-server is not installed")
    return binary


def raise_open_files(needed: int) -> None:
    """Raise this process's soft ``ulimit -n`` (servers it starts inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.fail(f"ulimit -n: the hard limit {hard} is below the {needed} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


class RedisServer:
    """A redis-server on a free loopback port, without persistence."""

    def __init__(self) -> None:
        self.binary = require_redis()
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--bind", "127.0.0.1", "--maxclients", "1000"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def command(self, *args: Any) -> Any:
        import redis

        client = redis.Redis(port=self.port)
        try:
            return client.execute_command(*args)
        finally:
            client.close()

    def numsub(self, channel: str) -> int:
        return int(self.command("PUBSUB", "NUMSUB", channel)[1])


@contextlib.contextmanager
def serve(
    tmp_path: Path, source: str, env: dict[str, str] | None = None, *, server: str = "uvicorn",
    threads: int = 4,
) -> Iterator[tuple[int, Path]]:
    """Run ``source`` as module ``pushapp`` under a real server; yield (port, log file)."""
    (tmp_path / "pushapp.py").write_text(source)
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), full_env.get("PYTHONPATH", "")])
    if server == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", "pushapp:app.asgi", "--port", str(port),
                   "--host", "127.0.0.1", "--log-level", "warning", "--backlog", "4096"]
    elif server == "granian":
        granian = str(Path(sys.executable).with_name("granian"))
        command = [granian, "--interface", "asgi", "pushapp:app.asgi", "--port", str(port),
                   "--host", "127.0.0.1", "--workers", "1", "--log-level", "warning",
                   "--backlog", "4096"]
    else:
        command = [sys.executable, "-m", "gunicorn", "pushapp:app", "--bind", f"127.0.0.1:{port}",
                   "--worker-class", "gthread", "--workers", "1", "--threads", str(threads),
                   "--graceful-timeout", "3", "--log-level", "warning"]
    log = tmp_path / f"server-{port}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, cwd=tmp_path, env=full_env, stdout=sink, stderr=sink)
    try:
        wait_port(port, proc)
        yield port, log
    finally:
        stop(proc)


class SSEClient:
    """A raw HTTP/1.1 event-stream reader: cheap enough to hold a thousand of them."""

    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.path = path
        self.headers = headers or {}
        self.status = 0
        self.parser = EventParser()
        self.events: list[ServerSentEvent] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._chunked = False

    async def connect(self) -> SSEClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._reader, self._writer = reader, writer
        lines = [f"GET {self.path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self._chunked = any(
            h.lower().startswith("transfer-encoding:") and "chunked" in h.lower()
            for h in header_lines
        )
        return self

    async def _read(self) -> bytes:
        assert self._reader is not None
        if not self._chunked:
            return await self._reader.read(65536)
        size_line = await self._reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return b""
        data = await self._reader.readexactly(size + 2)
        return data[:-2]

    async def next_event(self, timeout: float = 20.0) -> ServerSentEvent:
        """The next event with data (comments and retry-only events are kept too)."""
        async with asyncio.timeout(timeout):
            while True:
                for index, event in enumerate(self.events):
                    if event.data is not None:
                        del self.events[: index + 1]
                        return event
                chunk = await self._read()
                if not chunk:
                    raise EOFError("the server ended the stream")
                self.events.extend(self.parser.feed(chunk))

    async def wait_comment(self, text: str, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                for index, event in enumerate(self.events):
                    if event.comment == text:
                        del self.events[: index + 1]
                        return
                chunk = await self._read()
                if not chunk:
                    raise EOFError("the server ended the stream")
                self.events.extend(self.parser.feed(chunk))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def connect_all(clients: list[SSEClient], ready: str | None = "subscribed") -> None:
    """Connect every client (100 at a time) and wait for its ``ready`` comment."""
    gate = asyncio.Semaphore(100)

    async def one(client: SSEClient) -> None:
        async with gate:
            await client.connect()
            assert client.status == 200
            if ready is not None:
                await client.wait_comment(ready, timeout=60)

    await asyncio.gather(*(one(c) for c in clients))
