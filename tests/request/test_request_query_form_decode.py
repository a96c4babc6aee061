"""``request.args`` and a urlencoded ``request.form`` decode as Werkzeug's, limits included.

Both end in ``kettle.http.urls.query_multidict`` (one loop for a short input
without escapes, ``iter_qsl`` for the others, the form limits checked there):
each input below goes through both paths of it, under WSGI and ASGI, and is
compared with what Werkzeug's request gives for the same environ.
"""

from __future__ import annotations

import asyncio
import io
import json
import string
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from werkzeug.test import EnvironBuilder as WerkzeugBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from kettle import Kettle, Request, request
from kettle.http.formparser import FormDataParser
from kettle.testing import KettleClient
from raw_asgi import asgi_request

FORM = "application/x-www-form-urlencoded"
_ASCII = string.punctuation + " "

INPUTS = [
    b"a=1&b=2",  # ASCII
    "name=Grey+Li+李&city=Zürich".encode(),  # non-ASCII UTF-8, "+" as a space
    b"q=hello+world&plus=%2B&amp=%26&eq=%3D",  # "+" and %XX escapes of the separators
    b"d=%zz%41&e=%4",  # bad escapes stay
    b"bad=\xff\xfe&esc=%FF&half=%C3",  # bad UTF-8, raw and escaped: kept as %XX
    b"raw=\xff\xfe&k\xe2=v\xe2\x82&ok=\xc3\xa9+\xc3",  # bad UTF-8 without a "%": the short path
    "mixed=é%E9".encode(),  # valid UTF-8 beside an escaped latin-1 byte
    b"=v&k=&flag&&&=",  # empty keys and values, empty chunks
    b"tag=a&tag=b&page=2&tag=c&page=3",  # repeated keys
    b"a=b=c&%3D=x",  # "=" in a value, an escaped "=" in a key
    b"",
]


def _pairs(multidict: Any) -> list[list[str]]:
    return [[key, value] for key, value in multidict.items(multi=True)]


def _werkzeug(query: bytes, body: bytes) -> dict[str, Any]:
    # A raw byte that is not UTF-8 makes Werkzeug's ``args`` raise UnicodeDecodeError
    # (its ``query_string.decode()`` is strict) and its form empty (the parser drops the
    # error); Kettle keeps it as %XX, which is what Werkzeug gives for the byte escaped:
    # Werkzeug is asked with the non-ASCII bytes escaped (UTF-8 ones decode the same).
    escaped = quote_from_bytes(body, safe=_ASCII)
    environ = WerkzeugBuilder(method="POST", data=escaped, content_type=FORM).get_environ()
    environ["QUERY_STRING"] = quote_from_bytes(query, safe=_ASCII)
    theirs = WerkzeugRequest(environ)
    theirs.max_form_parts = 100_000
    return {"args": _pairs(theirs.args), "form": _pairs(theirs.form)}


def _echo(app: Kettle) -> None:
    @app.post("/echo")
    def echo() -> Any:
        return {"args": _pairs(request.args), "form": _pairs(request.form)}


@pytest.mark.parametrize("raw", INPUTS)
def test_args_and_form_are_werkzeugs(app: Kettle, client: KettleClient, raw: bytes) -> None:
    _echo(app)
    response = client.post("/echo", query_string=raw, data=raw, content_type=FORM)
    assert response.status_code == 200
    assert response.json == _werkzeug(raw, raw)


@pytest.mark.parametrize("raw", INPUTS)
def test_a_long_body_and_query_decode_the_same(
    app: Kettle, client: KettleClient, raw: bytes
) -> None:
    # Past 64 KiB the input is parsed as a stream (no one loop): the same pairs.
    long = raw + b"&" + b"&".join(b"f%d=%d" % (i, i) for i in range(9000))
    assert len(long) > 64 * 1024
    _echo(app)
    app.config["MAX_FORM_PARTS"] = None
    response = client.post("/echo", query_string=long, data=long, content_type=FORM)
    assert response.status_code == 200
    assert response.json == _werkzeug(long, long)


@pytest.mark.parametrize("escaped", [False, True])
def test_form_field_limit_at_its_edge(app: Kettle, client: KettleClient, escaped: bool) -> None:
    _echo(app)
    app.config["MAX_FORM_PARTS"] = 3
    value = "x%41" if escaped else "x"
    three = "&".join(f"f{i}={value}" for i in range(3))
    response = client.post("/echo", data=three, content_type=FORM)
    assert response.status_code == 200
    assert [key for key, _ in response.json["form"]] == ["f0", "f1", "f2"]
    # Empty chunks are not fields (as Werkzeug counts them).
    assert client.post("/echo", data=three + "&&", content_type=FORM).status_code == 200
    response = client.post("/echo", data=three + f"&f3={value}", content_type=FORM)
    assert response.status_code == 413
    assert "too many fields" in response.get_data(as_text=True)


@pytest.mark.parametrize("escaped", [False, True])
def test_form_memory_and_content_limits(app: Kettle, client: KettleClient, escaped: bool) -> None:
    _echo(app)
    body = "a=%41%41" if escaped else "a=123456"  # 8 bytes either way
    app.config["MAX_FORM_MEMORY_SIZE"] = 8
    assert client.post("/echo", data=body, content_type=FORM).status_code == 200
    app.config["MAX_FORM_MEMORY_SIZE"] = 7
    assert client.post("/echo", data=body, content_type=FORM).status_code == 413
    app.config.update(MAX_FORM_MEMORY_SIZE=500_000, MAX_CONTENT_LENGTH=7)
    assert client.post("/echo", data=body, content_type=FORM).status_code == 413
    app.config["MAX_CONTENT_LENGTH"] = 8
    assert client.post("/echo", data=body, content_type=FORM).status_code == 200


