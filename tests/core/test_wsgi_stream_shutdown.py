"""WSGI streams at shutdown: counted between two steps, and only their step is cancelled."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from kettle import Kettle, Response, _loops
from kettle.adapters import shutdown


@pytest.fixture
def restored_shutdown(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """close_open_streams() marks the process as shutting down: undo it after the test."""
    monkeypatch.setattr(shutdown, "_shutting_down", False)
    yield
    _loops.thread_loop().close()  # The kept loop the body ran on (made again when needed).


def _environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
    }


def _app(cleaned: list[str]) -> Kettle:
    app = Kettle(__name__)

    @app.route("/stream")
    def stream() -> Response:
        async def body() -> AsyncIterator[str]:
            try:
                yield "first"
                await asyncio.Event().wait()  # Idle until the server shuts down.
                yield "never"
            finally:
                await asyncio.sleep(0)  # Cleanup that awaits must still run to its end.
                cleaned.append("closed")

        return Response(body(), mimetype="text/plain")

    return app


def test_a_stream_between_two_steps_is_counted_and_its_next_step_ends_it(
    restored_shutdown: None,
) -> None:
    cleaned: list[str] = []
    app = _app(cleaned)
    statuses: list[str] = []
    body = app(_environ("/stream"), lambda status, headers: statuses.append(status))
    chunks = iter(body)
    assert next(chunks) == b"first"  # Now between two steps: no step is running.
    assert shutdown.close_open_streams() == 1
    assert list(chunks) == []  # The next step is cancelled at once: the body ends.
    body.close()  # type: ignore[attr-defined]
    assert statuses == ["200 OK"]
    assert cleaned == ["closed"]


def test_shutdown_cancels_a_parked_step_and_lets_its_cleanup_finish(
    restored_shutdown: None,
) -> None:
    cleaned: list[str] = []
    app = _app(cleaned)
    got: list[bytes] = []
    first = threading.Event()

    def serve() -> None:
        body = app(_environ("/stream"), lambda status, headers: None)
        try:
            for chunk in body:
                got.append(chunk)
                first.set()
        finally:
            body.close()  # type: ignore[attr-defined]
            _loops.thread_loop().close()

    worker = threading.Thread(target=serve)
    worker.start()
    assert first.wait(10)
    # The worker thread is parked in its step (or about to be): shutdown ends it either way.
    assert shutdown.close_open_streams() == 1
    worker.join(10)
    assert not worker.is_alive()
    assert got == [b"first"]
    assert cleaned == ["closed"]
