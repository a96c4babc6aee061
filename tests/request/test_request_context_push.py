"""The request context's push and pop, and its ``after_this_request`` list, under WSGI and ASGI.

A context pushed once keeps one token and makes no list; pushed again inside
itself (``with request_ctx:`` in a view, ``copy_current_request_context``)
only the outermost pop tears down. Extensions append to
``_after_request_functions`` directly, as in Flask: the list is made on
first read and its functions run on the response.
"""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, copy_current_request_context, g, has_request_context, request
from kettle.globals import request_ctx
from kettle.testing import KettleClient


def test_extension_appends_to_after_request_functions(app: Kettle, client: KettleClient) -> None:
    @app.get("/")
    def index() -> str:
        def stamp(response: Any) -> Any:
            response.headers["X-Ext"] = "yes"
            return response

        request_ctx._after_request_functions.append(stamp)  # As extensions do.
        return "hello"

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["X-Ext"] == "yes"
    assert client.get("/plain").headers.get("X-Ext") is None  # Not kept for the next request.


def test_context_pushed_again_in_the_view(app: Kettle, client: KettleClient) -> None:
    torn: list[str] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        torn.append(request.path)

    @app.get("/")
    def index() -> str:
        g.value = "shared"
        ctx = request_ctx._get_current_object()
        with ctx:  # Re-entered: the pop restores, no teardown yet.
            with ctx:
                assert request.path == "/"
            assert g.value == "shared"
        assert torn == []
        assert has_request_context()
        return request.path

    response = client.get("/")
    assert response.text == "/"
    assert torn == ["/"]  # Once, by the pipeline.
    assert not has_request_context()


def test_copied_context_in_the_view(app: Kettle, client: KettleClient) -> None:
    @app.get("/")
    def index() -> str:
        @copy_current_request_context
        def read() -> str:
            return request.args.get("q", "")

        return read() + "|" + request.path

    assert client.get("/?q=copied").text == "copied|/"


def test_pop_of_a_context_never_pushed_is_an_error(app: Kettle) -> None:
    ctx = app.test_request_context("/")
    with pytest.raises(IndexError):
        ctx.pop()
    ctx.push()
    ctx.pop()
    assert not has_request_context()
