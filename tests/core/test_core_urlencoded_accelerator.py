"""The C parse of urlencoded data (``kettle.http._urlencoded``) gives what the Python one does.

``query_multidict`` (``request.args``, a urlencoded ``request.form``) takes
the optional C accelerator when it is built and ``_pure_multidict``
otherwise; both must give the same ImmutableMultiDict, the same 413s and
the same escapes kept for bytes that are not UTF-8, on any input. The
module's ``QueryArgs`` is ``Request.args`` when built: it must give what the
Python ``Args`` gives, and leave to it every request it does not handle.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kettle import Kettle, request
from kettle.http import _request_params, urls
from kettle.http.datastructures import ImmutableMultiDict, MultiDict
from kettle.http.exceptions import RequestEntityTooLarge
from kettle.http.request import Request
from kettle.testing import KettleClient

BUILT = urls._fill_multidict is not None
needs_built = pytest.mark.skipif(
    not BUILT and not os.environ.get("CI"), reason="the C accelerator is not built here"
)

#: Pieces that meet every branch of both parsers: separators, escapes good and bad,
#: UTF-8 whole and cut, bytes that are never UTF-8.
TRICKY = [
    b"a", b"b", b"=", b"&", b"+", b"%", b"%2", b"%41", b"%2B", b"%26", b"%3D", b"%ff",
    b"%E4%BD%A0", b"%c3", b"\xc3", b"\xa9", b"\xe4\xbd\xa0", b"\xff", b";", b"%zz", b"\x00",
]  # fmt: skip


def outcome(parse: Callable[[], ImmutableMultiDict[str, str]]) -> Any:
    """What a caller sees: every pair in order and the lists, or the 413's description."""
    try:
        result = parse()
    except RequestEntityTooLarge as error:
        return ("413", error.description)
    assert type(result) is ImmutableMultiDict
    return (list(result.items(multi=True)), dict(result.lists()), result.to_dict())


def both(query: bytes, max_fields: int | None = None) -> tuple[Any, Any]:
    """The outcome of ``query_multidict`` and of the pure-Python parse for ``query``."""
    return (
        outcome(lambda: urls.query_multidict(query, max_fields)),
        outcome(lambda: urls._pure_multidict(query, max_fields)),
    )


@needs_built
@pytest.mark.parametrize(
    "query",
    [
        b"", b"&", b"&&&", b"=", b"a", b"a=", b"=b", b"a=b=c", b"a=1&a=2&b=&a=3", b"tag=a&tag=b",
        b"q=hello+world&x=%2B", b"bad=%zz&worse=%&tail=%4", b"k%3Dk=v%26v", b"utf8=%E4%BD%A0",
        b"broken=%ff%fe&half=%E4%BD", b"raw=\xe4\xbd\xa0", b"rawbad=\xff\xc3(", b"a=1;b=2",
        b"nul=\x00&%00=x", b"a&&b&&", b"+=+&++=%20",
    ],
)  # fmt: skip
def test_same_result_as_python(query: bytes) -> None:
    accelerated, pure = both(query)
    assert accelerated == pure


@needs_built
@given(st.lists(st.sampled_from(TRICKY), max_size=40), st.none() | st.integers(0, 6))
@settings(max_examples=400, deadline=None)
def test_same_result_as_python_on_tricky_input(parts: list[bytes], max_fields: int | None) -> None:
    accelerated, pure = both(b"".join(parts), max_fields)
    assert accelerated == pure


@needs_built
@given(st.binary(max_size=300), st.none() | st.integers(0, 20))
@settings(max_examples=300, deadline=None)
def test_same_result_as_python_on_any_bytes(query: bytes, max_fields: int | None) -> None:
    accelerated, pure = both(query, max_fields)
    assert accelerated == pure


@needs_built
def test_field_limit_counts_empty_chunks_like_python() -> None:
    """Empty chunks are no fields but take an index; a non-empty one past the limit is a 413."""
    assert both(b"a=1&&&", 1) == both(b"a=1&&&", None)
    assert both(b"a=1&&b=2", 2)[0] == ("413", "The form has too many fields.")
    assert both(b"a=1&&b=2", 2)[0] == both(b"a=1&&b=2", 2)[1]


@needs_built
def test_long_hostile_inputs_are_parsed_whole_or_refused() -> None:
    """Past ``_SMALL_QUERY`` (where Python streams) the C parse gives the same dict."""
    many = b"&".join(b"k%d=%%41%d" % (i % 50, i) for i in range(40_000))
    accelerated, pure = both(many)
    assert accelerated == pure
    assert accelerated[1]["k7"][:2] == ["A7", "A57"]
    assert both(many, 1000)[0] == ("413", "The form has too many fields.")
    escapes = b"a=" + b"%41" * 300_000
    result = urls.query_multidict(escapes)
    assert result["a"] == "A" * 300_000


@needs_built
def test_type_errors_are_clear() -> None:
    from kettle.http._urlencoded import fill_multidict

    with pytest.raises(TypeError):
        fill_multidict([], b"a=b", -1)
    with pytest.raises(TypeError):
        fill_multidict({}, "a=b", -1)  # type: ignore[arg-type]


def test_pure_python_can_be_asked_for() -> None:
    """``KETTLE_PURE_PYTHON=1`` leaves the C parse out (to measure, or to rule it out)."""
    code = (
        "from kettle.http import urls;"
        "print(urls._fill_multidict is None, list(urls.query_multidict(b'a=%41&a=b+c').lists()))"
    )
    env = dict(os.environ, KETTLE_PURE_PYTHON="1")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True [('a', ['A', 'b c'])]"


