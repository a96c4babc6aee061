"""Messages a newcomer meets: a missing template, a WebSocket route under WSGI."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

from kettle import Blueprint, Kettle, render_template

HANDSHAKE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def test_template_not_found_names_the_folders_searched(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    app = Kettle("messages_test", root_path=str(tmp_path))
    app.register_blueprint(Blueprint("shop", "messages_test", template_folder="shop_templates",
                                     root_path=str(tmp_path)))
    with app.app_context(), pytest.raises(TemplateNotFound) as caught:
        render_template("missing.html")
    assert caught.value.name == "missing.html"  # As Flask: the name, for code that reads it.
    message = str(caught.value)
    assert "'missing.html' was not found in:" in message
    assert str(tmp_path / "templates") in message
    assert str(tmp_path / "shop_templates") in message


def test_template_not_found_without_any_folder(tmp_path: Path) -> None:
    app = Kettle("messages_test", root_path=str(tmp_path), template_folder=None)
    with app.app_context(), pytest.raises(TemplateNotFound, match="no template folder"):
        render_template("page.html")


def test_websocket_route_under_wsgi_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    app = Kettle("messages_test")

    @app.websocket("/ws")
    async def socket() -> None:
        pass

    client = app.test_client()  # WSGI
    with caplog.at_level("WARNING", logger="messages_test"):
        for _ in range(3):
            assert client.get("/ws", headers=HANDSHAKE).status_code == 426
        assert client.get("/ws").status_code == 426  # Plain HTTP: nothing to explain.
    lines = [r.getMessage() for r in caplog.records if "WebSocket needs ASGI" in r.getMessage()]
    assert len(lines) == 1
    assert "/ws" in lines[0] and "uvicorn" in lines[0]


def test_websocket_route_as_plain_http_under_asgi_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Kettle("messages_test")

    @app.websocket("/ws")
    async def socket() -> None:
        pass

    with caplog.at_level("WARNING", logger="messages_test"):
        assert app.test_client(protocol="asgi").get("/ws").status_code == 426
    assert not [r for r in caplog.records if "WebSocket needs ASGI" in r.getMessage()]
