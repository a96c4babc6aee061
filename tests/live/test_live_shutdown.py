"""Ctrl+C with streams open: the server ends them, says so, and exits without a traceback."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
import websockets
from loopback_servers import KETTLE, Server, free_port, live_env, serving

pytestmark = pytest.mark.live

APP_SOURCE = textwrap.dedent(
    """
    import asyncio

    from kettle import Kettle, websocket
    from kettle.push import EventStream, long_poll

    app = Kettle(__name__)


    @app.route("/")
    def index():
        return "up"


    @app.route("/events")
    def events():
        async def ticks():
            number = 0
            while True:
                yield {"data": str(number)}
                number += 1
                await asyncio.sleep(0.2)

        return EventStream(ticks())


    @app.route("/poll")
    async def poll():
        print("poll waiting", flush=True)
        return await long_poll("quiet", timeout=120)


    @app.route("/slow")
    async def slow():
        print("slow view started", flush=True)
        await asyncio.sleep(60)
        return "late"


    @app.websocket("/ws")
    async def echo():
        await websocket.accept()
        await websocket.send("ready")
        while True:
            await websocket.send(await websocket.receive())
    """
)

#: How long the whole shutdown may take: generous for a loaded machine, far below a hang.
EXIT_WITHIN = 15


def commands(port: int) -> dict[str, list[str]]:
    return {
        "kettle-run": [KETTLE, "--app", "shutdown_app", "run", "--port", str(port), "--no-reload"],
        "uvicorn": [sys.executable, "-m", "uvicorn", "shutdown_app:app.asgi", "--port", str(port)],
        # The reloader's supervisor gets Ctrl+C and stops its worker with SIGTERM.
        "kettle-run-reload": [KETTLE, "--app", "shutdown_app", "run", "--port", str(port), "--reload"],
    }


class OpenStream(threading.Thread):
    """Read an SSE stream in the background; record the lines and how it ended."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.lines: list[str] = []
        self.ended: str | None = None
        self.started = threading.Event()

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, timeout=30) as response:
                for line in response.iter_lines():
                    self.lines.append(line)
                    self.started.set()
            self.ended = "complete"
        except httpx.HTTPError as e:
            self.ended = f"error: {e!r}"
        finally:
            self.started.set()


class OpenSocket(threading.Thread):
    """Hold a WebSocket open in the background; record its close code."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.close_code: int | None = None
        self.started = threading.Event()

    def run(self) -> None:
        asyncio.run(self.hold())

    async def hold(self) -> None:
        try:
            async with websockets.connect(self.url, open_timeout=10) as socket:
                assert await socket.recv() == "ready"
                self.started.set()
                await asyncio.wait_for(socket.recv(), timeout=30)
        except websockets.ConnectionClosed as e:
            self.close_code = e.rcvd.code if e.rcvd else None
        finally:
            self.started.set()


def start_app(tmp_path: Path, name: str) -> tuple[list[str], Path, dict[str, str], int]:
    (tmp_path / "shutdown_app.py").write_text(APP_SOURCE)
    port = free_port()
    return commands(port)[name], tmp_path, live_env(tmp_path), port


def assert_clean(server: Server) -> None:
    output = server.output()
    for noise in ("Traceback", "CancelledError", "Exception in", "ERROR"):
        assert noise not in output, output


@pytest.mark.parametrize("name", ["kettle-run", "kettle-run-reload", "uvicorn"])
def test_ctrl_c_ends_open_stream_and_websocket(name: str, tmp_path: Path) -> None:
    command, cwd, env, port = start_app(tmp_path, name)
    with serving(command, cwd, env, tmp_path / "log", port) as server:
        stream = OpenStream(server.base + "/events")
        socket = OpenSocket(server.base.replace("http", "ws") + "/ws")
        stream.start()
        socket.start()
        assert stream.started.wait(15) and socket.started.wait(15)
        assert stream.lines[0] == "data: 0"
        began = time.monotonic()
        code = server.interrupt(timeout=EXIT_WITHIN)
        elapsed = time.monotonic() - began
        stream.join(10)
        socket.join(10)
    assert code == 0
    assert elapsed < EXIT_WITHIN
    output = server.output()
    assert output.count("Shutting down: closing 1 open stream and 1 WebSocket") == 1
    assert_clean(server)
    # The stream's response was finished, not cut: the client read it to its end.
    assert stream.ended == "complete"
    # The WebSocket got a close frame: 1012, "service restart".
    assert socket.close_code == 1012


@pytest.mark.parametrize("name", ["kettle-run", "uvicorn"])
def test_second_ctrl_c_exits_at_once_without_tracebacks(name: str, tmp_path: Path) -> None:
    command, cwd, env, port = start_app(tmp_path, name)
    with serving(command, cwd, env, tmp_path / "log", port) as server:
        waiting: list[int | str] = []

        def wait_for_slow() -> None:
            try:
                waiting.append(httpx.get(server.base + "/slow", timeout=30).status_code)
            except httpx.HTTPError as e:
                waiting.append(repr(e))

        thread = threading.Thread(target=wait_for_slow, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while "slow view started" not in server.output():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        server.process.send_signal(signal.SIGINT)
        time.sleep(1)
        assert server.process.poll() is None  # The first Ctrl+C waits for /slow.
        code = server.interrupt(timeout=EXIT_WITHIN)
        thread.join(10)
    assert code == 0
    assert "Forced exit" in server.output()
    assert_clean(server)


@pytest.mark.parametrize("name", ["kettle-run", "uvicorn"])
def test_ctrl_c_answers_a_waiting_long_poll(name: str, tmp_path: Path) -> None:
    """A long poll waiting for a message (timeout 120 s) is answered 204 at Ctrl+C."""
    command, cwd, env, port = start_app(tmp_path, name)
    answers: list[int] = []

    def poll() -> None:
        with httpx.Client(timeout=60) as client:
            answers.append(client.get(server.base + "/poll").status_code)

    with serving(command, cwd, env, tmp_path / "log", port) as server:
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        deadline = time.monotonic() + 15
        while "poll waiting" not in server.output():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        time.sleep(0.3)  # from the print to the wait is a few statements
        code = server.interrupt(timeout=EXIT_WITHIN)
        poller.join(10)
    assert code == 0
    assert answers == [204]
    assert "Shutting down: closing 1 open stream" in server.output()
    assert_clean(server)
