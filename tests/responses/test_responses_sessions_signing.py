"""The one-pass session signer: Flask's exact bytes, rotation, config changes, custom interfaces."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import flask
import pytest
from flask.sessions import SecureCookieSessionInterface as FlaskInterface
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup

from kettle import Kettle, session
from kettle.http.cookies import cookie_value, parse_cookie
from kettle.http.dates import http_date
from kettle.json.tag import JSONTag, TaggedJSONSerializer
from kettle.sessions import SecureCookieSessionInterface
from kettle.testing import KettleClient

NOW = 1_750_000_000.0
#: Big enough that zlib wins: the cookie carries the "." compressed form.
BIG = {"blob": "abc" * 200, "n": 1}


def _flask_app(secret: str = "test key", fallbacks: list[str] | None = None) -> flask.Flask:
    app = flask.Flask("flask_signing")
    app.config.update(SECRET_KEY=secret, SECRET_KEY_FALLBACKS=fallbacks, TESTING=True)

    @app.route("/read")
    def read() -> Any:
        return repr(sorted(flask.session.items()))

    @app.route("/write/<kind>")
    def write(kind: str) -> Any:
        flask.session.update(BIG if kind == "big" else {"n": 7})
        return "ok"

    return app


def _flask_cookie(app: flask.Flask, data: dict[str, Any]) -> str:
    """The cookie value Flask's own interface makes for ``data``."""
    serializer = FlaskInterface().get_signing_serializer(app)
    assert serializer is not None
    with app.app_context():
        return serializer.dumps(data)


def _routes(app: Kettle) -> None:
    @app.route("/write/<kind>")
    def write(kind: str) -> str:
        session.update(BIG if kind == "big" else {"n": 7})
        return "ok"

    @app.route("/read")
    def read() -> str:
        return repr(sorted(session.items()))

    @app.route("/peek")
    def peek() -> str:
        return str(session.get("n"))

    @app.route("/tagkey")
    def tagkey() -> str:
        session[" t"] = "not a tuple"
        return "ok"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> float:
    """Freeze time.time (itsdangerous and Kettle both stamp with it)."""
    monkeypatch.setattr(time, "time", lambda: NOW)
    return NOW


@pytest.mark.parametrize("kind", ["small", "big"])
def test_cookie_bytes_are_flasks(
    app: Kettle, client: KettleClient, frozen: float, kind: str
) -> None:
    _routes(app)
    rv = client.get(f"/write/{kind}")
    value = rv.headers["Set-Cookie"].split(";", 1)[0].removeprefix("session=")
    data = BIG if kind == "big" else {"n": 7}
    assert value == _flask_cookie(_flask_app(), data)
    assert value.startswith(".") == (kind == "big")


def test_tag_like_key_is_escaped_as_flask_does(
    app: Kettle, client: KettleClient, frozen: float
) -> None:
    _routes(app)
    value = client.get("/tagkey").headers["Set-Cookie"].split(";", 1)[0].removeprefix("session=")
    assert value == _flask_cookie(_flask_app(), {" t": "not a tuple"})
    flask_client = _flask_app().test_client()
    flask_client.set_cookie("session", value)
    assert flask_client.get("/read").text == repr([(" t", "not a tuple")])


@pytest.mark.parametrize("kind", ["small", "big"])
def test_flask_cookie_loads_in_kettle(app: Kettle, client: KettleClient, kind: str) -> None:
    _routes(app)
    flask_client = _flask_app().test_client()
    flask_client.get(f"/write/{kind}")
    cookie = flask_client.get_cookie("session")
    assert cookie is not None
    assert cookie.value.startswith(".") == (kind == "big")
    client.set_cookie("session", cookie.value)
    expected = BIG if kind == "big" else {"n": 7}
    assert client.get("/read").text == repr(sorted(expected.items()))


@pytest.mark.parametrize("kind", ["small", "big"])
def test_kettle_cookie_loads_in_flask(app: Kettle, client: KettleClient, kind: str) -> None:
    _routes(app)
    client.get(f"/write/{kind}")
    cookie = client.get_cookie("session")
    assert cookie is not None
    flask_client = _flask_app().test_client()
    flask_client.set_cookie("session", cookie.value)
    expected = BIG if kind == "big" else {"n": 7}
    assert flask_client.get("/read").text == repr(sorted(expected.items()))


