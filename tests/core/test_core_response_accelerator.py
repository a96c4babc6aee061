"""The C ``text_response`` and ``prepare_send`` (``kettle.http._response``) answer as Python.

When built, ``kettle.http._fast_response.text_response`` is a C ``TextResponse``
and ``kettle.http.sending.prepare_send`` a C ``PrepareSend``; each keeps its
Python twin (``python_text_response``, ``python_prepare_send``, as
``__wrapped__``) and calls it for any case it does not answer itself. Here both
are given the same generated texts and responses, through views under WSGI and
ASGI, and the pure-Python switch is checked to bind the twins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from abc import abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kettle import Kettle
from kettle.http import _fast_response, sending
from kettle.http._fast_response import PLAIN_STATUS, python_text_response
from kettle.http.headers import LENGTH_VALUES, Headers
from kettle.http.response import _DEFAULT_TYPE_PAIR
from kettle.http.response import Response as HTTPResponse
from kettle.http.sending import python_prepare_send
from kettle.http.status import status_line
from kettle.testing import KettleClient
from kettle.wrappers import Response

BUILT = _fast_response._TextResponse is not None and sending._PrepareSend is not None
needs_built = pytest.mark.skipif(
    not BUILT and not os.environ.get("CI"), reason="the C accelerator is not built here"
)
#: The bound objects, untyped: the C ones when built (their types make spied copies).
TEXT_RESPONSE: Any = _fast_response.text_response
PREPARE_SEND: Any = sending.prepare_send


def outcome(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return ("value", call(*args, **kwargs))
    except Exception as error:
        return ("raised", type(error), str(error))


# -- text_response -------------------------------------------------------------------


class Plain(Response):
    pass


class Recording(Response):
    """Records each attribute stored on it: the C function must store them as Python does."""

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__.setdefault("stored", []).append(name)
        super().__setattr__(name, value)


TEXTS = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda text, count: text * count, st.text(min_size=1, max_size=4), st.integers(0, 3000)
    ),
    st.builds(lambda a, b: f"{a}\ud800{b}", st.text(max_size=5), st.text(max_size=5)),
    st.sampled_from(["", "café", "日本語", "x" * 4095, "é" * 2048, "x" * 4096, "\udcff"]),
)


def built_fields(cls: Any, build: Callable[[type, str], Any], text: str) -> Any:
    def fields() -> Any:
        response: Any = build(cls, text)
        assert type(response) is cls
        items = list(vars(response).items())
        assert type(response.headers) is Headers
        assert list(vars(response)) == [name for name, _ in items]
        return [(k, v if k != "headers" else v._list) for k, v in items]

    return outcome(fields)


@needs_built
def test_text_response_is_the_c_one_keeping_the_function() -> None:
    assert type(_fast_response.text_response).__name__ == "TextResponse"
    assert TEXT_RESPONSE.__wrapped__ is python_text_response
    assert type(sending.prepare_send).__name__ == "PrepareSend"
    assert PREPARE_SEND.__wrapped__ is python_prepare_send


@needs_built
@settings(max_examples=300, deadline=None)
@given(text=TEXTS, cls=st.sampled_from([Response, HTTPResponse, Plain, Recording]))
def test_text_response_builds_what_the_function_builds(text: str, cls: type) -> None:
    made = built_fields(cls, _fast_response.text_response, text)
    assert made == built_fields(cls, python_text_response, text)
    if "\ud800" not in text and "\udcff" not in text:
        data = text.encode()
        fields = dict(made[1])
        assert fields["response"] == [data]
        assert fields["headers"][1] == ("Content-Length", str(len(data)))


@needs_built
def test_text_response_stores_in_the_functions_order_and_raises_its_errors() -> None:
    c_made = _fast_response.text_response(Recording, "x")
    assert c_made.stored == [  # type: ignore[attr-defined]
        "headers", "_status_code", "_status", "direct_passthrough", "has_close_callbacks",
        "response",
    ]  # fmt: skip
    assert c_made.stored == python_text_response(Recording, "x").stored  # type: ignore[attr-defined]

    class Abstract(Response):
        @abstractmethod
        def missing(self) -> None: ...

    for cls, text in [(Abstract, "x"), (int, "x"), (dict, "x"), (1, "x"), (Response, b"x")]:
        c_error = outcome(_fast_response.text_response, cls, text)
        assert c_error[0] == "raised"
        assert c_error == outcome(python_text_response, cls, text)
    for args in [(), (Response,), (Response, "x", "y")]:
        assert outcome(_fast_response.text_response, *args)[:2] == (
            "raised",
            TypeError,
        )
    by_keyword = TEXT_RESPONSE(cls=Response, text="é")
    assert by_keyword.response == ["é".encode()]


@needs_built
def test_text_response_holds_no_extra_reference() -> None:
    length = LENGTH_VALUES[5]
    before = (sys.getrefcount(Plain), sys.getrefcount(length), sys.getrefcount(Headers))
    for _ in range(1000):
        _fast_response.text_response(Plain, "hello")
        with pytest.raises(UnicodeEncodeError):
            _fast_response.text_response(Plain, "\ud800")
    after = (sys.getrefcount(Plain), sys.getrefcount(length), sys.getrefcount(Headers))
    assert after == before


@needs_built
def test_text_response_falls_back_for_other_calls() -> None:
    calls: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return python_text_response(*args, **kwargs)

    made = type(TEXT_RESPONSE)(
        spy, Headers, _DEFAULT_TYPE_PAIR, "Content-Length",
        LENGTH_VALUES, 200, "200 OK",
    )  # fmt: skip
    made(Response, "text")
    assert calls == []

    class Text(str):
        pass

    made(Response, Text("text"))
    made(cls=Response, text="text")
    assert len(calls) == 2


# -- prepare_send --------------------------------------------------------------------


class OwnStatus(Response):
    @property  # type: ignore[misc]
    def status(self) -> str:
        return "299 MINE"


class Foreign:
    """A multidict from elsewhere (``own_headers`` converts it)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def items(self, multi: bool = False) -> list[tuple[str, str]]:
        return list(self.pairs)


