"""Trusted hosts, ProxyFix (WSGI and ASGI) and ASGI body streaming."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, request
from kettle.middleware import ProxyFix
from kettle.testing import KettleClient


def _where(app: Kettle) -> None:
    @app.get("/where")
    def where() -> Any:
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "url": request.url,
            "root": request.root_path,
        }


FORWARDED = {
    "X-Forwarded-For": "203.0.113.9, 10.0.0.2",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "shop.example.com",
    "X-Forwarded-Port": "8443",
    "X-Forwarded-Prefix": "/shop",
}


def test_forwarded_headers_ignored_without_proxyfix(app: Kettle, client: KettleClient) -> None:
    _where(app)
    assert client.get("/where", headers=FORWARDED).json == {
        "remote_addr": "127.0.0.1",
        "scheme": "http",
        "host": "localhost",
        "url": "http://localhost/where",
        "root": "",
    }


def test_proxyfix(app: Kettle, protocol: str) -> None:
    _where(app)
    if protocol == "wsgi":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)  # type: ignore[method-assign]
    else:
        app.asgi = ProxyFix(app.asgi, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    client = app.test_client(protocol=protocol)
    assert client.get("/where", headers=FORWARDED).json == {
        "remote_addr": "10.0.0.2",
        "scheme": "https",
        "host": "shop.example.com:8443",
        "url": "https://shop.example.com:8443/shop/where",
        "root": "/shop",
    }


_FIXED = {
    "remote_addr": "10.0.0.2",
    "scheme": "https",
    "host": "shop.example.com:8443",
    "url": "https://shop.example.com:8443/shop/where",
    "root": "/shop",
}


@pytest.mark.parametrize("werkzeugs", [False, True])
def test_proxyfix_on_wsgi_app_holds_under_asgi_too(
    app: Kettle, protocol: str, werkzeugs: bool
) -> None:
    # Flask's deployment docs wrap app.wsgi_app; an ASGI server never calls it, so its trust
    # is applied to the scope (Kettle's ProxyFix, or Werkzeug's as compatibility mode keeps).
    if werkzeugs:
        from werkzeug.middleware.proxy_fix import ProxyFix as Fix
    else:
        Fix = ProxyFix
    _where(app)
    app.wsgi_app = Fix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)  # type: ignore[method-assign]
    client = app.test_client(protocol=protocol)
    assert client.get("/where", headers=FORWARDED).json == _FIXED
    assert client.get("/where").json["remote_addr"] == "127.0.0.1"  # No header: nothing trusted.


def test_proxyfix_on_both_sides_is_applied_once(app: Kettle) -> None:
    # The deployment docs' way (app.wsgi_app and app.asgi wrapped): the prefix is not doubled.
    _where(app)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)  # type: ignore[method-assign]
    app.asgi = ProxyFix(app.asgi, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    client = app.test_client(protocol="asgi")
    assert client.get("/where", headers=FORWARDED).json == _FIXED


def _errors_logged(app: Kettle, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The messages ``app.logger.error`` is called with (whatever logging's configuration)."""
    logged: list[str] = []
    monkeypatch.setattr(app.logger, "error", lambda message, *args: logged.append(message % args))
    return logged


def test_other_wsgi_middleware_under_asgi_is_logged_not_skipped_silently(
    app: Kettle, monkeypatch: pytest.MonkeyPatch
) -> None:
    _where(app)
    inner = app.wsgi_app

    class Tagging:
        def __init__(self, wrapped: Any) -> None:
            self.app = wrapped

        def __call__(self, environ: Any, start_response: Any) -> Any:
            environ["HTTP_X_TAG"] = "1"
            return self.app(environ, start_response)

    app.wsgi_app = ProxyFix(Tagging(inner), x_for=1)  # type: ignore[method-assign]
    logged = _errors_logged(app, monkeypatch)
    client = app.test_client(protocol="asgi")
    assert client.get("/where", headers=FORWARDED).json["remote_addr"] == "10.0.0.2"
    assert client.get("/where").status_code == 200
    assert len(logged) == 1  # Once, naming the middleware.
    assert "Tagging" in logged[0] and "does not run under ASGI" in logged[0]


