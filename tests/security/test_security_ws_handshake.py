"""WebSocket handshakes go through the HTTP pipeline's host check, match, Origin check and hooks.

Two in-process drivers: the test client (``client.websocket``), whose server
offers no ``websocket.http.response`` extension, so a refusal is a close
before accept (a server answers it with 403), and a raw ASGI driver that
offers the extension, so a refusal carries the status HTTP would get.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgi_scopes import asgi_scope

from kettle import Blueprint, Kettle, abort, g, request, websocket
from kettle.websocket import WebSocketDisconnect, check_origin


def handshake(
    app: Kettle,
    path: str = "/ws",
    host: str = "localhost",
    origin: str | None = None,
    scheme: str = "ws",
    extension: bool = True,
) -> list[dict[str, Any]]:
    """Open one WebSocket through ``app.asgi``; return every message the app sent."""
    headers = [(b"host", host.encode("latin-1"))]
    if origin is not None:
        headers.append((b"origin", origin.encode("latin-1")))
    scope = asgi_scope(
        "websocket",
        path,
        headers,
        scheme,
        subprotocols=[],
        extensions={"websocket.http.response": {}} if extension else {},
    )
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        inbox.put_nowait({"type": "websocket.connect"})

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "websocket.send":
                inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})

        await asyncio.wait_for(app.asgi(scope, inbox.get, send), 5)

    asyncio.run(run())
    return sent


def status_of(sent: list[dict[str, Any]]) -> int:
    """101 for an accepted handshake, else the refusal's HTTP status (403 for a bare close)."""
    first = sent[0]
    if first["type"] == "websocket.accept":
        return 101
    if first["type"] == "websocket.close":
        return 403  # ASGI: a close before accept is answered with 403 by the server.
    assert first["type"] == "websocket.http.response.start"
    return int(first["status"])


@pytest.fixture
def ws_app(app: Kettle) -> Kettle:
    @app.websocket("/ws")
    async def echo() -> None:
        await websocket.accept()
        await websocket.send_text(f"hello {request.host}")
        async for _ in websocket:
            pass

    return app


def test_untrusted_host_is_refused_like_http(ws_app: Kettle) -> None:
    ws_app.config["TRUSTED_HOSTS"] = ["good.test", ".corp.test"]
    refused = handshake(ws_app, host="evil.test")
    assert status_of(refused) == 400
    assert b"not trusted" in refused[1]["body"]
    assert ws_app.test_client().get("/", headers={"Host": "evil.test"}).status_code == 400
    assert status_of(handshake(ws_app, host="good.test")) == 101
    assert status_of(handshake(ws_app, host="a.corp.test")) == 101
    assert handshake(ws_app, host="a.corp.test")[1] == {
        "type": "websocket.send",
        "text": "hello a.corp.test",
    }
    # Without the extension the handshake is closed before accept (a 403).
    assert handshake(ws_app, host="evil.test", extension=False)[0]["type"] == "websocket.close"
    client = ws_app.test_client()
    with pytest.raises(WebSocketDisconnect), client.websocket("/ws", headers={"Host": "evil.test"}):
        pass
    with client.websocket("/ws", headers={"Host": "good.test"}) as ws:
        assert ws.receive_text() == "hello good.test"


def test_unknown_path_and_http_route_are_refused(ws_app: Kettle) -> None:
    @ws_app.route("/page")
    def page() -> str:
        return "page"

    assert status_of(handshake(ws_app, path="/nowhere")) == 404
    assert status_of(handshake(ws_app, path="/page")) == 400  # An HTTP route: no upgrade.


def test_subdomain_routed_websocket_rules_match() -> None:
    app = Kettle("subs", subdomain_matching=True)
    app.config.update(SERVER_NAME="example.test", TESTING=True)

    @app.websocket("/ws", subdomain="chat")
    async def chat() -> None:
        await websocket.accept()
        await websocket.send_text("chat")

    @app.websocket("/ws")
    async def main() -> None:
        await websocket.accept()
        await websocket.send_text("main")

    @app.websocket("/<user>/ws", subdomain="<team>")
    async def team(team: str, user: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"{team}/{user}")

    assert handshake(app, host="chat.example.test")[1]["text"] == "chat"
    assert handshake(app, host="example.test")[1]["text"] == "main"
    assert handshake(app, host="red.example.test", path="/ann/ws")[1]["text"] == "red/ann"
    assert status_of(handshake(app, host="example.test", path="/ann/ws")) == 404
    client = app.test_client()
    with client.websocket("/ws", base_url="http://chat.example.test") as ws:
        assert ws.receive_text() == "chat"


def test_strict_slash_redirect_is_the_refusal(app: Kettle) -> None:
    @app.websocket("/room/")
    async def room() -> None:
        await websocket.accept()

    sent = handshake(app, path="/room")
    assert status_of(sent) == 308
    assert dict(sent[0]["headers"])[b"location"].endswith(b"/room/")
    assert status_of(handshake(app, path="/room/")) == 101