LAYOUTS = {
    "last": [("Content-Type", "text/plain"), ("X-A", "1"), ("Content-Length", "3")],
    "second": [("Content-Type", "text/plain"), ("Content-Length", "3"), ("X-A", "1")],
    "first": [("Content-Length", "3"), ("X-A", "1"), ("Content-Type", "text/plain")],
    "lower": [("Content-Type", "text/plain"), ("content-length", "3"), ("X-A", "1")],
    "none": [("Content-Type", "text/plain"), ("X-A", "1")],
    "only": [("Content-Length", "3")],
    "empty": [],
}


def chunks() -> Iterator[bytes]:
    yield b"ab"
    yield b"c"


BODIES: dict[str, Callable[[], Any]] = {
    "bytes": lambda: [b"abc"],
    "str": lambda: ["abé"],
    "several": lambda: [b"a", b"bc"],
    "mixed": lambda: [b"a", "bé"],
    "empty": lambda: [],
    "generator": chunks,
    "tuple": lambda: (b"abc",),
}

CASES = st.fixed_dictionaries(
    {
        "cls": st.sampled_from([Response, HTTPResponse, Plain, OwnStatus]),
        "code": st.sampled_from([200, 201, 204, 304, 101, 404]),
        "method": st.sampled_from(["GET", "HEAD", "POST"]),
        "body": st.sampled_from(sorted(BODIES)),
        "layout": st.sampled_from(sorted(LAYOUTS)),
        "passthrough": st.sampled_from([False, True, None]),
        "foreign": st.booleans(),
        "as_code": st.sampled_from(["absent", False, True, "keyword", 1]),
    }
)


def build(case: dict[str, Any]) -> Any:
    response = case["cls"]("")
    response._status_code, response._status = case["code"], status_line(case["code"])
    response.response = BODIES[case["body"]]()
    pairs = list(LAYOUTS[case["layout"]])
    response.headers = Foreign(pairs) if case["foreign"] else Headers._trusted(pairs)
    if case["passthrough"] is not None:
        response.direct_passthrough = case["passthrough"]
    return response


def sent(prepare: Callable[..., Any], case: dict[str, Any]) -> Any:
    response = build(case)
    as_code = case["as_code"]
    if as_code == "absent":
        result = outcome(prepare, response, case["method"])
    elif as_code == "keyword":
        result = outcome(prepare, response, case["method"], as_code=True)
    else:
        result = outcome(prepare, response, case["method"], as_code)
    if result[0] != "value":
        return result
    status, headers, body = result[1]
    own = response.headers._list
    body_seen = (
        body if body is None or body.__class__ is list else ("iterable", body is response.response)
    )
    return (
        status,
        list(headers),
        headers is own,
        body_seen,
        body is response.response,
        list(own),
    )


@needs_built
@settings(max_examples=600, deadline=None)
@given(case=CASES)
def test_prepare_send_answers_as_the_function(case: dict[str, Any]) -> None:
    python_prepare_send(build(case), "GET")  # The class learned (PLAIN_STATUS) or not.
    assert sent(sending.prepare_send, case) == sent(python_prepare_send, case)


