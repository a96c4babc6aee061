"""The session's settings read once per config state: every change still shows, hooks still run."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kettle import Kettle, session
from kettle.json.tag import TaggedJSONSerializer
from kettle.sessions import SecureCookieSessionInterface, SessionMixin
from kettle.testing import KettleClient
from kettle.wrappers import Response


def _routes(app: Kettle) -> None:
    @app.route("/write")
    def write() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["n"] = 1
        return "ok"


def test_cookie_options_changed_between_requests_take_effect(
    app: Kettle, client: KettleClient
) -> None:
    _routes(app)
    first = client.get("/write").headers["Set-Cookie"]
    assert first.startswith("session=") and first.endswith("; HttpOnly; Path=/; SameSite=Lax")
    app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
    )
    header = client.get("/write").headers["Set-Cookie"]
    assert header.startswith("sid=")
    assert header.endswith("; Domain=example.com; Secure; Path=/app; SameSite=Strict")
    app.config["SESSION_COOKIE_PARTITIONED"] = True
    assert client.get("/write").headers["Set-Cookie"].endswith("; SameSite=Strict; Partitioned")


def test_lifetime_changed_between_requests_takes_effect(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    client.get("/login")
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=2)
    expires = client.get("/write").headers["Set-Cookie"].split("Expires=")[1].split(";")[0]
    when = datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    assert abs(when - datetime.now(UTC) - timedelta(days=2)) < timedelta(minutes=1)
    app.config["PERMANENT_SESSION_LIFETIME"] = -1  # seconds: every cookie has expired
    assert client.get("/write").text == "1"


def test_vary_comes_before_the_cookie_when_the_view_read_the_session(
    app: Kettle, client: KettleClient
) -> None:
    _routes(app)
    names = [name for name, _ in client.get("/write").headers if name in ("Vary", "Set-Cookie")]
    assert names == ["Vary", "Set-Cookie"]


def test_response_class_set_cookie_is_called(app: Kettle, client: KettleClient) -> None:
    calls: list[str] = []

    class Tracking(Response):
        def set_cookie(self, key: str, value: str = "", *args: Any, **kwargs: Any) -> None:
            calls.append(key)
            super().set_cookie(key, value, *args, **kwargs)

    app.response_class = Tracking
    _routes(app)
    assert client.get("/write").headers["Set-Cookie"].startswith("session=")
    assert calls == ["session"]


def test_oversized_session_cookie_warns(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    app.config["MAX_COOKIE_SIZE"] = 40
    with pytest.warns(UserWarning, match="cookie is too large"):
        rv = client.get("/write")
    assert rv.headers["Set-Cookie"].startswith("session=")


def test_response_class_max_cookie_size_is_read(app: Kettle, client: KettleClient) -> None:
    class SmallCookies(Response):
        @property
        def max_cookie_size(self) -> int:
            return 40

    app.response_class = SmallCookies
    _routes(app)
    with pytest.warns(UserWarning, match="cookie is too large"):
        rv = client.get("/write")
    assert rv.headers["Set-Cookie"].startswith("session=")
    assert rv.headers["Vary"] == "Cookie"


def test_overridden_save_hooks_are_called(app: Kettle, client: KettleClient) -> None:
    calls: list[str] = []

    class Custom(SecureCookieSessionInterface):
        def should_set_cookie(self, app: Kettle, session: SessionMixin) -> bool:
            calls.append("should_set_cookie")
            return True

        def get_expiration_time(self, app: Kettle, session: SessionMixin) -> datetime | None:
            calls.append("get_expiration_time")
            return datetime(2040, 1, 2, tzinfo=UTC)

    app.session_interface = Custom()

    @app.route("/peek")
    def peek() -> str:
        return str(session.get("n"))

    _routes(app)
    client.get("/write")
    calls.clear()
    rv = client.get("/peek")  # unchanged, yet should_set_cookie says to send it
    assert rv.text == "1"
    assert "; Expires=Mon, 02 Jan 2040 00:00:00 GMT;" in rv.headers["Set-Cookie"]
    assert calls == ["should_set_cookie", "get_expiration_time"]


def test_app_subclass_secret_key_property_is_read(
    make_client: Callable[..., KettleClient],
) -> None:
    class Rotating(Kettle):
        key = "first key"

        @property  # type: ignore[override]
        def secret_key(self) -> str:
            return self.key

    app = Rotating(__name__)
    app.config["TESTING"] = True
    _routes(app)

    @app.route("/peek")
    def peek() -> str:
        return str(session.get("n"))

    client = make_client(app)
    client.get("/write")
    assert client.get("/peek").text == "1"
    Rotating.key = "second key"
    assert client.get("/peek").text == "None"


@pytest.mark.parametrize(
    "text",
    [
        '{"n":1}',
        '{"n": 1, " t": [1, 2]}',  # Flask's spaced separators, a tag
        '{"\\u0020t":[1,2]}',  # a tag key written with an escape
        '{"a":{"\\u0020di":{" t__":[3]}}}',  # an escaped tag-like key
        '{"a":"x \\" y","b":[" t"]}',  # a quote and a space inside a value
        '{"a":[" t"]}',  # a tag name as a value, not a key
        '{" x":1}',  # a key with a space that is no tag
    ],
)
def test_tagged_loads_equals_flask(text: str) -> None:
    from flask.json.tag import TaggedJSONSerializer as FlaskTagged

    assert TaggedJSONSerializer().loads(text) == FlaskTagged().loads(text)


def test_session_with_an_escaped_tag_key_reads_as_flask_reads_it(
    app: Kettle, client: KettleClient
) -> None:
    @app.route("/peek")
    def peek() -> str:
        return repr(session.get("x"))

    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    text = '{"x":{"\\u0020t":[1,2]}}'
    client.set_cookie("session", signer.dumps(TaggedJSONSerializer().loads(text)))
    assert client.get("/peek").text == "(1, 2)"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"SESSION_COOKIE_DOMAIN": "Example.COM:8080", "SESSION_COOKIE_PATH": "/a b/ü"},
        {"SESSION_COOKIE_SAMESITE": "strict", "SESSION_COOKIE_HTTPONLY": False},
        {"SESSION_COOKIE_SAMESITE": None, "SESSION_COOKIE_PARTITIONED": True},
        {"SESSION_COOKIE_SECURE": True, "APPLICATION_ROOT": "/root"},
        {"PERMANENT_SESSION_LIFETIME": 3600},
    ],
)
def test_appended_cookie_equals_set_cookies(
    config: dict[str, Any],
    make_client: Callable[..., KettleClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_750_000_000.0)

    headers = []
    for response_class in (Response, _PlainSetCookie):
        app = Kettle("kettle_test")
        app.config.update(TESTING=True, SECRET_KEY="test key", **config)
        app.response_class = response_class

        @app.route("/login")
        def login() -> str:
            session.permanent = True
            session["n"] = 1
            return "ok"

        rv = make_client(app).get("/login")
        assert "; Expires=" in rv.headers["Set-Cookie"]
        # (Expires comes from datetime.now(), which two requests may see a second apart.)
        headers.append([(name, _EXPIRES.sub("", value)) for name, value in rv.headers])
    assert headers[0] == headers[1]


_EXPIRES = re.compile(r"; Expires=[^;]*")


class _PlainSetCookie(Response):
    """A response class with its own ``set_cookie``: the session cookie goes through it."""

    def set_cookie(self, key: str, value: str = "", *args: Any, **kwargs: Any) -> None:
        super().set_cookie(key, value, *args, **kwargs)


@pytest.mark.parametrize("base_url", ["http://localhost", "https://localhost"])
@pytest.mark.parametrize(
    "config",
    [
        {},
        {"SESSION_COOKIE_DOMAIN": "Example.COM:8080", "SESSION_COOKIE_PATH": "/a b/ü"},
        {"SESSION_COOKIE_SAMESITE": None, "SESSION_COOKIE_PARTITIONED": True},
        {"SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": False},
    ],
)
def test_browser_session_cookie_equals_set_cookies(
    config: dict[str, Any],
    base_url: str,
    make_client: Callable[..., KettleClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A cookie without Expires is joined from parts made once per settings: the
    # same header as ``set_cookie`` writes, over http and https, on every request.
    monkeypatch.setattr(time, "time", lambda: 1_750_000_000.0)

    secure = base_url.startswith("https") or any(
        config.get(name) for name in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_PARTITIONED")
    )
    headers = []
    for response_class in (Response, _PlainSetCookie):
        app = Kettle("kettle_test")
        app.config.update(TESTING=True, SECRET_KEY="test key", **config)
        app.response_class = response_class

        @app.route("/")
        def index() -> str:
            session["user"] = "ü ; , \\ x"
            return "ok"

        client = make_client(app)
        for _ in range(2):
            rv = client.get("/", base_url=base_url)
            assert "; Expires=" not in rv.headers["Set-Cookie"]
            assert ("; Secure" in rv.headers["Set-Cookie"]) == secure
            headers.append(list(rv.headers))
    assert headers[:2] == headers[2:]


def _rename_by_setitem(app: Kettle) -> None:
    app.config["SESSION_COOKIE_NAME"] = "renamed"


def _rename_by_update(app: Kettle) -> None:
    app.config.update(SESSION_COOKIE_NAME="renamed")


def _rename_by_update_pairs(app: Kettle) -> None:
    app.config.update([("SESSION_COOKIE_NAME", "renamed")])


def _rename_by_ior(app: Kettle) -> None:
    config = app.config
    config |= {"SESSION_COOKIE_NAME": "renamed"}


def _rename_by_from_mapping(app: Kettle) -> None:
    app.config.from_mapping(SESSION_COOKIE_NAME="renamed")


def _rename_by_pop_and_setdefault(app: Kettle) -> None:
    app.config.pop("SESSION_COOKIE_NAME")
    app.config.setdefault("SESSION_COOKIE_NAME", "renamed")


@pytest.mark.parametrize(
    "rename",
    [
        _rename_by_setitem,
        _rename_by_update,
        _rename_by_update_pairs,
        _rename_by_ior,
        _rename_by_from_mapping,
        _rename_by_pop_and_setdefault,
    ],
)
def test_every_way_of_changing_the_config_shows_on_the_next_request(
    app: Kettle, client: KettleClient, rename: Callable[[Kettle], None]
) -> None:
    _routes(app)
    for _ in range(3):  # the settings are kept from one request to the next
        assert client.get("/write").headers["Set-Cookie"].startswith("session=")
    rename(app)
    header = client.get("/write").headers["Set-Cookie"]
    assert header.startswith("renamed=") and header.endswith("; HttpOnly; Path=/; SameSite=Lax")


def test_a_config_replaced_by_a_plain_dict_is_read(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    assert client.get("/write").headers["Set-Cookie"].startswith("session=")
    app.config = dict(app.config, SESSION_COOKIE_NAME="plain")  # type: ignore[assignment]
    assert client.get("/write").headers["Set-Cookie"].startswith("plain=")
    app.config["SESSION_COOKIE_NAME"] = "again"
    assert client.get("/write").headers["Set-Cookie"].startswith("again=")


def test_a_config_change_in_the_view_shows_in_its_own_cookie(
    app: Kettle, client: KettleClient
) -> None:
    @app.route("/move")
    def move() -> str:
        session["n"] = session.get("n", 0) + 1
        app.config["SESSION_COOKIE_NAME"] = "moved"
        app.config["SESSION_COOKIE_PATH"] = "/elsewhere"
        return "ok"

    _routes(app)
    client.get("/write")
    header = client.get("/move").headers["Set-Cookie"]
    assert header.startswith("moved=") and "; Path=/elsewhere;" in header


def test_a_secret_key_changed_in_place_is_read(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    key = app.secret_key = bytearray(b"first key")
    assert client.get("/write").text == "1"
    assert client.get("/write").text == "2"
    key[:] = b"other key"  # a bytearray can change without the config changing
    assert client.get("/write").text == "1"
    assert client.get("/write").text == "2"
    key[:] = b"first key"  # the cookie signed with the other key is refused
    assert client.get("/write").text == "1"


def test_fallback_keys_appended_in_place_are_read(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/write").text == "1"
    old = client.get_cookie("session")
    assert old is not None
    app.config["SECRET_KEY"] = "new key"
    assert client.get("/write").text == "1"  # the old cookie no longer verifies
    client.set_cookie("session", old.value)
    app.config["SECRET_KEY_FALLBACKS"].append("test key")
    assert client.get("/write").text == "2"


@pytest.mark.parametrize("spelling", ["Vary", "vary", "VARY", "vArY"])
def test_vary_in_any_case_is_joined_not_repeated(
    app: Kettle, client: KettleClient, spelling: str
) -> None:
    @app.route("/")
    def index() -> Any:
        session["n"] = 1
        return "", {spelling: "Accept-Encoding"}

    response = client.get("/")
    assert [value for name, value in response.headers if name.lower() == "vary"] == [
        "Accept-Encoding, Cookie"
    ]


class _NumberedDict(dict[str, Any]):
    """A config of the user's own: a version, but no weak references (``__slots__``)."""

    __slots__ = ("_version",)


def test_a_config_without_weak_references_is_read(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    config = _NumberedDict(app.config)
    config._version = 1
    app.config = config  # type: ignore[assignment]
    assert client.get("/write").headers["Set-Cookie"].startswith("session=")
    config["SESSION_COOKIE_NAME"] = "mine"  # the version stays: read all the same
    assert client.get("/write").headers["Set-Cookie"].startswith("mine=")
