"""What the construction cuts of the fixed cost must not change (session 7).

An app's request reads its client address and its headers from the environ or
the scope it keeps, on first use; the ASGI adapter makes the request as ``type.__call__``
does while the class keeps ``Request.__init__``, and calls any other class.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kettle import Kettle, request
from kettle.testing import KettleClient
from kettle.wrappers import Request


def _address_view(app: Kettle) -> None:
    @app.get("/address")
    def address() -> Any:
        first = request.remote_addr
        request.remote_addr = "192.0.2.1"  # Assigning overrides it, as before.
        return {
            "first": first,
            "assigned": request.remote_addr,
            "route": request.access_route,
            "agent": request.headers.get("X-Agent"),
        }


def test_remote_addr_is_the_clients_address(app: Kettle, client: KettleClient) -> None:
    _address_view(app)
    assert client.get("/address", headers={"X-Agent": "probe"}).json == {
        "first": "127.0.0.1",
        "assigned": "192.0.2.1",
        "route": ["192.0.2.1"],
        "agent": "probe",
    }
    response = client.get("/address", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.json["first"] == "10.9.8.7"


def test_remote_addr_of_a_class_that_does_not_read_its_source(
    app: Kettle, client: KettleClient
) -> None:
    class GivenRequest(Request):
        """A class that reads nothing it keeps: the adapter passes its address and headers."""

        reads_kept_source = False

    app.request_class = GivenRequest
    _address_view(app)
    response = client.get(
        "/address", environ_base={"REMOTE_ADDR": "10.9.8.6"}, headers={"X-Agent": "given"}
    )
    assert response.json["first"] == "10.9.8.6"
    assert response.json["agent"] == "given"


def test_remote_addr_without_a_client_is_none() -> None:
    assert Request("GET", "/").remote_addr is None
    assert Request("GET", "/", remote_addr="10.0.0.1").remote_addr == "10.0.0.1"
    built = Request.from_values("/", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert built.remote_addr == "10.0.0.2"


def test_asgi_scope_without_client(app: Kettle) -> None:
    _address_view(app)
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/address",
        "headers": [(b"host", b"localhost")],
        "query_string": b"",
    }
    asyncio.run(app.asgi(scope, receive, send))
    assert messages[0]["status"] == 200
    assert b'"first":null' in messages[1]["body"].replace(b" ", b"")


def test_request_classes_are_made_as_their_class_says(app: Kettle, client: KettleClient) -> None:
    made: list[str] = []

    class NewRequest(Request):
        """A class with its own ``__new__``: called, not bypassed."""

        def __new__(cls, *args: Any, **kwargs: Any) -> NewRequest:
            made.append("new")
            return super().__new__(cls)

    class InitRequest(Request):
        """A class with its own ``__init__``: given keywords."""

        def __init__(self, method: str, path: str, **fields: Any) -> None:
            made.append("init")
            super().__init__(method, path, **fields)

    @app.get("/kind")
    def kind() -> Any:
        return {"class": type(request._get_current_object()).__name__, "path": request.path}

    for request_class, mark in ((NewRequest, "new"), (InitRequest, "init")):
        app.request_class = request_class
        made.clear()
        assert client.get("/kind").json == {"class": request_class.__name__, "path": "/kind"}
        assert made and set(made) == {mark}  # (The test client may make one of its own.)


def test_request_finished_and_session_refresh_after_a_plain_view(
    app: Kettle, client: KettleClient
) -> None:
    """``finish`` is skipped only when it has nothing to do: these still happen."""
    from kettle import request_finished, session

    @app.get("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "ada"
        return "in"

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    @app.get("/async")
    async def plain_async() -> str:
        return "async"

    assert "Set-Cookie" not in client.get("/plain").headers  # No cookie, nothing opened.
    assert "Set-Cookie" in client.get("/login").headers
    # A permanent session is refreshed on every request (SESSION_REFRESH_EACH_REQUEST),
    # though the view never reads it.
    for path in ("/plain", "/async"):
        response = client.get(path)
        assert "Set-Cookie" in response.headers
        assert response.headers.get("Vary") == "Cookie"

    seen: list[bytes] = []

    def record(sender: Kettle, response: Any, **extra: Any) -> None:
        seen.append(response.get_data())

    with request_finished.connected_to(record, app):
        fresh = app.test_client(protocol=client.protocol)
        fresh.get("/plain")
        fresh.get("/async")
    assert seen == [b"plain", b"async"]
