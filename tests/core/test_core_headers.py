"""Headers: case-insensitive, multi-valued, order-preserving, and injection-proof."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers as WHeaders

from kettle.http.exceptions import BadRequest, BadRequestKeyError
from kettle.http.headers import Headers

PAIRS = [("Content-Type", "text/plain"), ("X-Multi", "a"), ("Set-Cookie", "a=1"), ("x-multi", "b")]


def test_lookup_is_case_insensitive_and_first_value_wins() -> None:
    headers = Headers(PAIRS)
    assert headers["x-MULTI"] == "a"
    assert headers.get("CONTENT-TYPE") == "text/plain"
    assert "content-type" in headers
    assert "Missing" not in headers
    assert 1 not in headers  # type: ignore[operator]


def test_getlist_keeps_every_value_in_order() -> None:
    headers = Headers(PAIRS)
    assert headers.getlist("X-Multi") == ["a", "b"]
    assert headers.getlist("nothing") == []
    assert headers.getlist("x-multi") == WHeaders(PAIRS).getlist("x-multi")


def test_items_and_iteration_preserve_order_and_names() -> None:
    headers = Headers(PAIRS)
    assert list(headers) == PAIRS
    assert list(headers.items()) == list(WHeaders(PAIRS).items())
    assert next(iter(headers.items(lower=True))) == ("content-type", "text/plain")
    assert list(headers.keys()) == [name for name, _ in PAIRS]
    assert list(headers.values()) == [value for _, value in PAIRS]
    assert len(headers) == 4


def test_get_with_type_and_default() -> None:
    headers = Headers([("Content-Length", "42"), ("X-Bad", "nope")])
    assert headers.get("content-length", type=int) == 42
    assert headers.get("x-bad", -1, type=int) == -1
    assert headers.get("absent", "dflt") == "dflt"
    wz = WHeaders([("Content-Length", "42"), ("X-Bad", "nope")])
    assert wz.get("x-bad", -1, type=int) == headers.get("x-bad", -1, type=int)


def test_missing_key_is_a_bad_request_key_error() -> None:
    headers = Headers()
    with pytest.raises(KeyError):
        headers["X-Nope"]
    with pytest.raises(BadRequestKeyError) as info:
        headers["X-Nope"]
    assert isinstance(info.value, BadRequest)
    assert info.value.code == 400


def test_add_appends_and_set_replaces_in_place() -> None:
    headers = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    headers.add("C", "4")
    assert list(headers)[-1] == ("C", "4")
    headers.set("A", "x")
    assert list(headers) == [("A", "x"), ("B", "2"), ("C", "4")]
    headers["new"] = "n"
    assert headers["NEW"] == "n"
    wz = WHeaders([("A", "1"), ("B", "2"), ("a", "3")])
    wz.add("C", "4")
    wz.set("A", "x")
    assert list(wz.items()) == [("A", "x"), ("B", "2"), ("C", "4")]


def test_add_with_options_renders_parameters() -> None:
    headers = Headers()
    headers.add("Content-Disposition", "attachment", filename="a b.txt")
    expected = WHeaders()
    expected.add("Content-Disposition", "attachment", filename="a b.txt")
    assert headers["content-disposition"] == expected["content-disposition"]


def test_setdefault_and_remove() -> None:
    headers = Headers([("A", "1")])
    assert headers.setdefault("a", "2") == "1"
    assert headers.setdefault("B", "2") == "2"
    assert headers.getlist("b") == ["2"]
    headers.add("b", "3")
    headers.remove("B")
    assert "b" not in headers
    headers.remove("never-there")  # No error, as Werkzeug's remove.
    assert list(headers) == [("A", "1")]
    del headers["a"]
    assert len(headers) == 0


def test_update_replaces_by_name_and_extend_adds() -> None:
    headers = Headers([("A", "1"), ("B", "2")])
    headers.update({"a": "9"})
    assert headers.getlist("A") == ["9"]
    headers.extend({"B": ["3", "4"]})
    assert headers.getlist("b") == ["2", "3", "4"]


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\0b"])
def test_values_with_cr_lf_nul_are_refused(bad: str) -> None:
    headers = Headers()
    with pytest.raises(ValueError):
        headers.add("X-Test", bad)
    with pytest.raises(ValueError):
        headers.set("X-Test", bad)
    with pytest.raises(ValueError):
        headers["X-Test"] = bad
    with pytest.raises(ValueError):
        Headers([("X-Test", bad)])
    with pytest.raises(ValueError):
        headers.add(f"X{bad}", "v")
    assert list(headers) == []


def test_values_are_converted_to_str() -> None:
    headers = Headers()
    headers.set("Content-Length", 12)
    assert headers["content-length"] == "12"
    assert headers.to_wsgi_list() == [("Content-Length", "12")]


def test_copy_is_independent_and_equal() -> None:
    headers = Headers(PAIRS)
    other = headers.copy()
    assert other == headers
    other.add("X", "y")
    assert other != headers
    assert "X" not in headers