def test_proxyfix_two_proxies_and_defaults(app: Kettle, protocol: str) -> None:
    _where(app)
    if protocol == "wsgi":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=2)  # type: ignore[method-assign]
    else:
        app.asgi = ProxyFix(app.asgi, x_for=2)
    client = app.test_client(protocol=protocol)
    data = client.get("/where", headers=FORWARDED).json
    # x_host defaults to 0: the forwarded host stays untrusted.
    assert data["remote_addr"] == "203.0.113.9"
    assert data["host"] == "localhost"
    assert data["scheme"] == "https"
    # Fewer values than trusted proxies: the header is ignored.
    data = client.get("/where", headers={"X-Forwarded-For": "1.2.3.4"}).json
    assert data["remote_addr"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("a.sub.example.org", 200),
        ("sub.example.org", 200),
        ("example.com:8080", 200),
        ("evil.com", 400),
        ("example.com.evil.com", 400),
    ],
)
def test_trusted_hosts(app: Kettle, client: KettleClient, host: str, status: int) -> None:
    app.config["TRUSTED_HOSTS"] = ["example.com", ".sub.example.org"]
    called = []

    @app.get("/")
    def index() -> str:
        called.append(1)
        return "ok"

    response = client.get("/", base_url=f"http://{host}")
    assert response.status_code == status
    assert bool(called) is (status == 200)


def test_stream_body_sync_and_async(app: Kettle, client: KettleClient, protocol: str) -> None:
    @app.post("/sync", stream_body=True)
    def sync_view() -> Any:
        total = 0
        for chunk in iter(lambda: request.stream.read(1000), b""):
            total += len(chunk)
        return {"total": total}

    @app.post("/async", stream_body=True)
    async def async_view() -> Any:
        total = 0
        if protocol == "asgi":
            async for chunk in request.stream:  # type: ignore[attr-defined]
                total += len(chunk)
        else:
            total = len(request.stream.read())
        return {"total": total}

    assert client.post("/sync", data=b"x" * 5000).json == {"total": 5000}
    assert client.post("/async", data=b"x" * 5000).json == {"total": 5000}
    app.config["MAX_CONTENT_LENGTH"] = 100
    assert client.post("/sync", data=b"x" * 5000).status_code == 413
    assert client.post("/async", data=b"x" * 5000).status_code == 413


def test_asgi_disconnect_mid_body_calls_no_view(app: Kettle) -> None:
    import asyncio

    called = []

    @app.post("/")
    def index() -> str:
        called.append(1)
        return "ok"

    messages = [
        {"type": "http.request", "body": b"part", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "scheme": "http",
        "headers": [(b"host", b"localhost"), (b"content-length", b"100")],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 1),
    }
    asyncio.run(app.asgi(scope, receive, send))
    assert called == []
    assert sent == []


def test_proxyfix_on_wsgi_app_holds_for_websockets(app: Kettle) -> None:
    from kettle import websocket

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        await websocket.send_text(f"{request.remote_addr} {request.scheme} {request.host}")

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    client = app.test_client(protocol="asgi")
    with client.websocket("/ws", headers=FORWARDED) as session:
        assert session.receive_text() == "10.0.0.2 https shop.example.com"


def test_a_subclass_wsgi_app_under_asgi_is_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    class Wrapping(Kettle):
        def wsgi_app(self, environ: Any, start_response: Any) -> Any:
            environ["HTTP_X_TAG"] = "1"
            return super().wsgi_app(environ, start_response)

    app = Wrapping(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    logged = _errors_logged(app, monkeypatch)
    assert app.test_client(protocol="asgi").get("/").text == "ok"
    assert len(logged) == 1 and "Wrapping overrides wsgi_app" in logged[0]
    plain = Kettle(__name__)  # A plain app says nothing.
    plain.add_url_rule("/", "index", lambda: "ok")
    said = _errors_logged(plain, monkeypatch)
    assert plain.test_client(protocol="asgi").get("/").text == "ok"
    assert said == []