@needs_built
def test_prepare_send_falls_back_for_every_other_case() -> None:
    calls: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return python_prepare_send(*args, **kwargs)

    prepare = type(PREPARE_SEND)(spy, PLAIN_STATUS, Headers, "Content-Length", "HEAD")
    base = {"cls": Response, "code": 200, "method": "GET", "body": "bytes", "layout": "last"}
    base |= {"passthrough": None, "foreign": False, "as_code": "absent"}
    python_prepare_send(build(base), "GET")  # Learned: PLAIN_STATUS.
    for fast in [
        base,
        base | {"layout": "second"},
        base | {"code": 404, "as_code": True},
        base | {"as_code": "keyword", "code": 201},
        base | {"body": "several"},
        base | {"passthrough": False, "method": "POST"},
    ]:
        assert sent(prepare, fast) == sent(python_prepare_send, fast)
    assert calls == []
    slow = [
        base | {"method": "HEAD"},
        base | {"code": 204},
        base | {"code": 304},
        base | {"code": 101},
        base | {"body": "generator"},
        base | {"body": "tuple"},
        base | {"body": "str", "layout": "second"},
        base | {"layout": "none"},
        base | {"layout": "first"},
        base | {"foreign": True},
        base | {"passthrough": True},
        base | {"as_code": 1},
    ]
    for case in slow:
        assert sent(prepare, case) == sent(python_prepare_send, case)
    assert len(calls) == len(slow)
    response = build(base)
    response._status_code = True  # An int, not exactly: the function's.
    assert outcome(prepare, response, "GET") == outcome(python_prepare_send, response, "GET")
    prepare(response=build(base), method="GET")
    assert len(calls) == len(slow) + 2


@needs_built
def test_prepare_send_raises_the_functions_errors() -> None:
    class Broken(Response):
        @property
        def direct_passthrough(self) -> bool:
            raise RuntimeError("passthrough")

        @direct_passthrough.setter
        def direct_passthrough(self, value: bool) -> None:
            pass

    with pytest.raises(RuntimeError):
        python_prepare_send(Broken("x"), "GET")
    assert Broken in PLAIN_STATUS
    assert outcome(lambda: sending.prepare_send(Broken("x"), "GET")) == (
        "raised", RuntimeError, "passthrough",
    )  # fmt: skip
    response = Response("x")
    del response.headers
    assert outcome(sending.prepare_send, response, "GET") == outcome(
        python_prepare_send, response, "GET"
    )
    assert outcome(sending.prepare_send, object(), "GET")[:2] == ("raised", AttributeError)


@needs_built
def test_prepare_send_holds_no_extra_reference() -> None:
    response = Response("hello")
    sending.prepare_send(response, "GET")
    parts = (response.headers._list, response.response, response._status)
    before = [sys.getrefcount(part) for part in parts]
    for _ in range(1000):
        sending.prepare_send(response, "GET")
        sending.prepare_send(response, "GET", True)
    assert [sys.getrefcount(part) for part in parts] == before


# -- through the app ------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_views_send_the_same_under_both_protocols(protocol: str) -> None:
    app = Kettle(__name__)

    @app.route("/text")
    def text() -> str:
        return "hello"

    @app.route("/accented")
    def accented() -> str:
        return "café ☕"

    @app.route("/empty")
    def empty() -> Any:
        return "", 204

    @app.route("/hooked")
    def hooked() -> str:
        return "hooked"

    @app.after_request
    def vary(response: Any) -> Any:
        if response.response == [b"hooked"]:
            response.headers["Vary"] = "Cookie"
        return response

    client = KettleClient(app, protocol=protocol)
    response = client.get("/text")
    assert response.status_code == 200 and response.status == "200 OK"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Length"] == "5" and response.data == b"hello"

    response = client.get("/accented")
    body = "café ☕".encode()
    assert response.headers["Content-Length"] == str(len(body)) and response.data == body

    response = client.head("/accented")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["Content-Length"] == str(len(body))

    response = client.get("/empty")
    assert response.status_code == 204 and response.data == b""
    assert "Content-Length" not in response.headers

    response = client.get("/hooked")
    assert response.headers["Vary"] == "Cookie" and response.data == b"hooked"
    assert response.headers["Content-Length"] == "6"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_pure_python_binds_the_python_functions() -> None:
    env = dict(os.environ, KETTLE_PURE_PYTHON="1")
    check = (
        "from kettle.http import _fast_response as F, sending as S;"
        "print(F.text_response is F.python_text_response,"
        " S.prepare_send is S.python_prepare_send, F._TextResponse, S._PrepareSend)"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["True", "True", "None", "None"]
