"""Hypothesis properties for every parser of request headers (issue 13, "Done when").

Each parser (ETag lists, Range, If-Range, Accept-*, Host, Cookie,
Content-Type, Authorization) gets arbitrary text and must return a value or
raise a 4xx HTTPException, nothing else; through the app, any value of any
of these headers is a 200 or a 4xx under WSGI and ASGI. A 64 KB input of
each parser's worst shape must finish: the suite's per-test timeout
(pytest-timeout) catches a quadratic parser; nothing here measures time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kettle import Kettle, request
from kettle.http.accept import CharsetAccept, LanguageAccept, MIMEAccept
from kettle.http.auth import Authorization
from kettle.http.cookies import parse_cookie
from kettle.http.exceptions import HTTPException
from kettle.http.hosts import host_is_trusted, normalize_host, split_host
from kettle.http.preconditions import (
    ETags,
    IfRange,
    Range,
    parse_etags,
    parse_if_range,
    parse_range,
)
from kettle.http.request import split_mimetype
from kettle.testing import KettleClient

# What a server hands over: latin-1 text (any byte), weighted towards the
# characters these grammars care about.
SYNTAX = [*' \t,;=:"/\\*-.[]@?#%W w0123456789abcqQ²', *"٣".encode().decode("latin-1")]
header_text = st.one_of(
    st.text(st.sampled_from(SYNTAX), max_size=60),
    st.text(st.characters(max_codepoint=0xFF), max_size=60),
)


def _host_value(value: str) -> Any:
    return (split_host(value), normalize_host(value, "https"), host_is_trusted(value, [".a.b"]))


def _range_value(value: str) -> Any:
    parsed = parse_range(value)
    if parsed is not None:
        assert isinstance(parsed, Range)
        span = parsed.range_for_length(100)
        assert span is None or 0 <= span[0] < span[1] <= 100
        parsed.to_header()
    return parsed


def _etags_value(value: str) -> Any:
    tags = parse_etags(value)
    assert isinstance(tags, ETags)
    assert tags.contains_weak("a") or not tags.contains("a")
    assert isinstance(tags.to_header(), str)
    return tags


def _if_range_value(value: str) -> Any:
    parsed = parse_if_range(value)
    assert isinstance(parsed, IfRange)
    assert parsed.matches("a", None) in (True, False)
    return parsed


def _accept_value(value: str) -> Any:
    for cls in (MIMEAccept, LanguageAccept, CharsetAccept):
        accept = cls.parse(value)
        accept.best_match(["text/html", "en", "utf-8"])
        assert all(0.0 <= q <= 1.0 for _, q in accept)
    return accept


def _cookie_value(value: str) -> Any:
    return parse_cookie(value).to_dict()


def _content_type_value(value: str) -> Any:
    mimetype, params = split_mimetype(value)
    assert isinstance(mimetype, str) and isinstance(params, dict)
    return mimetype


def _authorization_value(value: str) -> Any:
    auth = Authorization.from_header(value)
    if auth is not None:
        assert auth.type == auth.type.lower()
        assert auth.token is not None or isinstance(auth.parameters, dict)
    return auth


PARSERS: dict[str, Callable[[str], Any]] = {
    "etags": _etags_value,
    "range": _range_value,
    "if-range": _if_range_value,
    "accept": _accept_value,
    "host": _host_value,
    "cookie": _cookie_value,
    "content-type": _content_type_value,
    "authorization": _authorization_value,
}


def _value_or_4xx(parse: Callable[[str], Any], value: str) -> None:
    try:
        parse(value)
    except HTTPException as error:
        assert error.code is not None and 400 <= error.code < 500


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=300, deadline=None)
@given(value=header_text)
def test_arbitrary_input_gives_a_value_or_a_4xx(name: str, value: str) -> None:
    _value_or_4xx(PARSERS[name], value)


# -- through the app, under WSGI and ASGI ------------------------------------------


def _reader_app() -> Kettle:
    app = Kettle("parsers")
    app.config["TESTING"] = True

    @app.get("/read")
    def read() -> Any:
        return {
            "if_match": request.if_match.to_header(),
            "if_none_match": request.if_none_match.to_header(),
            "range": repr(request.range),
            "if_range": repr(request.if_range),
            "accept": str(request.accept_mimetypes),
            "languages": str(request.accept_languages),
            "charsets": str(request.accept_charsets),
            "encodings": str(request.accept_encodings),
            "host": request.host,
            "cookies": request.cookies.to_dict(),
            "mimetype": request.mimetype,
            "params": request.mimetype_params,
            "auth": repr(request.authorization),
            "length": request.content_length,
        }

    return app


HEADERS = [
    "If-Match",
    "If-None-Match",
    "Range",
    "If-Range",
    "Accept",
    "Accept-Language",
    "Accept-Charset",
    "Accept-Encoding",
    "Host",
    "Cookie",
    "Content-Type",
    "Authorization",
]
printable_header = st.text(
    st.one_of(st.sampled_from(SYNTAX), st.characters(min_codepoint=0x20, max_codepoint=0xFF)),
    max_size=40,
).filter(lambda v: v.isprintable() and "\x7f" not in v)


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(HEADERS), value=printable_header)
def test_any_header_value_is_a_200_or_a_4xx(protocol: str, name: str, value: str) -> None:
    client = _reader_app().test_client(protocol=protocol)
    response = client.get(
        "/read", environ_overrides={"HTTP_" + name.upper().replace("-", "_"): value}
    )
    assert response.status_code == 200 or 400 <= response.status_code < 500


# -- 64 KB of each parser's worst shape --------------------------------------------

KB64 = 64 * 1024
WORST: dict[str, list[str]] = {
    "If-None-Match": [
        "," + " " * KB64 + ',"a"',
        '"' + "a" * KB64,
        "W/" * (KB64 // 2),
        '"a",' * (KB64 // 4),
        'w/"a" ' * (KB64 // 6),
        ", *" * (KB64 // 3),
    ],
    "Range": [
        "bytes=" + " " * KB64 + "0-1",
        "bytes=" + "0-1," * (KB64 // 4),
        "bytes=" + "9" * KB64 + "-",
        "bytes=0-" + "9" * KB64,
        "bytes=-" + "9" * KB64,
        "bytes=" + "-" * KB64,
        "=" * KB64,
    ],
    "If-Range": ['"' + "a" * KB64, "W/" * (KB64 // 2), "Sun, 06 Nov 1994 " * (KB64 // 17)],
    "Accept": [
        ";" * KB64,
        "text/html;q=" + "0" * KB64,
        "," * KB64,
        "text/html;" + "a=b;" * (KB64 // 4),
        "a/b;q=0.5," * (KB64 // 10),
    ],
    "Host": ["a" * KB64, "[" + ":" * KB64 + "]", "a." * (KB64 // 2), "a:" + "1" * KB64],
    "Cookie": [
        'a="' + "\\" * KB64 + '"',
        'a="' + "\\101" * (KB64 // 4) + '"',
        ";" * KB64,
        "a=b; " * (KB64 // 5),
        "=" * KB64,
    ],
    "Content-Type": ["text/plain" + "; a=b" * (KB64 // 5), ";" * KB64, "=" * KB64],
    "Authorization": [
        "Basic " + "A" * KB64,
        "Bearer " + "a=b," * (KB64 // 4),
        "Digest " + "=" * KB64,
        "Basic " + "=" * KB64,
        # Auth-params: unclosed quoted strings and escapes at every step.
        'Digest a="' + "\\a" * (KB64 // 2),
        "Digest " + 'a="' * (KB64 // 3),
        "Digest " + '"a",' * (KB64 // 4),
    ],
}


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name, values in WORST.items() for value in values],
    ids=[f"{name}-{index}" for name, values in WORST.items() for index in range(len(values))],
)
@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_64_kb_worst_shape_finishes(protocol: str, name: str, value: str) -> None:
    app = _reader_app()

    @app.get("/file")
    def file() -> Any:
        import io

        from kettle import send_file

        return send_file(io.BytesIO(b"x" * 100), mimetype="text/plain", etag="a")

    client: KettleClient = app.test_client(protocol=protocol)
    key = "HTTP_" + name.upper().replace("-", "_")
    for path in ("/read", "/file"):
        extra = {"HTTP_RANGE": "bytes=0-1"} if name == "If-Range" else {}
        response = client.get(path, environ_overrides={key: value, **extra})
        assert response.status_code in (200, 206, 304, 400, 412, 416), (path, response.status_code)
