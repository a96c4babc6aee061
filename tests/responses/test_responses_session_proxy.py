"""The ``session`` proxy: every use opens the session lazily and marks it accessed.

The proxy finds an opened session without going through the request context's
``session`` property; these tests check that each way of using it still opens
the session on first use, still adds ``Vary: Cookie`` and forwards to the
session's own class (a custom interface's too), under WSGI and ASGI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kettle import Kettle, session
from kettle.ctx import _cv
from kettle.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin
from kettle.testing import KettleClient
from kettle.wrappers import Request, Response

# Each use of the proxy, as the view's first and only use of the session, with what it
# returns for the session {"a": 1, "b": 2} and whether it changes the session.
USES: dict[str, tuple[Callable[[], Any], str, bool]] = {
    "in": (lambda: "a" in session, "True", False),
    "not in": (lambda: "z" in session, "False", False),
    "len": (lambda: len(session), "2", False),
    "iter": (lambda: sorted(session), "['a', 'b']", False),
    "getitem": (lambda: session["b"], "2", False),
    "get": (lambda: session.get("z", 7), "7", False),
    "modified": (lambda: session.modified, "False", False),
    "permanent": (lambda: session.permanent, "False", False),
    "eq": (lambda: session == {"a": 1, "b": 2}, "True", False),
    "bool": (lambda: bool(session), "True", False),
    "setitem": (lambda: session.__setitem__("c", 3), "None", True),
    "delitem": (lambda: session.__delitem__("a"), "None", True),
}


def _seeded(app: Kettle, client: KettleClient) -> None:
    @app.route("/seed")
    def seed() -> str:
        session["a"] = 1
        session["b"] = 2
        return "seeded"

    assert client.get("/seed").headers["Vary"] == "Cookie"


@pytest.mark.parametrize("use", sorted(USES))
def test_each_use_opens_the_session_and_adds_vary(
    app: Kettle, client: KettleClient, use: str
) -> None:
    action, expected, changes = USES[use]
    app.add_url_rule("/use", "use", lambda: repr(action()))

    @app.route("/read")
    def read() -> str:
        return repr(sorted(session.items()))

    _seeded(app, client)
    rv = client.get("/use")
    assert rv.data.decode() == expected
    assert rv.headers["Vary"] == "Cookie"
    assert ("Set-Cookie" in rv.headers) is changes
    after = client.get("/read").data.decode()
    assert after == {
        "setitem": "[('a', 1), ('b', 2), ('c', 3)]",
        "delitem": "[('b', 2)]",
    }.get(use, "[('a', 1), ('b', 2)]")


def test_every_use_in_a_view_marks_it_accessed(app: Kettle, client: KettleClient) -> None:
    seen: list[bool] = []

    @app.route("/twice")
    def twice() -> str:
        session["n"] = 1
        request_session = session._get_current_object()
        request_session.accessed = False
        "n" in session  # noqa: B015 - the use is the point
        seen.append(request_session.accessed)
        request_session.accessed = False
        session.get("n")
        seen.append(request_session.accessed)
        request_session.accessed = False
        session["n"] = 2
        seen.append(request_session.accessed)
        request_session.accessed = False
        session.modified  # noqa: B018 - the read is the point
        seen.append(request_session.accessed)
        return "ok"

    assert client.get("/twice").status_code == 200
    assert seen == [True, True, True, True]


class _BoxSession(SessionMixin):
    """A session that is not a dict: its items live in ``box``, its uses are logged."""

    def __init__(self, box: dict[str, Any]) -> None:
        self.box = box
        self.log: list[str] = []

    def __getitem__(self, key: str) -> Any:
        self.log.append("getitem")
        return self.box[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.log.append("setitem")
        self.modified = True
        self.box[key] = value

    def __delitem__(self, key: str) -> None:
        self.log.append("delitem")
        self.modified = True
        del self.box[key]

    def __iter__(self) -> Iterator[str]:
        self.log.append("iter")
        return iter(self.box)

    def __len__(self) -> int:
        self.log.append("len")
        return len(self.box)


class _BoxInterface(SessionInterface):
    """Keeps one server-side box; the response says which methods the view reached."""

    def __init__(self) -> None:
        self.box: dict[str, Any] = {"a": 1}

    def open_session(self, app: Kettle, request: Request) -> _BoxSession:
        session = _BoxSession(self.box)
        session.modified = session.accessed = False
        return session

    def save_session(self, app: Kettle, session: Any, response: Response) -> None:
        response.headers["X-Log"] = ",".join(session.log)
        response.headers["X-Accessed"] = str(session.accessed)


def test_a_custom_session_class_gets_each_operation(app: Kettle, client: KettleClient) -> None:
    interface = _BoxInterface()
    app.session_interface = interface

    @app.route("/ops")
    def ops() -> str:
        session["b"] = session["a"] + 1
        present = "b" in session  # Mapping's __contains__ calls __getitem__
        count = len(session)
        keys = sorted([key for key in session])  # iter only (sorted alone asks len too)
        del session["a"]
        return f"{present} {count} {keys} {isinstance(session, _BoxSession)}"

    rv = client.get("/ops")
    assert rv.data == b"True 2 ['a', 'b'] True"
    assert rv.headers["X-Log"] == "getitem,setitem,getitem,len,iter,delitem"
    assert rv.headers["X-Accessed"] == "True"
    assert interface.box == {"b": 2}


def test_a_session_replaced_on_the_context_is_the_one_used(
    app: Kettle, client: KettleClient
) -> None:
    replacement = _BoxSession({"r": 5})

    @app.route("/replace")
    def replace() -> str:
        _cv.get().session = replacement  # type: ignore[attr-defined]
        return f"{session['r']} {session.get('r')} {len(session)}"

    assert client.get("/replace").data == b"5 5 1"
    assert replacement.accessed is True


def test_without_a_secret_key_reads_work_and_writes_explain(
    app: Kettle, client: KettleClient
) -> None:
    app.config["SECRET_KEY"] = None

    @app.route("/null")
    def null() -> str:
        results = [str("n" in session), str(len(session)), str(session.get("n"))]
        try:
            session["n"] = 1
        except RuntimeError as exc:
            results.append("secret key" in str(exc))  # type: ignore[arg-type]
        return " ".join(map(str, results))

    rv = client.get("/null")
    assert rv.data == b"False 0 None True"
    assert "Set-Cookie" not in rv.headers


def test_outside_a_request_every_use_raises(app: Kettle) -> None:
    uses: list[Callable[[], Any]] = [
        lambda: session["a"],
        lambda: session.__setitem__("a", 1),
        lambda: session.__delitem__("a"),
        lambda: "a" in session,
        lambda: len(session),
        lambda: list(session),
        lambda: session.get("a"),
        lambda: session.modified,
    ]
    for context in (None, app.app_context()):
        if context is not None:
            context.push()
        try:
            for use in uses:
                with pytest.raises(RuntimeError, match="outside of request context"):
                    use()
            assert not session
            assert repr(session) == "<LocalProxy unbound>"
        finally:
            if context is not None:
                context.pop()


def test_the_proxy_stands_for_the_session(app: Kettle) -> None:
    with app.test_request_context("/"):
        current = session._get_current_object()
        assert isinstance(session, type(current))
        assert isinstance(app.session_interface, SecureCookieSessionInterface)
        session["k"] = "v"
        assert session == {"k": "v"} and session != {"k": "w"}
        assert repr(session) == repr(current)
        session.permanent = True
        assert current.permanent is True and current["_permanent"] is True
        session.custom = 1  # type: ignore[attr-defined]
        assert current.custom == 1  # type: ignore[attr-defined]
        del session.custom  # type: ignore[attr-defined]
        assert not hasattr(current, "custom")
        assert current.modified and current.accessed
