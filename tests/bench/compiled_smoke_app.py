"""A small app run on the compiled build by test_compiled_build.py (in a child process).

It uses what the compiled modules hold (routing, query strings, hosts,
cookies, conditional requests, the WSGI adapter) through user subclasses of
Request, Response and a converter, under WSGI and ASGI, and prints one JSON
object: where each compiled module was loaded from and what each request got.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from kettle import Kettle, Request, Response, request
from kettle.routing.converters import BaseConverter


class ShoutingRequest(Request):
    """A user Request subclass: a new property and an overridden method."""

    @property
    def shout(self) -> str:
        return self.args.get("word", "").upper()

    def on_json_loading_failed(self, e: Any) -> Any:
        return {"fallback": True}


class TaggedResponse(Response):
    """A user Response subclass: another default mimetype and an overridden method."""

    default_mimetype = "text/plain"

    def set_cookie(self, key: str, value: str = "", *args: Any, **kwargs: Any) -> None:
        super().set_cookie(key, f"tagged-{value}", *args, **kwargs)


class EvenConverter(BaseConverter):
    """A user converter: even numbers only, doubled on the way in."""

    regex = r"\d*[02468]"

    def to_python(self, value: str) -> int:
        return int(value) * 2

    def to_url(self, value: Any) -> str:
        return str(int(value) // 2)


def make_app() -> Kettle:
    app = Kettle(__name__)
    app.request_class = ShoutingRequest
    app.response_class = TaggedResponse
    app.url_map.converters["even"] = EvenConverter

    @app.get("/shout")
    def shout() -> str:
        assert isinstance(request, ShoutingRequest)
        return f"{request.shout} {request.args.getlist('n')}"

    @app.get("/even/<even:number>")
    def even(number: int) -> str:
        from kettle import url_for

        return f"{number} {url_for('even', number=number)}"

    @app.post("/json")
    def json_view() -> Any:
        return request.get_json()

    @app.get("/cookie")
    def cookie() -> Any:
        response = app.make_response("set")
        response.set_cookie("flavour", "ginger")
        return response

    @app.get("/etag")
    def etag() -> Any:
        response = app.make_response("cached body")
        response.set_etag("v1")
        return response.make_conditional(request)

    return app


def make_session_app() -> Kettle:
    """The signed session, with ``request.cookies`` built before the session opens."""
    from kettle import session

    app = Kettle(__name__)
    app.secret_key = "compiled smoke test"

    @app.get("/login")
    def login() -> str:
        session["user"] = "ada"
        return "in"

    @app.get("/whoami")
    def whoami() -> str:
        other = request.cookies.get("other", "-")
        return f"{session.get('user', 'nobody')} {other}"

    return app


def session_exchange(protocol: str) -> list[Any]:
    client = make_session_app().test_client(protocol=protocol)
    login = client.get("/login")
    client.set_cookie("other", "x")
    whoami = client.get("/whoami")
    return [login.status_code, whoami.status_code, whoami.get_data(as_text=True)]


def exchange(app: Kettle, protocol: str) -> dict[str, Any]:
    client = app.test_client(protocol=protocol)
    answers = {}
    requests = {
        "shout": lambda: client.get("/shout?word=kettle&n=1&n=2"),
        "even": lambda: client.get("/even/42"),
        "odd": lambda: client.get("/even/41"),
        "json": lambda: client.post("/json", data=b"{not json", content_type="application/json"),
        "cookie": lambda: client.get("/cookie"),
        "etag": lambda: client.get("/etag", headers={"If-None-Match": '"v1"'}),
        "missing": lambda: client.get("/nowhere"),
    }
    for name, send in requests.items():
        response = send()
        answers[name] = {
            "status": response.status_code, "body": response.get_data(as_text=True),
            "content_type": response.headers.get("Content-Type"),
            "set_cookie": response.headers.get("Set-Cookie"),
        }
    return answers


def main() -> None:
    loaded = {name: importlib.import_module(name).__file__ for name in sys.argv[1:]}
    app = make_app()
    answers = {"wsgi": exchange(app, "wsgi"), "asgi": exchange(app, "asgi")}
    sessions = {protocol: session_exchange(protocol) for protocol in ("wsgi", "asgi")}
    print(json.dumps({"loaded": loaded, **answers, "sessions": sessions}))


if __name__ == "__main__":
    main()
