"""The body is read only for a request that will use it: refusals come first, bodyless.

An 8 MiB POST to an unknown URL, with the wrong method, for an untrusted
host or from a foreign Origin (CSRF) is answered without one byte of its
body received (ASGI: no ``receive()`` call) or read (WSGI: no read of
``wsgi.input``). The live version is in tests/live/test_live_security.py.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from asgi_scopes import http_scope

from kettle import Kettle, request
from kettle.csrf import CSRFProtect

SIZE = 8 * 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture
def body_app(app: Kettle) -> Kettle:
    app.config["TRUSTED_HOSTS"] = ["good.test"]
    CSRFProtect(app)

    @app.route("/upload", methods=["POST"])
    def upload() -> Any:
        return {"size": len(request.get_data())}

    @app.route("/only-get")
    def only_get() -> str:
        return "get"

    return app


class CountingReceive:
    """An ASGI receive that counts its calls and the body bytes it hands out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls = 0
        self.received = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.received >= self.size:
            await asyncio.Event().wait()  # A client that waits for its answer.
        chunk = min(CHUNK, self.size - self.received)
        self.received += chunk
        return {"type": "http.request", "body": b"x" * chunk, "more_body": self.received < self.size}


def asgi_post(app: Kettle, path: str, headers: dict[str, str]) -> tuple[int, CountingReceive]:
    pairs = [(b"content-length", str(SIZE).encode()), (b"content-type", b"application/octet-stream")]
    pairs += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = http_scope("POST", path, pairs)
    receive = CountingReceive(SIZE)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app.asgi(scope, receive, send), 30))
    return sent[0]["status"], receive


class CountingInput(io.RawIOBase):
    """A wsgi.input that counts the bytes read from it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"x" * n
        self.read_bytes += n
        return n


def wsgi_post(app: Kettle, path: str, headers: dict[str, str]) -> tuple[int, CountingInput]:
    stream = CountingInput(SIZE)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "good.test",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(SIZE),
        "CONTENT_TYPE": "application/octet-stream",
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    statuses: list[str] = []
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return int(statuses[0].split()[0]), stream


REFUSED = [
    ("/nowhere", {"Host": "good.test"}, 404),
    ("/only-get", {"Host": "good.test"}, 405),
    ("/upload", {"Host": "evil.test"}, 400),
    ("/upload", {"Host": "good.test", "Origin": "https://evil.test"}, 403),
]


@pytest.mark.parametrize(("path", "headers", "status"), REFUSED)
def test_asgi_refuses_without_receiving_the_body(
    body_app: Kettle, path: str, headers: dict[str, str], status: int
) -> None:
    got, receive = asgi_post(body_app, path, headers)
    assert got == status
    assert (receive.calls, receive.received) == (0, 0)


@pytest.mark.parametrize(("path", "headers", "status"), REFUSED)
def test_wsgi_refuses_without_reading_the_body(
    body_app: Kettle, path: str, headers: dict[str, str], status: int
) -> None:
    got, stream = wsgi_post(body_app, path, headers)
    assert got == status
    assert stream.read_bytes == 0


def test_a_request_that_uses_its_body_gets_it(body_app: Kettle) -> None:
    headers = {"Host": "good.test", "X-CSRFToken": "not checked before the body"}
    status, receive = asgi_post(body_app, "/upload", headers)
    assert status == 400  # The token is checked once the body is in, and it is wrong.
    assert receive.received == SIZE
    body_app.config["CSRF_ENABLED"] = False
    status, receive = asgi_post(body_app, "/upload", {"Host": "good.test"})
    assert status == 200
    assert receive.received == SIZE
    status, stream = wsgi_post(body_app, "/upload", {"Host": "good.test"})
    assert status == 200
    assert stream.read_bytes == SIZE
