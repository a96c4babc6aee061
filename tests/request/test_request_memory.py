"""A 100 MiB streamed upload peaks below 10 MiB of Python memory, under WSGI and ASGI."""

from __future__ import annotations

import asyncio
import io
import os
import tracemalloc
from typing import Any

import pytest

from kettle import Kettle, request

SIZE = 100 * 1024 * 1024
CHUNK = 64 * 1024
HEAD = b'--bound\r\nContent-Disposition: form-data; name="big"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
TAIL = b"\r\n--bound--\r\n"


class _Body(io.RawIOBase):
    """The multipart body, produced as it is read: never held in memory whole."""

    def __init__(self) -> None:
        self.sent = 0
        self.pending = HEAD
        self.block = b"k" * CHUNK

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise ValueError("read the body in chunks")
        if not self.pending and self.sent < SIZE:
            take = min(CHUNK, SIZE - self.sent)
            self.sent += take
            self.pending = self.block[:take]
        elif not self.pending and self.block:
            self.pending, self.block = TAIL, b""
        data, self.pending = self.pending[:size], self.pending[size:]
        return data


def _app() -> Kettle:
    app = Kettle("memtest")
    app.config["MAX_CONTENT_LENGTH"] = 200 * 1024 * 1024

    @app.post("/upload")
    def upload() -> Any:
        f = request.files["big"]
        size = 0
        for chunk in iter(lambda: f.stream.read(CHUNK), b""):
            size += len(chunk)
        return {"size": size, "name": f.filename}

    return app


LENGTH = len(HEAD) + SIZE + len(TAIL)


def _run_wsgi(app: Kettle) -> bytes:
    stream = _finite(_Body())
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/upload", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
        "CONTENT_TYPE": "multipart/form-data; boundary=bound", "CONTENT_LENGTH": str(LENGTH),
        "wsgi.input": stream, "wsgi.url_scheme": "http", "wsgi.input_terminated": True,
    }
    status: list[str] = []
    out = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    assert status == ["200 OK"]
    return out


class _finite(io.RawIOBase):
    """Stop the generated body after exactly LENGTH bytes."""

    def __init__(self, body: _Body) -> None:
        self.body = body
        self.left = LENGTH

    def read(self, size: int | None = -1) -> bytes:
        size = CHUNK if size is None or size < 0 else size
        data = self.body.read(min(size, self.left)) if self.left else b""
        self.left -= len(data)
        return data


def _run_asgi(app: Kettle) -> bytes:
    stream = _finite(_Body())
    scope = {
        "type": "http", "method": "POST", "path": "/upload", "root_path": "", "query_string": b"",
        "scheme": "http", "server": ("localhost", 80), "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"localhost"), (b"content-type", b"multipart/form-data; boundary=bound"),
                    (b"content-length", str(LENGTH).encode())],
    }
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        data = stream.read(CHUNK)
        return {"type": "http.request", "body": data, "more_body": stream.left > 0}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
        else:
            assert message["status"] == 200

    asyncio.run(app.asgi(scope, receive, send))
    return b"".join(chunks)


@pytest.mark.parametrize("run", [_run_wsgi, _run_asgi], ids=["wsgi", "asgi"])
def test_100_mib_upload_peaks_below_10_mib(run: Any, tmp_path: Any) -> None:
    os.environ.setdefault("TMPDIR", str(tmp_path))
    app = _app()
    tracemalloc.start()
    try:
        out = run(app)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out == b'{"name":"big.bin","size":%d}\n' % SIZE
    assert peak < 10 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
