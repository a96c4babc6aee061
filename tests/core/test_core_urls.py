"""Query strings and percent-decoding: hostile input yields values, never errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder as WEnvironBuilder
from werkzeug.wrappers import Request as WRequest

from kettle.http.request import Request
from kettle.http.urls import decode_wsgi_path, encode_query, parse_qsl, url_quote, url_unquote


def werkzeug_args(raw: bytes) -> list[tuple[str, str]]:
    """What ``request.args`` holds in Werkzeug for the same raw query bytes.

    Werkzeug raises UnicodeDecodeError (a 500) for raw non-UTF-8 bytes in the
    query; Kettle treats them as their ``%XX`` escapes, so the oracle is fed
    the escaped form, which Werkzeug handles.
    """
    raw = re.sub(rb"[\x80-\xff]", lambda m: b"%%%02X" % m[0][0], raw)
    environ = WEnvironBuilder(path="/").get_environ()
    environ["QUERY_STRING"] = raw.decode("latin-1")
    return list(WRequest(environ).args.items(multi=True))


def kettle_args(raw: bytes) -> list[tuple[str, str]]:
    return list(Request("GET", "/", query_string=raw).args.items(multi=True))


@pytest.mark.parametrize(
    "raw",
    [
        b"name=apple",
        b"a=1&a=2&b=",
        b"a=1;b=2",
        b"q=hello+world&x=%2B",
        b"bad=%zz&worse=%&tail=%4",
        b"utf8=%E4%BD%A0%E5%A5%BD",
        b"broken=%ff%fe&half=%E4%BD",
        b"=novalue&nokey=&&&",
        b"raw=\xe4\xbd\xa0",
        b"rawbad=\xff\xc3(",
        b"key%3Dwith=eq%26amp",
    ],
)
def test_query_parsing_matches_werkzeug(raw: bytes) -> None:
    assert kettle_args(raw) == werkzeug_args(raw)


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_parse_qsl_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    pairs = parse_qsl(raw)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)


@given(st.lists(st.sampled_from([b"a", b"=", b"&", b"%", b"%2", b"%41", b"%ff", b"+", b"\xc3", b"\xa9", b";"]), max_size=30))
@settings(max_examples=300, deadline=None)
def test_query_parsing_matches_werkzeug_on_tricky_alphabet(parts: list[bytes]) -> None:
    raw = b"".join(parts)
    assert kettle_args(raw) == werkzeug_args(raw)


@given(st.one_of(st.binary(max_size=200), st.text(max_size=100)))
@settings(max_examples=300, deadline=None)
def test_url_unquote_never_raises(value: bytes | str) -> None:
    assert isinstance(url_unquote(value), str)


def test_url_unquote_keeps_bad_escapes_and_replaces_bad_utf8() -> None:
    assert url_unquote("%zz%4") == "%zz%4"
    assert url_unquote(b"%ff") == "\ufffd"
    assert url_unquote("%E4%BD%A0") == "你"
    assert url_unquote("a+b") == "a+b"  # Only query components turn "+" into a space.


def test_invalid_utf8_stays_escaped_as_in_werkzeug() -> None:
    assert parse_qsl(b"a=%ff%41&b=\xc3") == [("a", "%FFA"), ("b", "%C3")]


def test_max_fields_is_enforced() -> None:
    assert len(parse_qsl(b"a=1&b=2", max_fields=2)) == 2
    with pytest.raises(ValueError):
        parse_qsl(b"a=1&b=2&c=3", max_fields=2)


def test_decode_wsgi_path_turns_latin1_bytes_into_utf8() -> None:
    assert decode_wsgi_path("/caf\xc3\xa9") == "/café"
    assert decode_wsgi_path("/bad\xff") == "/bad\ufffd"
    assert decode_wsgi_path("/plain") == "/plain"


def test_encode_query_and_quote_round_trip() -> None:
    query = encode_query({"a": ["1", "2"], "b": "x y", "c": None, "d": "你"})
    assert query == "a=1&a=2&b=x%20y&d=%E4%BD%A0"
    assert parse_qsl(query.encode()) == [("a", "1"), ("a", "2"), ("b", "x y"), ("d", "你")]
    assert url_quote("/a b/ü") == "/a%20b/%C3%BC"
