"""The same small apps written for each framework the benchmark compares.

Every builder takes a scenario name and the number of filler routes and
returns ``(protocol, app)``; it raises ``Pending`` for a scenario the
framework cannot run (no built-in signed session, no async views, ...).
Each view does the same work everywhere: read what the scenario sends,
answer with the same body.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

HELLO = "Hello, World!"
JSON_DOC = {"message": HELLO, "items": [1, 2, 3], "ok": True}
SECRET = "benchmark secret key"


class Pending(Exception):
    """The framework cannot run this scenario (yet)."""


def filler(count: int) -> list[tuple[str, int]]:
    """Return ``count`` filler routes as (kind, index): half dynamic, half static."""
    return [("dynamic" if i % 2 else "static", i) for i in range(count)]


# -- Flask and Kettle share the Flask API ---------------------------------------
def flask_like(module: Any, scenario: str, routes: int, name: str) -> Any:
    """Build the scenario app with Flask's API from ``module`` (flask or kettle)."""
    cls = getattr(module, "Kettle", None) or module.Flask
    request, session = module.request, module.session
    app = cls(name)
    app.config["SECRET_KEY"] = SECRET

    def add_fillers(rules: list[tuple[str, int]]) -> None:
        for kind, i in rules:
            if kind == "dynamic":
                rule = f"/api{i}/<int:id>/items/<slug>"
                app.add_url_rule(rule, f"f{i}", lambda id, slug, i=i: f"{i} {id} {slug}")
            else:
                app.add_url_rule(f"/page{i}", f"f{i}", lambda i=i: f"page {i}")

    fillers = filler(routes - 1)
    half = len(fillers) // 2
    add_fillers(fillers[:half])
    if scenario == "hello":
        app.add_url_rule("/hello", "hello", lambda: HELLO)
    elif scenario in ("param", "notfound"):
        app.add_url_rule(
            "/users/<int:id>/posts/<slug>", "post", lambda id, slug: f"user {id} post {slug}"
        )
    elif scenario == "query":

        def search() -> str:
            return ",".join(request.args.getlist("tag")) + " " + request.args.get("page", "")

        app.add_url_rule("/search", "search", search)
    elif scenario == "json":
        app.add_url_rule("/json", "json", lambda: dict(JSON_DOC))
    elif scenario == "form":

        def form() -> str:
            values = request.form
            return "".join(values[f"f{i}"] for i in range(10))

        app.add_url_rule("/form", "form", form, methods=["POST"])
    elif scenario == "upload":

        def upload() -> str:
            data = request.files["file"].read()
            return f"{len(data)} {request.form['title']} {request.form['tags']}"

        app.add_url_rule("/upload", "upload", upload, methods=["POST"])
    elif scenario == "cookie_session":

        def counter() -> str:
            count = session.get("n", 0)
            session["n"] = count + 1
            return str(count)

        app.add_url_rule("/session", "session", counter)
    elif scenario == "async_hello":

        async def async_hello() -> str:
            return HELLO

        app.add_url_rule("/async", "async_hello", async_hello)
    else:
        raise Pending(scenario)
    add_fillers(fillers[half:])
    return app


def kettle_wsgi(scenario: str, routes: int) -> tuple[str, Any]:
    import kettle

    return "wsgi", flask_like(kettle, scenario, routes, "bench_kettle")


def _asyncify_views(app: Any) -> Any:
    """Make every view of a Flask-API app an ``async def`` (the native ASGI style)."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        async def async_view(**kwargs: Any) -> Any:
            return view(**kwargs)

        return async_view

    for endpoint, view in list(app.view_functions.items()):
        if not inspect.iscoroutinefunction(view):
            app.view_functions[endpoint] = wrap(view)
    return app


def kettle_asgi(scenario: str, routes: int) -> tuple[str, Any]:
    """Kettle under ASGI with async views, as Starlette and falcon.asgi are measured."""
    import kettle

    return "asgi", _asyncify_views(flask_like(kettle, scenario, routes, "bench_kettle")).asgi


def kettle_asgi_sync(scenario: str, routes: int) -> tuple[str, Any]:
    """Kettle under ASGI with Flask-style sync views: one hop to the thread pool each."""
    import kettle

    return "asgi", flask_like(kettle, scenario, routes, "bench_kettle").asgi


def kettle_asgi_inline(scenario: str, routes: int) -> tuple[str, Any]:
    """Kettle under ASGI with the same sync views, opted into the loop (ASGI_INLINE_SYNC_VIEWS)."""
    import kettle

    app = flask_like(kettle, scenario, routes, "bench_kettle")
    app.config["ASGI_INLINE_SYNC_VIEWS"] = True
    return "asgi", app.asgi


def flask(scenario: str, routes: int) -> tuple[str, Any]:
    import flask as flask_module

    return "wsgi", flask_like(flask_module, scenario, routes, "bench_flask")


# -- Quart: Flask's API on ASGI, async only --------------------------------------
def quart(scenario: str, routes: int) -> tuple[str, Any]:
    if scenario != "async_hello":
        raise Pending("only async_hello is measured for Quart")
    from quart import Quart

    app = Quart("bench_quart")
    for kind, i in filler(routes - 1):
        if kind == "dynamic":

            async def dynamic(id: int, slug: str, i: int = i) -> str:
                return f"{i} {id} {slug}"

            app.add_url_rule(f"/api{i}/<int:id>/items/<slug>", f"f{i}", dynamic)
        else:

            async def static(i: int = i) -> str:
                return f"page {i}"

            app.add_url_rule(f"/page{i}", f"f{i}", static)

    async def async_hello() -> str:
        return HELLO

    app.add_url_rule("/async", "async_hello", async_hello)
    return "asgi", app


# -- Falcon -----------------------------------------------------------------------
def _falcon_resources(asgi: bool) -> dict[str, Any]:
    """Resource classes for Falcon, sync or async responders."""
    import falcon

    class Hello:
        def on_get(self, req: Any, resp: Any) -> None:
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = HELLO

    class Post:
        def on_get(self, req: Any, resp: Any, id: int, slug: str) -> None:
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = f"user {id} post {slug}"

    class Search:
        def on_get(self, req: Any, resp: Any) -> None:
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = ",".join(req.get_param_as_list("tag") or []) + " " + req.get_param("page", default="")

    class Json:
        def on_get(self, req: Any, resp: Any) -> None:
            resp.media = dict(JSON_DOC)

    class Form:
        def on_post(self, req: Any, resp: Any) -> None:
            values = req.get_media()
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = "".join(values[f"f{i}"] for i in range(10))

    class Upload:
        def on_post(self, req: Any, resp: Any) -> None:
            fields: dict[str, Any] = {}
            for part in req.get_media():
                fields[part.name] = part.stream.read() if part.filename else part.text
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = f"{len(fields['file'])} {fields['title']} {fields['tags']}"

    class Filler:
        def __init__(self, i: int) -> None:
            self.i = i

        def on_get(self, req: Any, resp: Any, id: int = 0, slug: str = "") -> None:
            resp.text = f"{self.i} {id} {slug}"

    classes: dict[str, Any] = {
        "hello": Hello, "post": Post, "search": Search, "json": Json, "form": Form,
        "upload": Upload, "filler": Filler,
    }
    if asgi:
        for key, cls in list(classes.items()):
            classes[key] = _asyncify(cls)
    return classes


def _asyncify(cls: type) -> type:
    """Wrap each ``on_*`` responder of ``cls`` in an ``async def`` (for falcon.asgi)."""
    namespace: dict[str, Any] = {}
    for attr in dir(cls):
        if attr.startswith("on_"):
            sync = getattr(cls, attr)

            async def responder(self: Any, req: Any, resp: Any, _sync: Any = sync, **kw: Any) -> None:
                _sync(self, req, resp, **kw)

            namespace[attr] = responder
    return type(f"Async{cls.__name__}", (cls,), namespace)


def _falcon(scenario: str, routes: int, asgi: bool) -> Any:
    import falcon
    import falcon.asgi

    if scenario == "cookie_session":
        raise Pending("Falcon has no built-in signed session")
    if asgi and scenario in ("form", "upload"):
        raise Pending("not measured for falcon.asgi")
    res = _falcon_resources(asgi)
    app = falcon.asgi.App() if asgi else falcon.App()
    fillers = filler(routes - 1)
    half = len(fillers) // 2

    def add(rules: list[tuple[str, int]]) -> None:
        for kind, i in rules:
            if kind == "dynamic":
                app.add_route(f"/api{i}/{{id:int}}/items/{{slug}}", res["filler"](i))
            else:
                app.add_route(f"/page{i}", res["filler"](i))

    add(fillers[:half])
    target = {
        "hello": ("/hello", "hello"), "async_hello": ("/async", "hello"),
        "param": ("/users/{id:int}/posts/{slug}", "post"),
        "notfound": ("/users/{id:int}/posts/{slug}", "post"),
        "query": ("/search", "search"), "json": ("/json", "json"),
        "form": ("/form", "form"), "upload": ("/upload", "upload"),
    }[scenario]
    app.add_route(target[0], res[target[1]]())
    add(fillers[half:])
    return app


def falcon_wsgi(scenario: str, routes: int) -> tuple[str, Any]:
    if scenario == "async_hello":
        raise Pending("falcon.App has no async responders")
    return "wsgi", _falcon(scenario, routes, asgi=False)


def falcon_asgi(scenario: str, routes: int) -> tuple[str, Any]:
    return "asgi", _falcon(scenario, routes, asgi=True)


# -- Starlette ---------------------------------------------------------------------
def starlette(scenario: str, routes: int) -> tuple[str, Any]:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    async def hello(request: Any) -> Any:
        return HTMLResponse(HELLO)

    async def post(request: Any) -> Any:
        params = request.path_params
        return HTMLResponse(f"user {params['id']} post {params['slug']}")

    async def search(request: Any) -> Any:
        query = request.query_params
        return HTMLResponse(",".join(query.getlist("tag")) + " " + query.get("page", ""))

    async def json_view(request: Any) -> Any:
        return JSONResponse(dict(JSON_DOC))

    async def form(request: Any) -> Any:
        values = await request.form()
        return HTMLResponse("".join(values[f"f{i}"] for i in range(10)))

    async def upload(request: Any) -> Any:
        values = await request.form()
        data = await values["file"].read()
        return HTMLResponse(f"{len(data)} {values['title']} {values['tags']}")

    async def counter(request: Any) -> Any:
        count = request.session.get("n", 0)
        request.session["n"] = count + 1
        return HTMLResponse(str(count))

    def make_filler(i: int) -> Any:
        async def endpoint(request: Any) -> Any:
            return HTMLResponse(f"{i} {request.path_params}")

        return endpoint

    target = {
        "hello": ("/hello", hello, "GET"), "async_hello": ("/async", hello, "GET"),
        "param": ("/users/{id:int}/posts/{slug}", post, "GET"),
        "notfound": ("/users/{id:int}/posts/{slug}", post, "GET"),
        "query": ("/search", search, "GET"), "json": ("/json", json_view, "GET"),
        "form": ("/form", form, "POST"), "upload": ("/upload", upload, "POST"),
        "cookie_session": ("/session", counter, "GET"),
    }[scenario]
    table = []
    for kind, i in filler(routes - 1):
        path = f"/api{i}/{{id:int}}/items/{{slug}}" if kind == "dynamic" else f"/page{i}"
        table.append(Route(path, make_filler(i)))
    table.insert(len(table) // 2, Route(target[0], target[1], methods=[target[2]]))
    middleware = [Middleware(SessionMiddleware, secret_key=SECRET)] if scenario == "cookie_session" else []
    return "asgi", Starlette(routes=table, middleware=middleware)


# -- Bottle --------------------------------------------------------------------------
def bottle(scenario: str, routes: int) -> tuple[str, Any]:
    import bottle as bottle_module

    if scenario == "async_hello":
        raise Pending("Bottle has no async views")
    if scenario == "cookie_session":
        raise Pending("Bottle's signed cookies use pickle; no session to compare")
    # Bottle keeps bodies up to MEMFILE_MAX (100 KiB) in memory and refuses
    # larger multipart ones outright; raise it so the 100 KiB upload runs.
    bottle_module.BaseRequest.MEMFILE_MAX = 4 * 1024 * 1024
    app = bottle_module.Bottle()
    request = bottle_module.request

    def add(rules: list[tuple[str, int]]) -> None:
        for kind, i in rules:
            if kind == "dynamic":
                app.route(f"/api{i}/<id:int>/items/<slug>", callback=lambda id, slug, i=i: f"{i} {id} {slug}")
            else:
                app.route(f"/page{i}", callback=lambda i=i: f"page {i}")

    def search() -> str:
        return ",".join(request.query.getall("tag")) + " " + request.query.get("page", "")

    def form() -> str:
        return "".join(request.forms.get(f"f{i}") for i in range(10))

    def upload() -> str:
        data = request.files.get("file").file.read()
        return f"{len(data)} {request.forms.get('title')} {request.forms.get('tags')}"

    target = {
        "hello": ("/hello", lambda: HELLO, "GET"),
        "param": ("/users/<id:int>/posts/<slug>", lambda id, slug: f"user {id} post {slug}", "GET"),
        "notfound": ("/users/<id:int>/posts/<slug>", lambda id, slug: f"user {id} post {slug}", "GET"),
        "query": ("/search", search, "GET"), "json": ("/json", lambda: dict(JSON_DOC), "GET"),
        "form": ("/form", form, "POST"), "upload": ("/upload", upload, "POST"),
    }[scenario]
    fillers = filler(routes - 1)
    half = len(fillers) // 2
    add(fillers[:half])
    app.route(target[0], method=target[2], callback=target[1])
    add(fillers[half:])
    return "wsgi", app


# -- Bare apps: the floor, no framework at all -----------------------------------------
_POST_RE = re.compile(r"^/users/(\d+)/posts/([^/]+)$")


def _bare_handle(scenario: str, path: str, query: str, body: bytes) -> tuple[str, bytes, str]:
    """The work a hand-written app does: route by hand, parse with the stdlib."""
    if scenario in ("hello", "async_hello") and path in ("/hello", "/async"):
        return "200 OK", HELLO.encode(), "text/html; charset=utf-8"
    if scenario in ("param", "notfound"):
        match = _POST_RE.match(path)
        if match:
            return "200 OK", f"user {int(match[1])} post {match[2]}".encode(), "text/html; charset=utf-8"
    elif scenario == "query" and path == "/search":
        values = parse_qs(query, keep_blank_values=True)
        text = ",".join(values.get("tag", [])) + " " + values.get("page", [""])[0]
        return "200 OK", text.encode(), "text/html; charset=utf-8"
    elif scenario == "json" and path == "/json":
        return "200 OK", json.dumps(JSON_DOC).encode(), "application/json"
    elif scenario == "form" and path == "/form":
        values = parse_qs(body.decode(), keep_blank_values=True)
        return "200 OK", "".join(values[f"f{i}"][0] for i in range(10)).encode(), "text/html; charset=utf-8"
    elif scenario in ("upload", "cookie_session"):
        raise Pending("no bare equivalent")
    return "404 NOT FOUND", b"Not Found", "text/plain"


def bare_wsgi(scenario: str, routes: int) -> tuple[str, Any]:
    if scenario == "async_hello":
        raise Pending("WSGI has no async")
    _bare_handle(scenario, "/", "", b"")  # Raises Pending early.

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = b""
        length = environ.get("CONTENT_LENGTH")
        if length:
            body = environ["wsgi.input"].read(int(length))
        status, data, content_type = _bare_handle(
            scenario, environ["PATH_INFO"], environ.get("QUERY_STRING", ""), body
        )
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
        return [data]

    return "wsgi", app


def bare_asgi(scenario: str, routes: int) -> tuple[str, Any]:
    _bare_handle(scenario, "/", "", b"")

    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, data, content_type = _bare_handle(
            scenario, scope["path"], scope["query_string"].decode("latin-1"), body
        )
        await send({
            "type": "http.response.start",
            "status": int(status[:3]),
            "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(data)).encode())],
        })
        await send({"type": "http.response.body", "body": data})

    return "asgi", app


#: name -> builder, in table order.
FRAMEWORKS: dict[str, Callable[[str, int], tuple[str, Any]]] = {
    "kettle-wsgi": kettle_wsgi,
    "kettle-asgi": kettle_asgi,
    "kettle-asgi-sync": kettle_asgi_sync,
    "kettle-asgi-inline": kettle_asgi_inline,
    "flask": flask,
    "falcon": falcon_wsgi,
    "falcon-asgi": falcon_asgi,
    "bottle": bottle,
    "starlette": starlette,
    "quart": quart,
    "bare-wsgi": bare_wsgi,
    "bare-asgi": bare_asgi,
}