def test_rotation_both_ways(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    old = _flask_app("old key").test_client()
    old.get("/write/big")
    cookie = old.get_cookie("session")
    assert cookie is not None
    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["old key"])
    client.set_cookie("session", cookie.value)
    assert client.get("/read").text == repr(sorted(BIG.items()))
    client.get("/write/small")  # re-signed with the new key
    resigned = client.get_cookie("session")
    assert resigned is not None
    new_only = _flask_app("new key").test_client()
    new_only.set_cookie("session", resigned.value)
    assert new_only.get("/read").text == repr(sorted({**BIG, "n": 7}.items()))
    old_only = _flask_app("old key").test_client()
    old_only.set_cookie("session", resigned.value)
    assert old_only.get("/read").text == "[]"


def test_config_changes_take_effect_on_the_next_request(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    client.get("/write/small")
    assert client.get("/peek").text == "7"
    app.config["SECRET_KEY"] = "another key"
    assert client.get("/peek").text == "None"
    app.config["SECRET_KEY_FALLBACKS"] = []
    app.config["SECRET_KEY_FALLBACKS"].append("test key")  # changed in place
    assert client.get("/peek").text == "7"
    app.config["SECRET_KEY_FALLBACKS"].clear()
    assert client.get("/peek").text == "None"


def test_interface_settings_change_the_signature(
    app: Kettle, client: KettleClient, frozen: float
) -> None:
    _routes(app)
    interface = app.session_interface = SecureCookieSessionInterface()  # not the shared default
    client.get("/write/small")
    interface.salt = "other salt"  # type: ignore[misc]
    assert client.get("/peek").text == "None"
    interface.key_derivation = "django-concat"  # type: ignore[misc]
    interface.digest_method = hashlib.sha256  # type: ignore[assignment]
    value = client.get("/write/small").headers["Set-Cookie"].split(";", 1)[0][len("session=") :]
    expected = URLSafeTimedSerializer(
        "test key",
        salt="other salt",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "django-concat", "digest_method": hashlib.sha256},
    ).dumps({"n": 7})
    assert value == expected
    assert client.get("/peek").text == "7"


@pytest.mark.parametrize("derivation", ["concat", "django-concat", "hmac", "none"])
@pytest.mark.parametrize("digest", [hashlib.sha1, hashlib.sha256, hashlib.sha512])
def test_subclass_settings_match_flask(
    app: Kettle, client: KettleClient, frozen: float, derivation: str, digest: Any
) -> None:
    class Ours(SecureCookieSessionInterface):
        key_derivation = derivation
        digest_method = staticmethod(digest)

    class Theirs(FlaskInterface):
        key_derivation = derivation
        digest_method = staticmethod(digest)

    app.session_interface = Ours()
    app.secret_key = "k" * 200  # longer than any block: hashed first, as HMAC says
    _routes(app)
    value = client.get("/write/big").headers["Set-Cookie"].split(";", 1)[0][len("session=") :]
    flask_app = _flask_app("k" * 200)
    flask_app.session_interface = Theirs()
    serializer = flask_app.session_interface.get_signing_serializer(flask_app)
    assert serializer is not None
    with flask_app.app_context():
        assert value == serializer.dumps(BIG)
        assert serializer.loads(value) == BIG
    assert client.get("/read").text == repr(sorted(BIG.items()))


def test_custom_signing_serializer_is_called(app: Kettle, client: KettleClient) -> None:
    calls: list[str] = []

    class Custom(SecureCookieSessionInterface):
        def get_signing_serializer(self, app: Kettle) -> URLSafeTimedSerializer | None:
            calls.append("called")
            return URLSafeTimedSerializer(app.secret_key, salt="mine")

    app.session_interface = Custom()
    _routes(app)
    value = client.get("/write/small").headers["Set-Cookie"].split(";", 1)[0][len("session=") :]
    assert URLSafeTimedSerializer("test key", salt="mine").loads(value) == {"n": 7}
    assert client.get("/peek").text == "7"
    assert len(calls) >= 3


def test_overridden_cookie_hooks_are_honoured(app: Kettle, client: KettleClient) -> None:
    class Custom(SecureCookieSessionInterface):
        def get_cookie_name(self, app: Kettle) -> str:
            return "custom"

        def get_cookie_samesite(self, app: Kettle) -> str | None:
            return "Strict"

    app.session_interface = Custom()
    _routes(app)
    header = client.get("/write/small").headers["Set-Cookie"]
    assert header.startswith("custom=") and header.endswith("; SameSite=Strict")
    assert client.get("/peek").text == "7"


def test_hook_set_on_the_instance_is_honoured(app: Kettle, client: KettleClient) -> None:
    interface = SecureCookieSessionInterface()
    interface.get_cookie_path = lambda app: "/only"  # type: ignore[method-assign]
    app.session_interface = interface
    _routes(app)
    assert "; Path=/only;" in client.get("/write/small").headers["Set-Cookie"]


