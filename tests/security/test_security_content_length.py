"""Content-Length fields that disagree: the body has no framing anyone can trust.

RFC 9110 8.6 lets a recipient take a list of one repeated length
(``6, 6``) as that length; RFC 9112 6.3 makes lengths that differ an
invalid message, answered with 400. h11 and gunicorn refuse such a request
themselves; a server that joins the repeated fields (WSGI's one
``CONTENT_LENGTH``) or passes them on (an ASGI scope's header list) leaves
it to the app. Kettle then receives no body under ASGI and answers 400
wherever the body or its length is read, under both protocols, and reads
the same length under both (the ASGI adapter and the request used to keep
the last and the first field).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgi_scopes import http_scope

from kettle import Kettle, request
from kettle.testing import KettleClient

BODY = "a=1&bc"  # Six bytes.


@pytest.fixture
def length_app(app: Kettle) -> Kettle:
    @app.post("/data")
    def data() -> Any:
        return {"data": request.get_data(as_text=True)}

    @app.post("/form")
    async def form() -> Any:
        return {"form": request.form.to_dict()}

    @app.post("/json")
    def json() -> Any:
        return {"json": request.get_json(force=True)}

    @app.post("/length")
    def length() -> Any:
        return {"length": request.content_length}

    @app.post("/ignores-body")
    def ignores_body() -> str:
        return "not read"

    return app


def post(client: KettleClient, path: str, length: str) -> Any:
    return client.post(
        path,
        data=BODY,
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"CONTENT_LENGTH": length},
    )


@pytest.mark.parametrize(
    "length", ["5, 6", "6, 5", "6,6,7", "6, ", ",6", "6, 06", "6, 1" + "0" * 30]
)
@pytest.mark.parametrize("path", ["/data", "/form", "/json", "/length"])
def test_lengths_that_differ_are_a_400_where_the_body_is_read(
    length_app: Kettle, client: KettleClient, path: str, length: str
) -> None:
    response = post(client, path, length)
    assert response.status_code == 400
    assert b"Content-Length" in response.data
    assert b"Traceback" not in response.data


@pytest.mark.parametrize("length", ["6, 6", "6,6,6", "6 ,\t6"])
def test_one_length_repeated_is_that_length(
    length_app: Kettle, client: KettleClient, length: str
) -> None:
    assert post(client, "/data", length).get_json() == {"data": BODY}
    assert post(client, "/form", length).get_json() == {"form": {"a": "1", "bc": ""}}
    assert post(client, "/length", length).get_json() == {"length": 6}


def test_a_view_that_never_reads_the_body_answers(length_app: Kettle, client: KettleClient) -> None:
    response = post(client, "/ignores-body", "5, 6")
    assert (response.status_code, response.text) == (200, "not read")


def test_a_400_reaches_the_app_s_error_handler(length_app: Kettle, client: KettleClient) -> None:
    @length_app.errorhandler(400)
    def bad_request(error: Any) -> tuple[dict[str, str], int]:
        return {"error": error.description}, 400

    response = post(client, "/data", "6, 7")
    assert response.status_code == 400
    assert response.get_json() == {"error": "The request's Content-Length values differ."}


def asgi_post(app: Kettle, path: str, lengths: list[bytes]) -> tuple[int, bytes, int]:
    """POST ``BODY`` with the given Content-Length fields, straight to ``app.asgi``."""
    headers = [(b"host", b"localhost"), (b"content-type", b"application/x-www-form-urlencoded")]
    headers += [(b"content-length", value) for value in lengths]
    scope = http_scope("POST", path, headers)
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls > 1:
            await asyncio.Event().wait()  # A client that waits for its answer.
        return {"type": "http.request", "body": BODY.encode(), "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app.asgi(scope, receive, send), 30))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body, calls


@pytest.mark.parametrize("path", ["/data", "/form", "/length"])
def test_repeated_asgi_fields_that_differ_are_a_400_with_no_body_received(
    length_app: Kettle, path: str
) -> None:
    for lengths in ([b"5", b"6"], [b"6", b"5"], [b"6", b"6, 7"]):
        status, body, calls = asgi_post(length_app, path, lengths)
        assert status == 400, lengths
        assert b"Content-Length" in body
        assert calls == 0  # No framing to receive the body by.


def test_repeated_asgi_fields_of_one_length_are_read_as_it(length_app: Kettle) -> None:
    for path, expected in (
        ("/data", b'{"data":"a=1&bc"}\n'),
        ("/length", b'{"length":6}\n'),
        ("/form", b'{"form":{"a":"1","bc":""}}\n'),
    ):
        status, body, calls = asgi_post(length_app, path, [b"6", b"6"])
        assert (status, body, calls) == (200, expected, 1), path