@pytest.fixture(params=["accelerated", "pure"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with the C parse (when built) and with the Python one."""
    if request.param == "pure":
        monkeypatch.setattr(urls, "_fill_multidict", None)
        monkeypatch.setattr(Request, "args", _request_params.Args())
    elif not BUILT and not os.environ.get("CI"):
        pytest.skip("the C accelerator is not built here")
    yield str(request.param)


def test_args_and_form_in_a_view(parser: str, app: Kettle, client: KettleClient) -> None:
    """What a view reads is the same under WSGI and ASGI, by either parse."""

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> dict[str, Any]:
        return {
            "args": request.args.to_dict(flat=False),
            "form": request.form.to_dict(flat=False),
            "first": request.form.get("tag"),
        }

    response = client.post(
        "/echo?q=hello+world&x=%E4%BD%A0&raw=%ff",
        data=b"tag=a&tag=b%26c&empty=&note=caf%C3%A9",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "args": {"q": ["hello world"], "x": ["\u4f60"], "raw": ["%FF"]},
        "form": {"tag": ["a", "b&c"], "empty": [""], "note": ["caf\u00e9"]},
        "first": "a",
    }


def test_too_many_fields_is_a_413(parser: str, app: Kettle, client: KettleClient) -> None:
    app.config["MAX_FORM_PARTS"] = 3

    @app.post("/form")
    def form() -> str:
        return ",".join(request.form)

    body = "application/x-www-form-urlencoded"
    assert client.post("/form", data=b"a=1&b=2&c=3&&", content_type=body).text == "a,b,c"
    refused = client.post("/form", data=b"a=1&b=2&c=3&d=4", content_type=body)
    assert refused.status_code == 413
    assert "too many fields" in refused.text


ARGS_BUILT = _request_params._QueryArgs is not None
needs_args_built = pytest.mark.skipif(
    not ARGS_BUILT and not os.environ.get("CI"), reason="the C accelerator is not built here"
)


def args_by(descriptor: Any, request: Request) -> Any:
    """``request.args`` through ``descriptor``: what a view sees, and whether it was kept."""
    result = descriptor.__get__(request, type(request))
    return outcome(lambda: result), vars(request).get("args") is result


@needs_args_built
def test_request_args_is_the_c_descriptor_and_reads_as_args_on_the_class() -> None:
    assert type(Request.__dict__["args"]).__name__ == "QueryArgs"
    assert isinstance(Request.args, _request_params.Args)


@needs_args_built
@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from([*TRICKY, b"page", b"tag", b"long-key-name"]), max_size=24))
def test_request_args_same_by_either_descriptor(parts: list[bytes]) -> None:
    query = b"".join(parts)
    c_args, python_args = Request.__dict__["args"], _request_params.Args()
    expected = args_by(python_args, Request("GET", "/", query_string=query))
    assert args_by(c_args, Request("GET", "/", query_string=query)) == expected
    assert args_by(c_args, Request("GET", "/", query_string=query)) == expected  # Keys known.


@needs_args_built
def test_request_args_leaves_other_requests_to_python() -> None:
    class Multi(Request):
        parameter_storage_class = MultiDict  # type: ignore[assignment]

    class Watched(Request):
        stored: list[str] = []

        def __setattr__(self, name: str, value: Any) -> None:
            self.stored.append(name)
            super().__setattr__(name, value)

    multi = Multi("GET", "/", query_string=b"a=1&a=2")
    assert type(multi.args) is MultiDict and multi.args.getlist("a") == ["1", "2"]
    watched = Watched("GET", "/", query_string=b"a=1")
    assert watched.args.to_dict() == {"a": "1"}
    assert "args" not in Watched.stored  # Kept in ``__dict__``, as cached_property does.
    assert not Request("GET", "/").args  # The class's default query string.
    raw = Request("GET", "/", query_string=b"k=%ff&k=\xff")
    assert raw.args.getlist("k") == ["%FF", "%FF"]  # Not UTF-8: the Python parse's escapes.


@needs_args_built
def test_the_table_of_keys_gives_each_key_its_own_text() -> None:
    """Many keys through the table's 64 slots, twice, in two orders: each is itself."""
    keys = [f"k{i:03d}" + "x" * (i % 30) for i in range(300)] + ["été", "a", "ab"]
    query = "&".join(f"{key}={i}" for i, key in enumerate(keys)).encode()
    shuffled = "&".join(f"{key}={i}" for i, key in reversed(list(enumerate(keys)))).encode()
    for data in (query, shuffled, query):
        args = Request("GET", "/", query_string=data).args
        assert list(args) == [key for key in args]
        assert sorted(args.items()) == sorted((key, str(i)) for i, key in enumerate(keys))


@needs_args_built
def test_class_version_changes_with_the_class_or_a_base() -> None:
    from kettle.http._urlencoded import class_version

    class Mixin:
        pass

    class Leaf(Mixin, Request):
        pass

    first = class_version(Leaf)
    assert first != 0 and class_version(Leaf) == first
    Mixin.extra = 1  # type: ignore[attr-defined]
    second = class_version(Leaf)
    assert second not in (0, first)
    del Mixin.extra  # type: ignore[attr-defined]
    assert class_version(Leaf) not in (first, second)  # Never reused.
    with pytest.raises(TypeError):
        class_version(Leaf("GET", "/"))  # type: ignore[arg-type]
