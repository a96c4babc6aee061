"""The demo's server push on a real server (``kettle run``): SSE chat, long polling, WebSocket chat."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from demo_server import serve_demo

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("demo-server") / "server.log"
    with serve_demo(log) as base:
        yield base


def session_with_token(base_url: str) -> tuple[httpx.Client, str]:
    """A client holding a session cookie, and the CSRF token bound to it."""
    client = httpx.Client(base_url=base_url, timeout=10)
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/chat").text)
    assert match is not None
    return client, match.group(1)


def test_sse_chat_one_speaks_the_others_receive(base_url: str) -> None:
    received: dict[str, list[str]] = {"b": [], "c": []}
    ready = {"b": threading.Event(), "c": threading.Event()}
    done = {"b": threading.Event(), "c": threading.Event()}

    def listen(name: str) -> None:
        with httpx.stream("GET", base_url + "/chat/stream", timeout=15) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line == "event: ready":
                    ready[name].set()
                elif line.startswith("data: ") and ready[name].is_set() and line != "data: subscribed":
                    received[name].append(line[6:])
                    done[name].set()
                    return

    threads = [threading.Thread(target=listen, args=(name,), daemon=True) for name in received]
    for thread in threads:
        thread.start()
    assert all(event.wait(10) for event in ready.values())
    speaker, token = session_with_token(base_url)
    sent = speaker.post("/chat/send", data={"csrf_token": token, "user": "alice", "message": "hello room"})
    assert sent.status_code == 201
    assert all(event.wait(10) for event in done.values())
    assert received == {"b": ["alice: hello room"], "c": ["alice: hello room"]}


def test_long_poll_delivers_a_message(base_url: str) -> None:
    result: dict[str, httpx.Response] = {}
    waiter = threading.Thread(
        target=lambda: result.setdefault("r", httpx.get(base_url + "/longpoll?timeout=10", timeout=15)),
        daemon=True,
    )
    waiter.start()
    sender, token = session_with_token(base_url)
    # The waiter subscribes when its request arrives; publish until someone received it.
    for _ in range(50):
        sent = sender.post("/longpoll/send", data={"csrf_token": token, "message": "news"})
        assert sent.status_code == 201
        if sent.json()["receivers"]:
            break
        waiter.join(0.1)
    waiter.join(15)
    assert result["r"].status_code == 200
    assert result["r"].json() == {"message": "news"}


def test_websocket_chat_three_users(base_url: str) -> None:
    ws_url = base_url.replace("http://", "ws://") + "/ws/chat"

    async def scenario() -> list[list[str]]:
        sockets = [await websockets.connect(ws_url) for _ in range(3)]
        try:
            for socket in sockets:
                assert await asyncio.wait_for(socket.recv(), 5) == "ready"
            await sockets[0].send("alice: hi both")
            return [[await asyncio.wait_for(socket.recv(), 5)] for socket in sockets]
        finally:
            for socket in sockets:
                await socket.close()

    assert asyncio.run(scenario()) == [["alice: hi both"]] * 3


def test_index_served(base_url: str, tmp_path: Path) -> None:
    response = httpx.get(base_url + "/", timeout=5)
    assert response.status_code == 200
    assert response.headers["x-demo"] == "kettle"
