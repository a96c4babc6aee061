"""Fan-out across processes: two uvicorn servers sharing one real redis-server."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

APP = textwrap.dedent(
    """
    import asyncio
    from kettle import Kettle, request, websocket
    from kettle.push import EventStream, publish, subscribe

    app = Kettle(__name__)

    @app.route("/health")
    async def health():
        return "ok"

    @app.route("/rooms/<room>/events")
    async def events(room):
        async def stream():
            async with subscribe("room:" + room) as messages:
                yield {"event": "ready", "data": room}
                async for message in messages:
                    yield {"event": "message", "data": message}
        return EventStream(stream(), keep_alive=15)

    @app.route("/rooms/<room>/messages", methods=["POST"])
    async def say(room):
        count = await publish("room:" + room, request.get_json())
        return {"receivers": count}

    @app.websocket("/rooms/<room>/ws")
    async def room_socket(room):
        await websocket.accept()
        async with subscribe("room:" + room) as messages:
            await websocket.send_json({"ready": room})
            async for message in messages:
                await websocket.send_json(message)
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
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


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Redis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def numsub(self, channel: str) -> int:
        import redis

        client = redis.Redis(port=self.port)
        try:
            return int(dict(client.pubsub_numsub(channel))[channel.encode()])
        finally:
            client.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Redis, list[int]]]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required under CI (apt-get install -y redis-server)")
        pytest.skip("redis-server is not installed")
    (tmp_path / "chatapp.py").write_text(APP)
    redis_server = Redis(_free_port())
    redis_server.start()
    env = {**os.environ, "KETTLE_BROKER_URL": f"redis://127.0.0.1:{redis_server.port}/0"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "chatapp:app.asgi", "--port", str(port),
             "--host", "127.0.0.1", "--log-level", "warning"],
            cwd=tmp_path,
            env=env,
        )
        for port in ports
    ]
    try:
        for port, proc in zip(ports, servers, strict=True):
            _wait_port(port, proc)
        yield redis_server, ports
    finally:
        for proc in servers:
            _stop(proc)
        redis_server.stop()


def _wait_subscribers(redis_server: Redis, channel: str, count: int) -> None:
    deadline = time.monotonic() + 15
    while redis_server.numsub(channel) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{channel} never reached {count} subscribers")
        time.sleep(0.05)


def _read_event(lines: Iterator[str]) -> dict[str, str]:
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                return event
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        event[name] = value[1:] if value.startswith(" ") else value
    raise AssertionError("stream ended")


def test_sse_and_websocket_fan_out_through_redis(cluster: tuple[Redis, list[int]]) -> None:
    redis_server, (port_a, port_b) = cluster
    timeout = httpx.Timeout(5.0)
    with httpx.Client(timeout=timeout) as client, client.stream(
        "GET", f"http://127.0.0.1:{port_a}/rooms/tea/events"
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert _read_event(lines) == {"event": "ready", "data": "tea"}
        reply = client.post(f"http://127.0.0.1:{port_b}/rooms/tea/messages", json={"text": "hi"})
        assert reply.json() == {"receivers": 1}
        event = _read_event(lines)
        assert event["event"] == "message"
        assert json.loads(event["data"]) == {"text": "hi"}

        # Redis restarts: the subscriber reconnects and the next message arrives.
        redis_server.stop()
        redis_server.start()
        _wait_subscribers(redis_server, "room:tea", 1)
        client.post(f"http://127.0.0.1:{port_b}/rooms/tea/messages", json={"text": "again"})
        event = _read_event(lines)
        assert json.loads(event["data"]) == {"text": "again"}

    async def websocket_round() -> None:
        import websockets

        async with websockets.connect(f"ws://127.0.0.1:{port_a}/rooms/cake/ws") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"ready": "cake"}
            async with httpx.AsyncClient(timeout=timeout) as client:
                await client.post(f"http://127.0.0.1:{port_b}/rooms/cake/messages", json={"text": "ws"})
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"text": "ws"}

    asyncio.run(websocket_round())


def test_plain_http_to_websocket_route_on_uvicorn(cluster: tuple[Redis, list[int]]) -> None:
    _, (port_a, _) = cluster
    response = httpx.get(f"http://127.0.0.1:{port_a}/rooms/tea/ws", timeout=5)
    assert response.status_code == 426
