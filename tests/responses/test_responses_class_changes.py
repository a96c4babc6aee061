"""Class attributes of the response class and of the app are honoured whenever they are set.

The str path and the adapters ask what they need of a response class once
(``kettle.http._fast_response``) instead of reading its attributes per request;
these tests change those attributes before and after the app served, on the base
class, on a subclass, on a mixin and on the app (instance and class), under WSGI
and ASGI (the ``client`` fixture), and check what a client receives.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import pytest

from kettle import Kettle, Response, session
from kettle.http.response import Response as HTTPResponse
from kettle.testing import KettleClient


def _text_app(app: Kettle) -> Kettle:
    @app.route("/")
    def index() -> Any:
        return "café"

    return app


def _seen(client: KettleClient) -> tuple[int, str, bytes]:
    response = client.get("/")
    return response.status_code, response.headers["Content-Type"], response.data


_DEFAULT = (200, "text/html; charset=utf-8", "café".encode())


@pytest.mark.parametrize("when", ["after", "before"])
def test_base_class_charset_and_mimetype_set_on_the_class(
    app: Kettle, client: KettleClient, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    _text_app(app)
    if when == "after":
        assert _seen(client) == _DEFAULT
    monkeypatch.setattr(HTTPResponse, "charset", "latin-1")
    assert _seen(client) == (200, "text/html; charset=latin-1", b"caf\xe9")
    monkeypatch.setattr(Response, "default_mimetype", "text/plain")
    assert _seen(client) == (200, "text/plain; charset=latin-1", b"caf\xe9")
    monkeypatch.setattr(HTTPResponse, "default_status", 201)
    assert _seen(client) == (201, "text/plain; charset=latin-1", b"caf\xe9")
    monkeypatch.undo()
    assert _seen(client) == _DEFAULT


def test_deleting_a_subclass_attribute_is_seen(app: Kettle, client: KettleClient) -> None:
    class Plain(Response):
        default_mimetype = "text/plain"

    app.response_class = Plain
    _text_app(app)
    assert _seen(client)[1] == "text/plain; charset=utf-8"
    del Plain.default_mimetype
    assert _seen(client) == _DEFAULT
    Plain.default_mimetype = "text/csv"
    assert _seen(client)[1] == "text/csv; charset=utf-8"


def test_subclass_attribute_set_after_the_app_served(app: Kettle, client: KettleClient) -> None:
    class Mine(Response):
        pass

    app.response_class = Mine
    _text_app(app)
    assert _seen(client) == _DEFAULT
    Mine.default_status = 202
    assert _seen(client) == (202, "text/html; charset=utf-8", "café".encode())
    Mine.default_status = 200
    Mine.charset = "latin-1"
    assert _seen(client) == (200, "text/html; charset=latin-1", b"caf\xe9")


def test_a_plain_mixin_changed_later_is_seen(app: Kettle, client: KettleClient) -> None:
    class Mixin:
        pass

    class Mixed(Mixin, Response):
        pass

    app.response_class = Mixed
    _text_app(app)
    assert _seen(client) == _DEFAULT
    Mixin.default_mimetype = "text/plain"  # type: ignore[attr-defined]
    assert _seen(client) == (200, "text/plain; charset=utf-8", "café".encode())


def test_an_abc_mixin_and_a_metaclass_of_its_own(app: Kettle, client: KettleClient) -> None:
    class Marked(abc.ABC):  # noqa: B024 - a plain ABC mixin, no abstract method
        pass

    class WithABC(Response, Marked):
        default_mimetype = "text/plain"

    class Meta(type(Response)):  # type: ignore[misc]
        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            made = super().__call__(*args, **kwargs)
            made.headers["X-Made"] = "meta"
            return made

    class WithMeta(Response, metaclass=Meta):
        pass

    _text_app(app)
    app.response_class = WithABC
    assert _seen(client)[1] == "text/plain; charset=utf-8"
    assert isinstance(WithABC("x"), Marked)
    app.response_class = WithMeta
    assert client.get("/").headers["X-Made"] == "meta"


def test_a_subclass_constructor_or_new_is_called(app: Kettle, client: KettleClient) -> None:
    class Init(Response):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.headers["X-Init"] = "1"

    class New(Response):
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            made = super().__new__(cls)
            made.default_mimetype = "text/plain"  # Read by the constructor, on the instance.
            return made

    _text_app(app)
    app.response_class = Init
    assert client.get("/").headers["X-Init"] == "1"
    app.response_class = New
    assert _seen(client)[1] == "text/plain; charset=utf-8"


def test_a_constructor_assigned_on_the_class_later(app: Kettle, client: KettleClient) -> None:
    class Later(Response):
        pass

    app.response_class = Later
    _text_app(app)
    assert _seen(client) == _DEFAULT
    base_init: Callable[..., None] = Response.__init__

    def init(self: Response, *args: Any, **kwargs: Any) -> None:
        base_init(self, *args, **kwargs)
        self.headers["X-Later"] = "1"

    Later.__init__ = init  # type: ignore[method-assign]
    assert client.get("/").headers["X-Later"] == "1"


def test_status_properties_overridden_or_assigned_later(app: Kettle, client: KettleClient) -> None:
    class Shown(Response):
        pass

    app.response_class = Shown
    _text_app(app)
    assert client.get("/").status == "200 OK"
    Shown.status = property(lambda self: "299 SHOWN")  # type: ignore[assignment]
    Shown.status_code = property(lambda self: 299)  # type: ignore[assignment]
    response = client.get("/")
    assert response.status_code == 299  # What the adapter sent (WSGI: the line, ASGI: the code).
    del Shown.status, Shown.status_code
    assert client.get("/").status == "200 OK"


def test_response_class_on_the_app_instance_and_class(
    app: Kettle, make_client: Callable[..., KettleClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Plain(Response):
        default_mimetype = "text/plain"

    class Csv(Response):
        default_mimetype = "text/csv"

    class MyApp(Kettle):
        pass

    own = _text_app(MyApp(__name__))
    client, own_client = make_client(_text_app(app)), make_client(own)
    assert _seen(client) == _DEFAULT
    app.response_class = Plain  # On the instance, after it served.
    assert _seen(client)[1] == "text/plain; charset=utf-8"
    assert _seen(own_client) == _DEFAULT
    monkeypatch.setattr(MyApp, "response_class", Csv)  # On a subclass, after creation.
    assert _seen(own_client)[1] == "text/csv; charset=utf-8"
    monkeypatch.setattr(Kettle, "response_class", Plain)  # On Kettle itself.
    assert _seen(own_client)[1] == "text/csv; charset=utf-8"  # (MyApp's own wins.)
    del app.response_class
    assert _seen(client)[1] == "text/plain; charset=utf-8"  # Kettle's class attribute now.


def _session_app(app: Kettle) -> Kettle:
    app.secret_key = "a secret key for the tests"

    @app.route("/write")
    def write() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    return app


def test_cookie_code_assigned_on_the_response_class_later(
    app: Kettle, client: KettleClient
) -> None:
    class Later(Response):
        pass

    app.response_class = Later
    _session_app(app)
    first = client.get("/write")
    assert first.headers["Set-Cookie"].startswith("session=")
    assert first.headers["Vary"] == "Cookie"
    calls: list[str] = []
    base_set_cookie = Response.set_cookie

    def set_cookie(self: Response, key: str, *args: Any, **kwargs: Any) -> None:
        calls.append(key)
        base_set_cookie(self, key, *args, **kwargs)

    Later.set_cookie = set_cookie  # type: ignore[method-assign]
    assert client.get("/write").headers["Set-Cookie"].startswith("session=")
    assert calls == ["session"]
    del Later.set_cookie
    Later.max_cookie_size = 40  # type: ignore[assignment]  # A plain value, as Werkzeug's.
    with pytest.warns(UserWarning, match="cookie is too large"):
        assert client.get("/write").headers["Set-Cookie"].startswith("session=")


def test_vary_assigned_on_the_response_class_later(app: Kettle, client: KettleClient) -> None:
    class Later(Response):
        pass

    app.response_class = Later
    _session_app(app)
    assert client.get("/write").headers["Vary"] == "Cookie"
    seen: list[str] = []
    base_vary = Response.vary

    class Recording:
        def __init__(self, response: Response) -> None:
            self.real = base_vary.__get__(response)

        def add(self, value: str) -> None:
            seen.append(value)
            self.real.add(value)

    Later.vary = property(Recording)  # type: ignore[assignment]
    assert client.get("/write").headers["Vary"] == "Cookie"
    assert seen == ["Cookie"]


@pytest.mark.parametrize("text", ["", "café", "x" * 5000])
def test_the_direct_text_response_is_what_the_constructor_builds(text: str) -> None:
    # ``text_response`` writes out ``Response.__init__``'s str case (a frame saved): this
    # binds the two copies, field by field, so that one cannot change without the other.
    from kettle.http._fast_response import new_text_response, text_response

    class Plain(Response):
        pass

    for cls in (Response, Plain):
        built, direct = cls(text), text_response(cls, text)
        assert type(direct) is cls
        assert direct.headers.to_wsgi_list() == built.headers.to_wsgi_list()
        fields = {k: v for k, v in vars(direct).items() if k != "headers"}
        assert fields == {k: v for k, v in vars(built).items() if k != "headers"}
        assert vars(new_text_response(cls, text)).keys() == vars(built).keys()


def _json_app(app: Kettle) -> Kettle:
    @app.route("/data")
    def data() -> Any:
        return {"name": "café"}

    return app


def _seen_json(client: KettleClient) -> tuple[int, str, bytes]:
    response = client.get("/data")
    return response.status_code, response.headers["Content-Type"], response.data


_JSON = (200, "application/json", b'{"name":"caf\\u00e9"}\n')


def test_json_responses_keep_a_subclass_default_status(app: Kettle, client: KettleClient) -> None:
    # Flask's provider calls ``app.response_class(body, mimetype=...)``: a class's
    # ``default_status`` is the status of every JSON response, as of a str one.
    class Created(Response):
        default_status = 201

    app.response_class = Created
    _json_app(app)
    assert _seen_json(client) == (201, *_JSON[1:])


@pytest.mark.parametrize("when", ["after", "before"])
def test_json_responses_see_class_attributes_set_later(
    app: Kettle, client: KettleClient, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    class Mine(Response):
        pass

    app.response_class = Mine
    _json_app(app)
    if when == "after":
        assert _seen_json(client) == _JSON
    Mine.default_status = 203
    assert _seen_json(client) == (203, *_JSON[1:])
    del Mine.default_status
    assert _seen_json(client) == _JSON

    def set_data(self: Response, value: Any) -> None:
        HTTPResponse.set_data(self, value)
        self.headers["X-Set-Data"] = "mine"

    Mine.set_data = set_data  # type: ignore[method-assign]
    response = client.get("/data")
    assert response.headers["X-Set-Data"] == "mine"
    assert response.data == _JSON[2]
    monkeypatch.setattr(HTTPResponse, "default_status", 202)
    del Mine.set_data
    assert _seen_json(client) == (202, *_JSON[1:])
    monkeypatch.undo()
    assert _seen_json(client) == _JSON


def test_jsonify_with_a_constructor_of_its_own(app: Kettle, client: KettleClient) -> None:
    class Tagged(Response):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.headers["X-Tagged"] = "yes"

    app.response_class = Tagged
    _json_app(app)
    response = client.get("/data")
    assert (response.status_code, response.headers["X-Tagged"]) == (200, "yes")
    assert response.data == _JSON[2]
