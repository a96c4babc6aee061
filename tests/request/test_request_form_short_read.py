"""A short urlencoded body read in one call keeps the stream's rules, under WSGI and ASGI.

``request.form`` reads such a body itself (``Request._short_urlencoded_form``):
a server's stream that returns fewer bytes than asked is read again, one that
ends early or is reset is a 400, a Content-Length past ``MAX_CONTENT_LENGTH``
is a 413 before a byte is read, and without a limit nothing is checked.
``getlist`` hands out a copy of the stored values.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from kettle import Kettle, request
from kettle.testing import KettleClient

BODY = b"a=1&b=two&a=3&c=%41"


class TricklingInput(io.RawIOBase):
    """A wsgi.input that gives at most ``step`` bytes per read, then ends or is reset."""

    def __init__(self, data: bytes, step: int, reset: bool = False) -> None:
        self.data = data
        self.step = step
        self.reset = reset
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        if not self.data:
            if self.reset:
                raise ConnectionResetError(104, "Connection reset by peer")
            return 0
        n = min(len(buffer), len(self.data), self.step)
        buffer[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


def form_app(app: Kettle) -> Kettle:
    @app.post("/form")
    def form() -> Any:
        return {
            "a": request.form.getlist("a"),
            "b": request.form["b"],
            "c": request.form.get("c"),
            "rest": request.stream.read().decode(),
        }

    return app


def wsgi_post(app: Kettle, stream: Any, length: int) -> tuple[int, bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/form",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "CONTENT_LENGTH": str(length),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return int(statuses[0].split()[0]), body


def test_short_reads_are_joined(app: Kettle) -> None:
    stream = TricklingInput(BODY, 4)
    status, body = wsgi_post(form_app(app), stream, len(BODY))
    assert status == 200
    assert body == b'{"a":["1","3"],"b":"two","c":"A","rest":""}\n'
    assert stream.reads >= len(BODY) // 4


@pytest.mark.parametrize("reset", [False, True], ids=["ends-early", "reset"])
def test_a_body_shorter_than_announced_is_a_400(app: Kettle, reset: bool) -> None:
    status, _ = wsgi_post(form_app(app), TricklingInput(BODY, 5, reset), len(BODY) + 10)
    assert status == 400


def test_past_max_content_length_is_a_413_before_reading(app: Kettle) -> None:
    app.config["MAX_CONTENT_LENGTH"] = len(BODY) - 1
    stream = TricklingInput(BODY, 100)
    status, _ = wsgi_post(form_app(app), stream, len(BODY))
    assert status == 413
    assert stream.reads == 0


@pytest.mark.parametrize("limit", [None, len(BODY)])
def test_form_under_or_without_a_limit(app: Kettle, client: KettleClient, limit: Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = limit
    form_app(app)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/form", data=BODY, headers=headers)
    assert response.json == {"a": ["1", "3"], "b": "two", "c": "A", "rest": ""}
    app.config["MAX_CONTENT_LENGTH"] = len(BODY) - 1
    assert client.post("/form", data=BODY, headers=headers).status_code == 413


def test_getlist_hands_out_a_copy(app: Kettle, client: KettleClient) -> None:
    @app.get("/tags")
    def tags() -> Any:
        first = request.args.getlist("tag")
        first.append("changed")
        return {"first": first, "again": request.args.getlist("tag"), "one": request.args["tag"]}

    assert client.get("/tags?tag=a&tag=b").json == {
        "first": ["a", "b", "changed"],
        "again": ["a", "b"],
        "one": "a",
    }
