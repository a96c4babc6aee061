"""Fan-out across processes: two uvicorn servers sharing one real redis-server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from push_servers import RedisServer, free_port, stop, wait_port

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


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RedisServer, list[int]]]:
    (tmp_path / "chatapp.py").write_text(APP)
    redis_server = RedisServer()
    redis_server.start()
    env = {**os.environ, "KETTLE_BROKER_URL": redis_server.url}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    ports = [free_port(), free_port()]
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
            wait_port(port, proc)
        yield redis_server, ports
    finally:
        for proc in servers:
            stop(proc)
        redis_server.stop()


def _wait_subscribers(redis_server: RedisServer, channel: str, count: int) -> None:
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


def test_sse_and_websocket_fan_out_through_redis(cluster: tuple[RedisServer, list[int]]) -> None:
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


def test_plain_http_to_websocket_route_on_uvicorn(cluster: tuple[RedisServer, list[int]]) -> None:
    _, (port_a, _) = cluster
    response = httpx.get(f"http://127.0.0.1:{port_a}/rooms/tea/ws", timeout=5)
    assert response.status_code == 426