def test_unchanged_session_sends_no_cookie(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    client.get("/write/small")
    rv = client.get("/peek")
    assert (rv.text, rv.headers["Vary"]) == ("7", "Cookie")
    assert "Set-Cookie" not in rv.headers
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    assert "Set-Cookie" not in client.get("/peek").headers


def test_permanent_session_refresh_rules(app: Kettle, client: KettleClient) -> None:
    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["n"] = 1
        return ""

    _routes(app)
    client.get("/login")
    rv = client.get("/peek")
    assert "Expires=" in rv.headers["Set-Cookie"]
    assert rv.headers["Vary"] == "Cookie"
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    rv = client.get("/peek")
    assert "Set-Cookie" not in rv.headers
    assert rv.headers["Vary"] == "Cookie"


def test_vary_joins_the_views_own(app: Kettle, client: KettleClient) -> None:
    @app.route("/")
    def index() -> Any:
        session["n"] = 1
        return "", {"Vary": "Accept-Encoding"}

    assert client.get("/").headers["Vary"] == "Accept-Encoding, Cookie"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),  # signature
        lambda v: v.replace(".", ".A", 1),  # payload grows
        lambda v: "." + v,  # claims compression
        lambda v: v.rsplit(".", 1)[0],  # no signature
        lambda v: v + "=====",  # padding after the signature
        lambda v: v + "!",  # a character base64 skips
        lambda v: v.replace(".", "..", 1),  # an empty part
    ],
    ids=["signature", "payload", "dot", "unsigned", "padding", "skipped", "empty-part"],
)
def test_altered_cookie_is_judged_as_flask_judges_it(
    app: Kettle, client: KettleClient, mangle: Any
) -> None:
    _routes(app)
    client.get("/write/big")
    cookie = client.get_cookie("session")
    assert cookie is not None
    altered = mangle(cookie.value)
    flask_client = _flask_app().test_client()
    flask_client.set_cookie("session", altered)
    expected = flask_client.get("/read").text
    client.set_cookie("session", altered)
    rv = client.get("/read")
    assert (rv.status_code, rv.text) == (200, expected)


def test_altered_signature_gives_an_empty_session(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    client.get("/write/big")
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value[:-2] + ("AA" if cookie.value[-2:] != "AA" else "BB"))
    assert client.get("/read").text == "[]"


def test_expired_cookie_gives_an_empty_session(app: Kettle, client: KettleClient) -> None:
    _routes(app)
    app.permanent_session_lifetime = timedelta(seconds=30)  # type: ignore[misc]
    client.set_cookie("session", _flask_cookie(_flask_app(), {"n": 3}))  # stamped now
    assert client.get("/peek").text == "3"
    flask_app = _flask_app()
    serializer = FlaskInterface().get_signing_serializer(flask_app)
    assert serializer is not None
    with flask_app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: NOW - 3600)
        old = serializer.dumps({"n": 3})
    client.set_cookie("session", old)
    assert client.get("/peek").text == "None"


# -- the pieces ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"n": 1},
        {"a": [1, 2.5, None, True, "é\n"], "b": {"c": {}}, "d": []},
        {" t": 1},
        {"x": {" di": {"y": 1}}},
        {"x": (1, 2)},
        {"x": b"\x00"},
        {"m": Markup("<b>")},
        {"o": OrderedDict(a=1)},
        {"nested": [[{"k": [1]}]]},
    ],
)
def test_tagged_dumps_equals_flask(value: Any) -> None:
    from flask.json.tag import TaggedJSONSerializer as FlaskTagged

    ours, theirs = TaggedJSONSerializer(), FlaskTagged()
    with flask.Flask("x").app_context():
        assert ours.dumps(value) == theirs.dumps(value)
        assert ours.loads(theirs.dumps(value)) == theirs.loads(theirs.dumps(value))


def test_registered_tag_turns_the_plain_shortcut_off() -> None:
    class TagInt(JSONTag):
        key = " i"

        def check(self, value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        def to_json(self, value: Any) -> Any:
            return str(value)

        def to_python(self, value: Any) -> Any:
            return int(value)

    serializer = TaggedJSONSerializer()
    serializer.register(TagInt, index=0)
    assert serializer.dumps({"n": 1}) == '{"n":{" i":"1"}}'
    assert serializer.loads('{"n":{" i":"1"}}') == {"n": 1}


def test_loads_handles_what_json_loads_handles() -> None:
    serializer = TaggedJSONSerializer()
    assert serializer.loads(' {"a": 1} ') == {"a": 1}
    assert serializer.loads(b'{"a": {" t": [1]}}') == {"a": (1,)}
    with pytest.raises(ValueError, match="Extra data"):
        serializer.loads('{"a": 1} x')
    with pytest.raises(ValueError):
        serializer.loads('\ufeff{"a": 1}')


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        datetime(2024, 5, 6, 7, 8, 9),
        datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1, 1, 1, tzinfo=UTC),
        date(2000, 2, 29),
        0,
        1_750_000_000.75,
    ],
)
def test_http_date_is_email_utils_format(value: Any) -> None:
    if isinstance(value, int | float):
        expected = datetime.fromtimestamp(value, UTC)
    elif not isinstance(value, datetime):
        expected = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        expected = value if value.tzinfo else value.replace(tzinfo=UTC)
    assert http_date(value) == format_datetime(expected.astimezone(UTC), usegmt=True)


