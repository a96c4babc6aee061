"""A body that ends early is a client disconnect: ClientDisconnected (400), teardown, one INFO line.

In-process under WSGI (a short body, a reset while reading) and ASGI
(``http.disconnect`` mid-body, eager and streamed); live gunicorn and
uvicorn with a real socket reset are in tests/live/test_live_security.py.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from asgi_scopes import http_scope

from kettle import Kettle, request
from kettle.http.exceptions import ClientDisconnected, HTTPException
from kettle.testing import encode_multipart

BOUNDARY, BODY = encode_multipart(
    [("name", "ann"), ("file", (io.BytesIO(b"x" * 300_000), "a.bin"))]
)
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def upload_app(app: Kettle) -> tuple[Kettle, list[str]]:
    seen: list[str] = []

    def upload() -> Any:
        try:
            return {"size": len(request.files["file"].read())}
        except HTTPException as e:
            seen.append(type(e).__name__)
            raise

    app.add_url_rule("/upload", view_func=upload, methods=["POST"])
    app.add_url_rule("/stream", "stream", upload, methods=["POST"], stream_body=True)

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append("teardown")

    return app, seen


class ResettingInput(io.RawIOBase):
    """A wsgi.input whose connection is reset after ``good`` bytes (as a socket would)."""

    def __init__(self, data: bytes, good: int, reset: bool) -> None:
        self.data = data[:good]
        self.reset = reset

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.data:
            if self.reset:
                raise ConnectionResetError(104, "Connection reset by peer")
            return 0
        n = min(len(buffer), len(self.data))
        buffer[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


def wsgi_upload(app: Kettle, stream: Any) -> int:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/upload",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "CONTENT_LENGTH": str(len(BODY)),
        "CONTENT_TYPE": CONTENT_TYPE,
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    statuses: list[str] = []
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    return int(statuses[0].split()[0])


class Records(logging.Handler):
    """Collect what ``app.logger`` emits, whatever other tests did to logging."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def caplog_app(upload_app: tuple[Kettle, list[str]]) -> Iterator[Records]:
    logger = upload_app[0].logger
    handler = Records()
    level, disabled = logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.disabled = False  # Other tests quiet the shared "kettle_test" logger.
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled


def disconnect_lines(caplog: Records) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "disconnect" in r.getMessage().lower()]


@pytest.mark.parametrize("reset", [False, True], ids=["short-read", "reset"])
def test_wsgi_short_or_reset_body(
    upload_app: tuple[Kettle, list[str]], caplog_app: Records, reset: bool
) -> None:
    app, seen = upload_app
    status = wsgi_upload(app, ResettingInput(BODY, 100_000, reset))
    assert status == 400
    assert seen == ["ClientDisconnected", "teardown"]
    lines = disconnect_lines(caplog_app)
    assert [(r.levelno, r.getMessage()) for r in lines] == [
        (logging.INFO, "Client disconnected during POST /upload")
    ]
    assert not any(r.exc_info for r in caplog_app.records)
    assert issubclass(ClientDisconnected, HTTPException)
    assert ClientDisconnected.code == 400


@pytest.mark.parametrize("path", ["/upload", "/stream"])
def test_asgi_disconnect_mid_body(
    upload_app: tuple[Kettle, list[str]], caplog_app: Records, path: str
) -> None:
    app, seen = upload_app
    messages = [
        {"type": "http.request", "body": BODY[:100_000], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [
            (b"host", b"localhost"),
            (b"content-length", str(len(BODY)).encode()),
            (b"content-type", CONTENT_TYPE.encode()),
    ]
    scope = http_scope("POST", path, headers)
    asyncio.run(asyncio.wait_for(app.asgi(scope, receive, send), 10))
    if path == "/stream":
        # The view streams the body: it meets the disconnect, as under WSGI.
        assert sent[0]["status"] == 400
        assert seen == ["ClientDisconnected", "teardown"]
    else:
        # The body is received before any hook: the request never arrived
        # whole, so nothing runs (nothing to tear down) and nobody is answered.
        assert sent == []
        assert seen == []
    assert len(disconnect_lines(caplog_app)) == 1
    assert disconnect_lines(caplog_app)[0].levelno == logging.INFO
    assert not any(r.exc_info for r in caplog_app.records)


def test_complete_body_still_works(upload_app: tuple[Kettle, list[str]], client: Any) -> None:
    _app, seen = upload_app
    for path in ("/upload", "/stream"):
        response = client.post(path, data=BODY, content_type=CONTENT_TYPE)
        assert response.json == {"size": 300_000}
    assert seen == ["teardown", "teardown"]
