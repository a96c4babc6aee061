"""The signed session saved in one call: overrides and other session classes still work."""

from __future__ import annotations

from typing import Any

from kettle import Kettle, session
from kettle.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from kettle.testing import KettleClient
from kettle.wrappers import Request, Response


def _routes(app: Kettle) -> None:
    @app.route("/count")
    def count() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/kind")
    def kind() -> str:
        return type(session._get_current_object()).__name__  # type: ignore[attr-defined]

    @app.route("/nothing")
    def nothing() -> str:
        return "nothing"

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"


class Remembered(SecureCookieSession):
    """A session class whose ``permanent`` is its own: always permanent."""

    @property
    def permanent(self) -> bool:
        return True

    @permanent.setter
    def permanent(self, value: bool) -> None:
        pass


def test_a_session_class_of_its_own_opens_saves_and_refreshes(
    app: Kettle, client: KettleClient
) -> None:
    class Interface(SecureCookieSessionInterface):
        session_class = Remembered

    app.session_interface = Interface()
    _routes(app)
    first = client.get("/count")
    # Its own ``permanent`` is read: a permanent cookie, though no ``_permanent`` key is set.
    assert first.text == "1" and "; Expires=" in first.headers["Set-Cookie"]
    assert client.get("/count").text == "2"
    assert client.get("/kind").text == "Remembered"
    # A refresh of a session nothing read: re-sent (permanent), and it still opens.
    refreshed = client.get("/nothing")
    assert "; Expires=" in refreshed.headers["Set-Cookie"]
    assert refreshed.headers["Vary"] == "Cookie"  # as Flask: written, so it varies
    assert client.get("/count").text == "3"


def test_overridden_open_and_save_are_called_on_every_request(
    app: Kettle, client: KettleClient
) -> None:
    calls: list[str] = []

    class Interface(SecureCookieSessionInterface):
        def open_session(self, app: Kettle, request: Request) -> SecureCookieSession | None:
            calls.append("open")
            return super().open_session(app, request)

        def save_session(self, app: Kettle, session: SessionMixin, response: Response) -> None:
            calls.append("save")
            super().save_session(app, session, response)

    app.session_interface = Interface()
    _routes(app)
    assert [client.get("/count").text for _ in range(3)] == ["1", "2", "3"]
    assert calls == ["open", "save"] * 3


def test_a_hook_overridden_on_the_class_is_called_and_the_cookie_opens(
    app: Kettle, client: KettleClient
) -> None:
    names: list[str] = []

    class Interface(SecureCookieSessionInterface):
        def get_cookie_name(self, app: Kettle) -> str:
            names.append("name")
            return "sid"

    app.session_interface = Interface()
    _routes(app)
    rv = client.get("/count")
    assert rv.headers["Set-Cookie"].startswith("sid=")
    assert client.get("/count").text == "2"
    assert names and set(names) == {"name"}


def test_an_emptied_session_deletes_the_cookie_with_vary(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    client.get("/count")
    rv = client.get("/clear")
    assert rv.headers["Set-Cookie"].startswith("session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert rv.headers["Vary"] == "Cookie"
    assert client.get("/count").text == "1"


def test_a_bad_cookie_opens_an_empty_session_of_the_default_class(
    app: Kettle, client: KettleClient
) -> None:
    _routes(app)
    for value in ("", "x", "a.b.c", "eyJuIjo1fQ.AAAA.bad", '"quoted"'):
        client.set_cookie("session", value)
        assert client.get("/kind").text == "SecureCookieSession"
        assert client.get("/count").text == "1"


def test_a_session_opened_by_the_proxy_is_the_one_saved(app: Kettle, client: KettleClient) -> None:
    seen: list[Any] = []

    @app.route("/same")
    def same() -> str:
        session["a"] = 1
        seen.append(session._get_current_object())  # type: ignore[attr-defined]
        return "ok"

    @app.after_request
    def after(response: Response) -> Response:
        seen.append(session._get_current_object())  # type: ignore[attr-defined]
        return response

    client.get("/same")
    assert seen[0] is seen[1] and dict(seen[0]) == {"a": 1}
