"""Peak Python memory (tracemalloc) for a 10 MiB multipart upload: Kettle (WSGI, ASGI) vs Flask.

Issue 16's bound: at most 0.1x the upload's size. Each app answers one small
upload first, so what a first request imports is not counted.
"""

from __future__ import annotations

import asyncio
import io
import sys
import tracemalloc
from typing import Any

SIZE = 10 * 1024 * 1024
HEAD = b'--b\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
TAIL = b"\r\n--b--\r\n"


class Body(io.RawIOBase):
    """The body generated as it is read."""

    def __init__(self) -> None:
        self.parts = [HEAD, *([b"x" * 65536] * (SIZE // 65536)), TAIL]
        self.buf = b""

    def read(self, size: int | None = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        while len(self.buf) < size and self.parts:
            self.buf += self.parts.pop(0)
        out, self.buf = self.buf[:size], self.buf[size:]
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _environ(length: int, body: Any) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/up", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "multipart/form-data; boundary=b", "CONTENT_LENGTH": str(length),
        "wsgi.input": body,
    }


def _call(app: Any, protocol: str, body: Body, length: int) -> bytes:
    if protocol == "wsgi":
        return b"".join(app(_environ(length, body), lambda *a: None))
    environ = _environ(length, body)
    headers = [(b"host", b"localhost"), (b"content-length", str(length).encode()),
               (b"content-type", environ["CONTENT_TYPE"].encode())]
    scope = {"type": "http", "method": "POST", "path": "/up", "query_string": b"", "headers": headers}
    chunks: list[bytes] = []
    left = length

    async def receive() -> dict[str, Any]:
        nonlocal left
        data = body.read(65536)
        left -= len(data)
        return {"type": "http.request", "body": data, "more_body": left > 0}

    async def send(message: dict[str, Any]) -> None:
        chunks.append(message.get("body", b""))

    asyncio.run(app.asgi(scope, receive, send))
    return b"".join(chunks)


def measure(app: Any, request: Any, protocol: str = "wsgi") -> float:
    @app.post("/up")
    def up() -> str:
        stream = request.files["f"].stream
        return str(sum(len(c) for c in iter(lambda: stream.read(65536), b"")))

    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    small = Body()
    small.parts = [HEAD, b"x" * 1000, TAIL]
    assert _call(app, protocol, small, len(HEAD) + 1000 + len(TAIL)) == b"1000"
    body = Body()  # The generated chunks are allocated before tracing.
    tracemalloc.start()
    out = _call(app, protocol, body, len(HEAD) + SIZE + len(TAIL))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out == str(SIZE).encode(), out
    return peak / 2**20


if __name__ == "__main__":
    import flask

    import kettle

    for name, peak in [
        ("kettle (WSGI)", measure(kettle.Kettle("k"), kettle.request)),
        ("kettle (ASGI)", measure(kettle.Kettle("k"), kettle.request, "asgi")),
        ("flask (WSGI)", measure(flask.Flask("f"), flask.request)),
    ]:
        print(f"{name:14} {peak:.2f} MiB peak, {peak / (SIZE / 2**20):.3f}x the upload")
