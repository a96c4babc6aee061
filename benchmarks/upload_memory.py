"""Peak Python memory (tracemalloc) for a 10 MiB multipart upload: Kettle vs Flask (WSGI)."""

from __future__ import annotations

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


def measure(app: Any, request: Any) -> float:
    @app.post("/up")
    def up() -> str:
        stream = request.files["f"].stream
        return str(sum(len(c) for c in iter(lambda: stream.read(65536), b"")))

    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/up", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "multipart/form-data; boundary=b",
        "CONTENT_LENGTH": str(len(HEAD) + SIZE + len(TAIL)),
    }
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    environ["wsgi.input"] = Body()  # The generated chunks are allocated before tracing.
    tracemalloc.start()
    body = b"".join(app(environ, lambda *a: None))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert body == str(SIZE).encode(), body
    return peak / 2**20


if __name__ == "__main__":
    import flask

    import kettle

    print(f"kettle: {measure(kettle.Kettle('k'), kettle.request):.2f} MiB peak")
    print(f"flask:  {measure(flask.Flask('f'), flask.request):.2f} MiB peak")