@given(st.text(alphabet='ab=; "\\\t,é', max_size=40), st.sampled_from(["a", "b", "ab", "é"]))
def test_cookie_value_is_parse_cookie_get(header: str, name: str) -> None:
    assert cookie_value(header, name) == parse_cookie(header).get(name)
    raw = header.encode("utf-8")
    assert cookie_value(raw, name) == parse_cookie(raw).get(name)


@pytest.mark.parametrize(
    "header",
    [
        "session=abc",
        " session = abc ",
        'session="a\\"b"',
        'session="abc',
        "session",
        "sessions=abc",
        "x=session",
        "=session",
        "session=",
        "session==a=b",
        "a=1; session=abc; session=def",
        "session=abc, session=def",
    ],
)
def test_cookie_value_of_a_header_with_one_pair_or_more(header: str) -> None:
    # One pair is read without splitting the header: the same answer as parse_cookie's.
    assert cookie_value(header, "session") == parse_cookie(header).get("session")
    assert cookie_value(header.encode(), "session") == parse_cookie(header.encode()).get("session")


def test_apps_sharing_the_default_interface_keep_their_keys(
    make_client: Any,
) -> None:
    apps = [Kettle(f"app{i}") for i in range(3)]
    clients = []
    for i, app in enumerate(apps):
        app.config.update(TESTING=True, SECRET_KEY=f"key {i}")
        _routes(app)
        clients.append(make_client(app))
    assert len({id(app.session_interface) for app in apps}) == 1
    for client in clients:
        client.get("/write/small")
    for _ in range(2):
        for client in clients:
            assert client.get("/peek").text == "7"
    stolen = clients[0].get_cookie("session")
    assert stolen is not None
    clients[1].set_cookie("session", stolen.value)
    assert clients[1].get("/peek").text == "None"


def test_signing_serializer_set_on_the_instance_is_called(
    app: Kettle, client: KettleClient
) -> None:
    interface = SecureCookieSessionInterface()
    interface.get_signing_serializer = lambda app: URLSafeTimedSerializer(  # type: ignore[method-assign]
        app.secret_key, salt="instance"
    )
    app.session_interface = interface
    _routes(app)
    value = client.get("/write/small").headers["Set-Cookie"].split(";", 1)[0][len("session=") :]
    assert URLSafeTimedSerializer("test key", salt="instance").loads(value) == {"n": 7}


def test_untouched_permanent_refresh_resigns_the_same_payload(
    app: Kettle, client: KettleClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session.update(BIG)
        return ""

    @app.route("/untouched")
    def untouched() -> str:
        return ""

    _routes(app)
    monkeypatch.setattr(time, "time", lambda: NOW)
    first = client.get("/login").headers["Set-Cookie"].split(";", 1)[0][len("session=") :]
    monkeypatch.setattr(time, "time", lambda: NOW + 100)
    rv = client.get("/untouched")
    again = rv.headers["Set-Cookie"].split(";", 1)[0][len("session=") :]
    assert rv.headers["Vary"] == "Cookie"
    assert again != first  # stamped anew ...
    assert again.rsplit(".", 2)[0] == first.rsplit(".", 2)[0]  # ... the same payload
    flask_app = _flask_app()
    assert again == _flask_cookie(flask_app, {**BIG, "_permanent": True})
    flask_client = flask_app.test_client()
    flask_client.set_cookie("session", again)
    assert flask_client.get("/read").text == repr(sorted({**BIG, "_permanent": True}.items()))


def test_refresh_after_a_read_serializes_what_the_view_left(
    app: Kettle, client: KettleClient
) -> None:
    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["items"] = [1]
        return ""

    @app.route("/append")
    def append() -> str:
        session["items"].append(2)  # a change the session cannot see: Flask saves it too
        return ""

    @app.route("/items")
    def items() -> str:
        return repr(session["items"])

    client.get("/login")
    client.get("/append")
    assert client.get("/items").text == "[1, 2]"