def test_hooks_run_for_handshakes_in_documented_order(app: Kettle) -> None:
    log: list[str] = []
    bp = Blueprint("rooms", __name__, url_prefix="/rooms/<room>")

    @bp.url_value_preprocessor
    def pull_room(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.room = (values or {}).pop("room")
        log.append("url_value_preprocessor")

    @app.before_request
    def app_before() -> None:
        g.user = "ann"
        log.append("before_request")

    @bp.before_request
    async def bp_before() -> None:
        log.append("blueprint before_request")

    @app.before_websocket
    def before_ws() -> None:
        log.append("before_websocket")

    async def room_ws() -> None:
        log.append("handler")
        await websocket.accept()
        await websocket.send_text(f"{g.user} in {g.room}")
        async for _ in websocket:
            pass

    bp.add_url_rule("/ws", view_func=room_ws, websocket=True)

    @app.after_websocket
    def after_ws() -> None:
        log.append("after_websocket")

    @app.after_request
    def after_request(response: Any) -> Any:
        log.append("after_request")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        log.append("teardown_request")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        log.append("teardown_appcontext")

    app.register_blueprint(bp)
    sent = handshake(app, path="/rooms/tea/ws")
    assert sent[1] == {"type": "websocket.send", "text": "ann in tea"}
    assert log == [
        "url_value_preprocessor",
        "before_request",
        "blueprint before_request",
        "before_websocket",
        "handler",
        "after_websocket",
        "teardown_request",
        "teardown_appcontext",
    ]


def test_before_request_can_refuse_a_handshake(ws_app: Kettle) -> None:
    @ws_app.before_request
    def login_required() -> Any:
        if request.headers.get("Authorization") is None:
            return "log in first", 401
        return None

    sent = handshake(ws_app)
    assert status_of(sent) == 401
    assert sent[1]["body"] == b"log in first"
    client = ws_app.test_client()
    with pytest.raises(WebSocketDisconnect), client.websocket("/ws"):
        pass
    with client.websocket("/ws", headers={"Authorization": "Bearer x"}) as ws:
        assert ws.receive_text() == "hello localhost"


def test_foreign_origin_refused_own_and_missing_accepted(ws_app: Kettle) -> None:
    assert status_of(handshake(ws_app, origin="https://evil.test")) == 403
    assert status_of(handshake(ws_app, origin="http://localhost.evil.test")) == 403
    assert status_of(handshake(ws_app, origin="null")) == 403
    assert status_of(handshake(ws_app, origin="http://localhost:8080")) == 403  # Another port.
    assert status_of(handshake(ws_app, origin="https://localhost")) == 403  # Another scheme.
    assert status_of(handshake(ws_app, origin="http://localhost")) == 101
    assert status_of(handshake(ws_app, origin="http://LOCALHOST:80")) == 101
    assert status_of(handshake(ws_app, origin="https://localhost", scheme="wss")) == 101
    # No Origin: not a browser (browsers always send it), so no cross-site page.
    assert status_of(handshake(ws_app, origin=None)) == 101
    client = ws_app.test_client()
    with pytest.raises(WebSocketDisconnect), client.websocket(
        "/ws", headers={"Origin": "https://evil.test"}
    ):
        pass
    with client.websocket("/ws") as ws:
        assert ws.receive_text() == "hello localhost"


def test_allowed_origins_config(ws_app: Kettle) -> None:
    ws_app.config["WEBSOCKET_ALLOWED_ORIGINS"] = ["https://app.test", "https://*.corp.test"]
    assert status_of(handshake(ws_app, origin="https://app.test")) == 101
    assert status_of(handshake(ws_app, origin="https://a.corp.test")) == 101
    assert status_of(handshake(ws_app, origin="http://a.corp.test")) == 403
    assert status_of(handshake(ws_app, origin="https://corp.test.evil.test")) == 403
    assert status_of(handshake(ws_app, origin="https://evil.test")) == 403
    ws_app.config["WEBSOCKET_ALLOWED_ORIGINS"] = ["*"]
    assert status_of(handshake(ws_app, origin="https://evil.test")) == 101


def test_check_origin_in_a_handler(app: Kettle) -> None:
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = ["*"]

    @app.websocket("/strict")
    async def strict() -> None:
        if not check_origin(["https://app.test"], allow_missing=False):
            await websocket.close(1008)
            return
        await websocket.accept()
        await websocket.send_text("in")

    assert handshake(app, path="/strict")[0]["type"] == "websocket.close"
    assert handshake(app, path="/strict", origin="https://app.test")[1]["text"] == "in"
    assert handshake(app, path="/strict", origin="https://evil.test")[0]["type"] == (
        "websocket.close"
    )


def test_handler_error_before_accept_is_a_500_refusal(app: Kettle) -> None:
    log: list[Any] = []

    @app.websocket("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        log.append(type(exc).__name__)

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert status_of(handshake(app, path="/boom")) == 500
    assert log == ["RuntimeError"]


def test_abort_in_a_hook_or_before_accept_refuses_with_its_status(ws_app: Kettle) -> None:
    @ws_app.before_websocket
    def members_only() -> None:
        if request.headers.get("Authorization") is None:
            abort(401)

    @ws_app.websocket("/closed")
    async def closed() -> None:
        abort(404)

    assert status_of(handshake(ws_app)) == 401
    assert status_of(handshake(ws_app, path="/closed")) == 401
    ws_app.before_websocket_funcs.clear()
    assert status_of(handshake(ws_app, path="/closed")) == 404
