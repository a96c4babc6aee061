"""ASGI scopes for the tests that call ``app.asgi`` directly, as a server on loopback would."""

from __future__ import annotations

from typing import Any

Headers = list[tuple[bytes, bytes]]


def asgi_scope(
    kind: str, path: str, headers: Headers, scheme: str = "http", **extra: Any
) -> dict[str, Any]:
    """A ``kind`` ("http" or "websocket") scope for ``path`` from 127.0.0.1:50000 with ``headers``."""
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        **extra,
    }


def http_scope(method: str, path: str, headers: Headers) -> dict[str, Any]:
    """An HTTP/1.1 request scope (see ``asgi_scope``)."""
    return asgi_scope("http", path, headers, http_version="1.1", method=method)