def test_a_long_form_past_the_field_limit(app: Kettle, client: KettleClient) -> None:
    _echo(app)
    app.config["MAX_FORM_PARTS"] = 1000
    body = "&".join(f"f{i}=v" for i in range(12000))  # past 64 KiB: parsed as a stream
    assert client.post("/echo", data=body, content_type=FORM).status_code == 413


def test_the_query_has_no_field_limit(app: Kettle, client: KettleClient) -> None:
    _echo(app)
    app.config["MAX_FORM_PARTS"] = 3
    query = "&".join(f"f{i}=v" for i in range(50))
    response = client.post("/echo", query_string=query)
    assert response.status_code == 200
    assert len(response.json["args"]) == 50


def test_a_class_with_its_own_form_hooks_reads_the_body_once(
    app: Kettle, client: KettleClient
) -> None:
    # Such a class goes through its parser, which reads ``request.stream``.
    class OwnParser(Request):
        def make_form_data_parser(self) -> FormDataParser:
            return FormDataParser(max_form_memory_size=self.max_form_memory_size, max_form_parts=4)

    app.request_class = OwnParser

    @app.post("/form")
    def form() -> Any:
        return {
            "form": _pairs(request.form),
            "data": request.get_data(as_text=True),
            "stream": request.stream.read().decode(),
        }

    body = b"a=1&a=%41&b=x+y&c=\xff"
    response = client.post("/form", data=body, content_type=FORM)
    assert response.json == {
        "form": _werkzeug(b"", body)["form"],
        "data": "",
        "stream": "",
    }
    response = client.post("/form", data="a=1&b=2&c=3&d=4&e=5", content_type=FORM)
    assert response.status_code == 413


def _asgi_post(app: Kettle, headers: list[tuple[bytes, bytes]], body: bytes) -> dict[str, Any]:
    status, _, answer = asyncio.run(asgi_request(app, "/kind", b"", headers, "POST", body))
    assert status == 200
    return json.loads(answer)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ([FORM], {"kind": FORM, "mimetype": FORM, "form": [["a", "1"], ["b", "x y"]]}),
        ([f"{FORM}; charset=UTF-8"], {"kind": f"{FORM}; charset=UTF-8", "mimetype": FORM}),
        (["text/plain", FORM], {"kind": "text/plain", "mimetype": "text/plain", "form": []}),
        ([FORM, "text/plain"], {"kind": FORM, "mimetype": FORM}),
        ([], {"kind": None, "mimetype": "", "form": []}),
    ],
)
def test_the_content_type_the_asgi_adapter_read(
    app: Kettle, kinds: list[str], expected: dict[str, Any]
) -> None:
    # The adapter hands the first Content-Type field to the request; what the view reads
    # (``content_type``, ``mimetype``, the form) is what a scan of the scope gives.
    @app.post("/kind")
    def kind() -> Any:
        return {
            "kind": request.content_type,
            "mimetype": request.mimetype,
            "form": _pairs(request.form),
        }

    body = b"a=1&b=x+y"
    headers = [(b"content-type", each.encode()) for each in kinds]
    headers.append((b"content-length", str(len(body)).encode()))
    expected.setdefault("form", [["a", "1"], ["b", "x y"]])
    assert _asgi_post(app, headers, body) == expected


def test_a_scope_set_by_hand_is_read(app: Kettle) -> None:
    built = Request("POST", "/", stream=io.BytesIO(b"a=1&b=2"))
    built.scope = {
        "type": "http",
        "headers": [(b"content-type", FORM.encode()), (b"content-length", b"7")],
    }
    with app.app_context():
        assert built.content_type == FORM
        assert built.form.to_dict() == {"a": "1", "b": "2"}


@pytest.mark.parametrize(
    ("limit", "value", "body", "status"),
    [
        ("max_content_length", 5, "a=123", 200),
        ("max_content_length", 4, "a=123", 413),
        ("max_form_memory_size", 5, "a=123", 200),
        ("max_form_memory_size", 4, "a=123", 413),
        ("max_form_parts", 2, "a=1&b=2", 200),
        ("max_form_parts", 1, "a=1&b=2", 413),
        ("max_form_parts", None, "a=1&b=2&c=3", 200),  # set, then back to the config's
    ],
)
def test_each_limit_set_per_request(
    app: Kettle, client: KettleClient, limit: str, value: int | None, body: str, status: int
) -> None:
    app.config.update(MAX_CONTENT_LENGTH=100, MAX_FORM_MEMORY_SIZE=100, MAX_FORM_PARTS=3)
    _echo(app)

    @app.before_request
    def set_limit() -> None:
        setattr(request, limit, 1)
        setattr(request, limit, value)

    assert client.post("/echo", data=body, content_type=FORM).status_code == status
    # The next request has the config's limits until its hook sets one.
    app.before_request_funcs[None].clear()
    assert client.post("/echo", data="a=1&b=2&c=3", content_type=FORM).status_code == 200
