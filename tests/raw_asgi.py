"""Drive ``app.asgi`` directly, without the test client: one request per call (concurrent tasks, garbage checks, repeated headers)."""

from __future__ import annotations

from typing import Any

from kettle import Kettle


async def asgi_request(
    app: Kettle,
    path: str,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """Send one request (a GET unless told) through ``app.asgi``; return status, headers and body."""
    scope = asgi_scope(path, method, query, [(b"host", b"localhost"), *(headers or [])])
    status, pairs, sent = await asgi_exchange(app, scope, body)
    return status, {k.decode().lower(): v.decode() for k, v in pairs}, sent


async def asgi_exchange(
    app: Kettle, scope: dict[str, Any], body: bytes = b""
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Send ``scope`` (and ``body``) through ``app.asgi``: the status, header pairs and body sent."""
    sent = False
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = list(message["headers"])
        elif message["type"] == "http.response.body":
            assert type(message.get("body", b"")) is bytes
            out["body"] += message.get("body", b"")

    await app.asgi(scope, receive, send)
    return out["status"], out["headers"], out["body"]


def asgi_scope(
    path: str,
    method: str = "GET",
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    root_path: str = "",
) -> dict[str, Any]:
    """The http scope of a request for ``path`` to http://localhost; ``headers`` are all of them."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": query,
        "headers": headers or [],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }
