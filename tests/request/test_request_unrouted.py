"""The 404s nothing observes, remembered by path (``kettle.unrouted``, session 11), WSGI and ASGI.

A plain 404 answered by its page is remembered by the adapter and the next
request for the same path, Host and method is answered before a request is
built. What may change the answer is seen by the next request: a hook,
handler or receiver added since (also straight into a registry), a rule, the
config (TRUSTED_HOSTS too, changed in place), a Cookie, the test client
keeping the context. 405s, redirects and bad Hosts are never remembered, and
the memo stays bounded. Each test drives the app through raw WSGI/ASGI calls
or the test client, and looks at the memo only to know that it answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from kettle import Kettle, request, session, signals
from kettle.adapters import asgi as asgi_adapter
from kettle.adapters import wsgi
from kettle.http.exceptions import NotFound
from kettle.routing import BaseConverter, Rule
from kettle.signals import request_finished, request_started
from kettle.testing import KettleClient
from kettle.unrouted import LIMIT, LONGEST
from kettle.wrappers import Request
from raw_asgi import asgi_scope
from raw_wsgi import wsgi_environ

#: The signals whose receivers observe a 404 (``lifecycle_plan.lifecycle_unobserved``).
_SIGNALS = [
    signals.request_started,
    signals.request_finished,
    signals.request_tearing_down,
    signals.appcontext_pushed,
    signals.appcontext_popped,
    signals.appcontext_tearing_down,
    signals.got_request_exception,
]
#: What one raw request answered: status, the header pairs in order, the body.
Answer = tuple[str, list[tuple[str, str]], bytes]


def _wsgi(app: Kettle, path: str, method: str = "GET", **extra: str) -> Answer:
    environ = wsgi_environ(path, method, **extra)
    seen: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.append((status, list(headers)))
        headers.append(("X-Server", "added"))  # A server may add to the list it is given.

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return seen[0][0], seen[0][1], data


def _asgi(
    app: Kettle,
    path: str,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    root_path: str = "",
) -> Answer:
    scope = asgi_scope(
        path,
        method,
        headers=[(b"host", b"localhost")] if headers is None else headers,
        root_path=root_path,
    )
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.start":
            message["headers"].append((b"x-server", b"added"))  # (As above.)

    asyncio.run(app.asgi(scope, receive, send))
    start, body = messages
    assert body["type"] == "http.response.body" and not body.get("more_body", False)
    pairs = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start["headers"][:-1]]
    return str(start["status"]), pairs, body["body"]


@pytest.fixture(autouse=True)
def _no_receivers_left(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide receivers another test left connected: any of them makes every 404 observed."""
    for signal in _SIGNALS:
        monkeypatch.setattr(signal, "receivers", {})


def _raw(protocol: str) -> Callable[..., Answer]:
    return _wsgi if protocol == "wsgi" else _asgi


def _remembered(app: Kettle, protocol: str, path: str) -> bool:
    """Whether the adapter of ``protocol`` keeps an entry for ``path`` made for ``app``."""
    memo: dict[Any, Any] = wsgi._UNROUTED if protocol == "wsgi" else app.asgi._unrouted  # type: ignore[attr-defined]
    entry = memo.get(path)
    return entry is not None and entry[2] is app.url_map.plain_static


def _app() -> Kettle:
    app = Kettle(__name__)

    @app.get("/users/<int:id>/posts/<slug>")
    def post(id: int, slug: str) -> str:
        return f"user {id} post {slug}"

    @app.post("/only-post")
    def only_post() -> str:
        return "posted"

    @app.get("/dir/")
    def directory() -> str:
        return "dir"

    return app


def test_a_remembered_404_is_byte_identical_to_the_lifecycles(
    protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, raw = _app(), _raw(protocol)
    first = raw(app, "/users/x/nothing/here")
    assert not _remembered(app, protocol, "/users/x/nothing/here")  # Noted: kept next time.
    assert raw(app, "/users/x/nothing/here") == first
    assert _remembered(app, protocol, "/users/x/nothing/here")
    built: list[object] = []
    module: Any = wsgi if protocol == "wsgi" else asgi_adapter
    name = "_build_request" if protocol == "wsgi" else "_scope_request"  # (What they call.)
    original = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *args: built.append(args) or original(*args))
    again = raw(app, "/users/x/nothing/here")
    assert built == []  # Answered from the memo: no request was built.
    assert again == first
    assert raw(app, "/users/x/nothing/here") == first  # (The header list was a new one.)
    status, headers, body = first
    assert status.startswith("404")
    assert headers == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    assert b"<title>404 Not Found</title>" in body
    # The same page as a fresh app's, whose lifecycle answers it in full.
    assert _raw(protocol)(_app(), "/users/x/nothing/here") == first


def test_head_is_remembered_on_its_own(protocol: str) -> None:
    app, raw = _app(), _raw(protocol)
    get = raw(app, "/favicon.ico")
    head = raw(app, "/favicon.ico", "HEAD")
    assert raw(app, "/favicon.ico", "HEAD") == head
    assert _remembered(app, protocol, "/favicon.ico")
    assert raw(app, "/favicon.ico", "HEAD") == head
    assert head[0] == get[0] and head[1] == get[1] and head[2] == b""
    assert raw(app, "/favicon.ico") == get


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [("/only-post", "GET", "405"), ("/dir", "GET", "308"), ("/users/1/posts/a", "GET", "200")],
)
def test_405_redirects_and_hits_are_never_remembered(
    protocol: str, path: str, method: str, status: str
) -> None:
    app, raw = _app(), _raw(protocol)
    first = raw(app, path, method)
    assert first[0].startswith(status)
    assert raw(app, path, method) == first
    assert raw(app, path, method) == first
    assert not _remembered(app, protocol, path)
    if status == "405":
        assert ("Allow", "OPTIONS, POST") in first[1]


def test_a_bad_or_untrusted_host_is_refused_after_the_path_was_remembered() -> None:
    app = _app()
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    assert _wsgi(app, "/robots.txt")[0].startswith("404")
    assert _wsgi(app, "/robots.txt")[0].startswith("404")
    assert _remembered(app, "wsgi", "/robots.txt")
    assert _wsgi(app, "/robots.txt", HTTP_HOST="evil.test")[0].startswith("400")
    assert _wsgi(app, "/robots.txt", HTTP_HOST="bad host")[0].startswith("400")
    assert _asgi(app, "/robots.txt")[0] == "404"
    assert _asgi(app, "/robots.txt")[0] == "404"
    assert _remembered(app, "asgi", "/robots.txt")
    assert _asgi(app, "/robots.txt", headers=[(b"host", b"evil.test")])[0] == "400"
    assert _asgi(app, "/robots.txt", headers=[(b"host", b"bad host")])[0] == "400"
    two_hosts = [(b"host", b"localhost"), (b"host", b"localhost")]
    assert _asgi(app, "/robots.txt", headers=two_hosts)[0] == "400"
    # The list changed in place (the config's version does not change): read again.
    app.config["TRUSTED_HOSTS"].remove("localhost")
    app.config["TRUSTED_HOSTS"].append("example.com")
    assert _wsgi(app, "/robots.txt")[0].startswith("400")
    assert _asgi(app, "/robots.txt")[0] == "400"


def test_trusted_hosts_set_after_the_path_was_remembered(protocol: str) -> None:
    app, raw = _app(), _raw(protocol)
    assert raw(app, "/.env")[0].startswith("404")
    assert raw(app, "/.env")[0].startswith("404")
    assert _remembered(app, protocol, "/.env")
    app.config["TRUSTED_HOSTS"] = ["example.com"]
    assert raw(app, "/.env")[0].startswith("400")


# Added straight into the registries, as extensions do (the decorators refuse to
# add anything once the app has served a request, as Flask's).
def _before_request(app: Kettle, seen: list[str]) -> None:
    app.before_request_funcs.setdefault(None, []).append(lambda: seen.append("before"))


def _url_value_preprocessor(app: Kettle, seen: list[str]) -> None:
    app.url_value_preprocessors[None].append(lambda endpoint, values: seen.append("values"))


def _error_handler(app: Kettle, seen: list[str]) -> None:
    def not_found(error: Exception) -> tuple[str, int]:
        seen.append("handler")
        return "handled", 404

    app.error_handler_spec[None][404][NotFound] = not_found


def _after_request(app: Kettle, seen: list[str]) -> None:
    def after(response: Any) -> Any:
        seen.append("after")
        return response

    app.after_request_funcs.setdefault(None, []).append(after)


def _teardown(app: Kettle, seen: list[str]) -> None:
    app.teardown_request_funcs.setdefault(None, []).append(lambda exc: seen.append("teardown"))


def _teardown_appcontext(app: Kettle, seen: list[str]) -> None:
    app.teardown_appcontext_funcs.append(lambda exc: seen.append("appcontext"))


def _receiver(app: Kettle, seen: list[str]) -> None:
    def started(sender: Any, **extra: Any) -> None:
        seen.append("started")

    request_started.connect(started, app, weak=False)
    _CONNECTED.append((request_started, started))


def _finished_receiver(app: Kettle, seen: list[str]) -> None:
    def finished(sender: Any, **extra: Any) -> None:
        seen.append("finished")

    request_finished.connect(finished, app, weak=False)
    _CONNECTED.append((request_finished, finished))


#: The receivers a test connected, disconnected when it ends.
_CONNECTED: list[tuple[Any, Any]] = []


def _handle_user_exception(app: Kettle, seen: list[str]) -> None:
    original = app.handle_user_exception

    def handle(error: Exception) -> Any:
        seen.append("instance")
        return original(error)

    app.handle_user_exception = handle  # type: ignore[method-assign]


@pytest.mark.parametrize(
    "add",
    [
        _before_request,
        _url_value_preprocessor,
        _error_handler,
        _after_request,
        _teardown,
        _teardown_appcontext,
        _receiver,
        _finished_receiver,
        _handle_user_exception,
    ],
)
def test_what_is_added_after_the_path_was_remembered_sees_the_next_404(
    protocol: str, add: Callable[[Kettle, list[str]], None]
) -> None:
    app, raw = _app(), _raw(protocol)
    first = raw(app, "/apple-touch-icon.png")
    assert raw(app, "/apple-touch-icon.png") == first
    assert _remembered(app, protocol, "/apple-touch-icon.png")
    seen: list[str] = []
    add(app, seen)
    try:
        answer = raw(app, "/apple-touch-icon.png")
        assert seen, add.__name__
        assert answer[0].startswith("404")
    finally:
        while _CONNECTED:
            signal, receiver = _CONNECTED.pop()
            signal.disconnect(receiver)


def test_a_rule_added_after_the_path_was_remembered_is_matched(protocol: str) -> None:
    app, raw = _app(), _raw(protocol)
    assert raw(app, "/tags/red")[0].startswith("404")
    assert raw(app, "/tags/red")[0].startswith("404")
    assert _remembered(app, protocol, "/tags/red")
    app.url_map.add(Rule("/tags/<name>", endpoint="tag"))
    app.view_functions["tag"] = lambda name: f"tag {name}"
    assert raw(app, "/tags/red") == (
        "200 OK" if protocol == "wsgi" else "200",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "7")],
        b"tag red",
    )


def test_a_cookie_goes_the_whole_way(app: Kettle, client: KettleClient) -> None:
    @app.get("/login")
    def login() -> str:
        session["user"] = "ann"
        session.permanent = True
        return "in"

    assert client.get("/missing").status_code == 404
    assert client.get("/missing").status_code == 404  # Remembered, without a cookie.
    client.get("/login")
    refreshed = client.get("/missing")
    # The permanent session is refreshed on a 404, as on any request.
    assert refreshed.status_code == 404
    assert "session=" in refreshed.headers["Set-Cookie"]


def test_the_test_clients_kept_context_sees_the_404(app: Kettle, client: KettleClient) -> None:
    assert client.get("/missing").status_code == 404
    assert client.get("/missing").status_code == 404
    with client:
        assert client.get("/missing").status_code == 404
        assert request.path == "/missing"


def test_the_memo_stays_bounded(protocol: str) -> None:
    app, raw = _app(), _raw(protocol)
    for number in range(LIMIT + 50):
        raw(app, f"/random/{number}")
        raw(app, f"/random/{number}")
    assert not _remembered(app, protocol, "/random/0")
    assert _remembered(app, protocol, f"/random/{LIMIT + 49}")
    memo = wsgi._UNROUTED if protocol == "wsgi" else app.asgi._unrouted  # type: ignore[attr-defined]
    assert len(memo) <= LIMIT
    for number in range(LIMIT + 50):  # A new path each time: noted, never kept.
        raw(app, f"/new/{number}")
    assert len(memo) <= LIMIT
    assert not any(_remembered(app, protocol, f"/new/{number}") for number in range(LIMIT + 50))
    long_path = "/" + "x" * LONGEST
    assert raw(app, long_path)[0].startswith("404")
    assert raw(app, long_path)[0].startswith("404")
    assert not _remembered(app, protocol, long_path)


class _Upper(BaseConverter):
    def to_python(self, value: str) -> str:
        return value.upper()


class _OwnPath(Request):
    @property
    def path(self) -> str:  # type: ignore[override]
        return "/users/1/posts/a"

    @path.setter
    def path(self, value: str) -> None:
        pass


def test_nothing_is_remembered_with_user_code_in_the_match(protocol: str) -> None:
    raw = _raw(protocol)
    converted = _app()
    converted.url_map.converters["upper"] = _Upper
    converted.add_url_rule("/up/<upper:word>", "up", lambda word: word)
    assert raw(converted, "/missing")[0].startswith("404")
    assert not _remembered(converted, protocol, "/missing")
    own = _app()
    own.request_class = _OwnPath
    assert raw(own, "/missing")[0].startswith("200")
    assert raw(own, "/missing")[0].startswith("200")


def test_another_host_method_or_root_path_is_answered_in_full(protocol: str) -> None:
    app, raw = _app(), _raw(protocol)
    first = raw(app, "/wp-login.php")
    if protocol == "wsgi":
        other = raw(app, "/wp-login.php", HTTP_HOST="other.test")
    else:
        other = raw(app, "/wp-login.php", headers=[(b"host", b"other.test")])
        assert raw(app, "/wp-login.php", root_path="/mounted") == first
    assert other == first
    assert raw(app, "/wp-login.php", "POST") == first


def test_a_request_without_a_host_is_not_remembered(protocol: str) -> None:
    app, raw = _app(), _raw(protocol)
    for _ in range(3):
        if protocol == "wsgi":
            answer = _wsgi(app, "/no-host", HTTP_HOST="")
        else:
            answer = _asgi(app, "/no-host", headers=[])
        assert answer[0].startswith("404")
    assert not _remembered(app, protocol, "/no-host")
    assert raw(app, "/no-host")[0].startswith("404")
