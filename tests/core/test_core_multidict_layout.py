"""ImmutableMultiDict's own layout (first values in the dict), read side by side with Werkzeug.

The dict of an ImmutableMultiDict holds each key's first value and keeps the
value lists of repeated keys aside; every read must still give what
Werkzeug's gives, however the dict was built (constructor, the query and
form parser, pickling, copies).
"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any
from urllib.parse import parse_qsl as stdlib_parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import datastructures as wz

from kettle import Kettle, request
from kettle.http.datastructures import CombinedMultiDict, ImmutableMultiDict, MultiDict
from kettle.http.exceptions import BadRequestKeyError
from kettle.http.urls import parse_qsl
from kettle.http.urls import query_multidict as short_query_multidict
from kettle.testing import KettleClient

KEYS = st.sampled_from(["a", "b", "c", "", "é", "1"])
VALUES = st.sampled_from(["1", "2", "", "x y", "7", "é"])
PAIRS = st.lists(st.tuples(KEYS, VALUES), max_size=12)
READS = st.lists(
    st.tuples(
        st.sampled_from(
            ["item", "get", "get_default", "get_int", "getlist", "getlist_int", "contains"]
        ),
        KEYS,
    ),
    max_size=20,
)


def _read(md: Any, op: str, key: str) -> Any:
    try:
        if op == "item":
            return md[key]
        if op == "get":
            return md.get(key)
        if op == "get_default":
            return md.get(key, "d")
        if op == "get_int":
            return md.get(key, -1, type=int)
        if op == "getlist":
            values = md.getlist(key)
            values.append("not stored")  # A fresh list: the dict does not change.
            return values
        if op == "getlist_int":
            return md.getlist(key, type=int)
        return key in md
    except KeyError as error:
        return ("KeyError", type(error).__name__, getattr(error, "code", None))


def _whole(md: Any) -> Any:
    return (
        list(md.items()),
        list(md.items(multi=True)),
        list(md.keys()),
        list(md.values()),
        list(md.lists()),
        list(md.listvalues()),
        md.to_dict(),
        md.to_dict(flat=False),
        dict(md),
        len(md),
        bool(md),
        list(md),
        json.dumps(md),
    )


def _same(ours: Any, theirs: Any, reads: list[tuple[str, str]]) -> None:
    for op, key in reads:
        mine, werkzeug = _read(ours, op, key), _read(theirs, op, key)
        if isinstance(mine, tuple):  # Both raise a 400 KeyError (each its own class).
            assert mine[0] == werkzeug[0] == "KeyError" and mine[2] == werkzeug[2] == 400
        else:
            assert mine == werkzeug, (op, key)
    assert _whole(ours) == _whole(theirs)
    assert repr(ours) == repr(theirs)
    assert ours == MultiDict(list(theirs.items(multi=True)))
    assert ours == theirs.to_dict(flat=False)
    assert (ours != theirs.to_dict(flat=False)) is False


@settings(max_examples=150, deadline=None)
@given(pairs=PAIRS, reads=READS)
def test_reads_match_werkzeug_whatever_the_pairs(
    pairs: list[tuple[str, str]], reads: list[tuple[str, str]]
) -> None:
    ours, theirs = ImmutableMultiDict(pairs), wz.ImmutableMultiDict(pairs)
    _same(ours, theirs, reads)
    for restored in (
        pickle.loads(pickle.dumps(ours)),
        copy.deepcopy(ours),
        copy.copy(ours),
        ImmutableMultiDict(ours),
        ImmutableMultiDict(ours.to_dict(flat=False)),
    ):
        assert type(restored) is ImmutableMultiDict
        _same(restored, theirs, reads)
    mutable = ours.copy()
    assert type(mutable) is MultiDict
    _same(mutable, wz.MultiDict(pairs), reads)
    assert hash(ours) == hash(ImmutableMultiDict(pairs))


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(
        st.sampled_from(["a=1", "a=2", "b=", "b", "", "=v", "c=x+y", "a=b=c", "é=ü", "d=3"]),
        max_size=12,
    ),
    reads=READS,
)
def test_the_parser_builds_what_werkzeug_decodes(
    chunks: list[str], reads: list[tuple[str, str]]
) -> None:
    query = "&".join(chunks).encode()
    ours = short_query_multidict(query)
    assert ours is not None
    # What Werkzeug's request.args does: the standard library's parse, blank values kept.
    theirs = wz.ImmutableMultiDict(stdlib_parse_qsl(query.decode(), keep_blank_values=True))
    _same(ours, theirs, reads)
    assert ours == ImmutableMultiDict(parse_qsl(query))


def test_equality_compares_every_value() -> None:
    one = ImmutableMultiDict([("a", "1"), ("a", "2")])
    assert one == ImmutableMultiDict([("a", "1"), ("a", "2")])
    assert one != ImmutableMultiDict([("a", "1")])
    assert one != ImmutableMultiDict([("a", "1"), ("a", "3")])
    assert one == MultiDict([("a", "1"), ("a", "2")])
    assert MultiDict([("a", "1"), ("a", "2")]) == one
    assert one == {"a": ["1", "2"]}
    assert one != {"a": "1"}
    assert one == CombinedMultiDict([one])
    assert ImmutableMultiDict() == {}
    assert one != 5


def test_in_place_union_is_refused_like_werkzeug() -> None:
    ours, theirs = ImmutableMultiDict([("a", "1")]), wz.ImmutableMultiDict([("a", "1")])
    with pytest.raises(TypeError):
        theirs |= {"a": "2"}
    with pytest.raises(TypeError):
        ours |= {"a": "2"}
    assert ours["a"] == "1" and ours.getlist("a") == ["1"]


def test_subclasses_keep_their_getitem() -> None:
    class Upper(ImmutableMultiDict[str, str]):
        def __getitem__(self, key: str) -> str:
            return str(super().__getitem__(key)).upper()

    class Plain(ImmutableMultiDict[str, str]):
        pass

    upper = Upper([("a", "x"), ("a", "y")])
    assert upper["a"] == "X" and upper.get("a") == "X" and upper.get("b", "d") == "d"
    assert upper.getlist("a") == ["x", "y"]
    with pytest.raises(BadRequestKeyError):
        upper["b"]
    assert Plain([("a", "x")])["a"] == "x" and Plain([("a", "x")]).get("a") == "x"


@pytest.mark.parametrize("base", [MultiDict, ImmutableMultiDict])
def test_getitem_assigned_on_the_class_later_is_what_get_reads(base: type) -> None:
    class Later(base):  # type: ignore[misc,valid-type]
        pass

    assert Later([("a", "x")]).get("a") == "x"
    Later.__getitem__ = lambda self, key: "later"
    assert Later([("a", "x")]).get("a") == "later"
    assert Later([("a", "x")]).get("b") == "later"
    del Later.__getitem__
    assert Later([("a", "x")]).get("a") == "x" and Later([("a", "x")]).get("b") is None


def test_a_missing_key_is_a_400_in_a_view(app: Kettle, client: KettleClient) -> None:
    @app.route("/args")
    def args() -> str:
        return request.args["missing"]

    @app.post("/form")
    def form() -> str:
        return request.form["missing"]

    @app.post("/found")
    def found() -> str:
        values = request.form
        return ",".join(values[key] for key in ("a", "b")) + "|" + request.args["q"]

    assert client.get("/args?a=1").status_code == 400
    response = client.post("/form", data={"a": "1"})
    assert response.status_code == 400
    response = client.post("/found?q=z", data="a=1&b=2&a=3", content_type=_FORM)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1,2|z"


_FORM = "application/x-www-form-urlencoded"
