"""The MultiDict family, checked side by side with Werkzeug's."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug import datastructures as wz
from werkzeug.exceptions import BadRequestKeyError as WBadRequestKeyError

from kettle.http.datastructures import CombinedMultiDict, ImmutableMultiDict, MultiDict
from kettle.http.exceptions import BadRequest, BadRequestKeyError

PAIRS = [("a", "1"), ("b", "2"), ("a", "3"), ("n", "x"), ("n", "7")]


def both(cls_name: str, data: Any = PAIRS) -> tuple[Any, Any]:
    kettle_cls = {"MultiDict": MultiDict, "ImmutableMultiDict": ImmutableMultiDict}[cls_name]
    return kettle_cls(data), getattr(wz, cls_name)(data)


@pytest.mark.parametrize("name", ["MultiDict", "ImmutableMultiDict"])
def test_reads_match_werkzeug(name: str) -> None:
    ours, theirs = both(name)
    assert ours["a"] == theirs["a"] == "1"
    assert ours.getlist("a") == theirs.getlist("a") == ["1", "3"]
    assert ours.getlist("missing") == theirs.getlist("missing") == []
    assert ours.getlist("n", type=int) == theirs.getlist("n", type=int) == [7]
    assert ours.get("missing") is theirs.get("missing") is None
    assert ours.get("missing", "d") == theirs.get("missing", "d") == "d"
    assert ours.get("a", type=int) == theirs.get("a", type=int) == 1
    assert ours.get("n", -1, type=int) == theirs.get("n", -1, type=int) == -1
    assert ours.to_dict() == theirs.to_dict() == {"a": "1", "b": "2", "n": "x"}
    assert ours.to_dict(flat=False) == theirs.to_dict(flat=False)
    assert list(ours.items()) == list(theirs.items())
    assert list(ours.items(multi=True)) == list(theirs.items(multi=True))
    assert list(ours.keys()) == list(theirs.keys())
    assert list(ours.values()) == list(theirs.values())
    assert list(ours.lists()) == list(theirs.lists())
    assert len(ours) == len(theirs) == 3
    assert ("a" in ours) == ("a" in theirs)


@pytest.mark.parametrize("name", ["MultiDict", "ImmutableMultiDict"])
def test_missing_key_raises_a_400_key_error_like_werkzeug(name: str) -> None:
    ours, theirs = both(name)
    with pytest.raises(WBadRequestKeyError):
        theirs["missing"]
    with pytest.raises(BadRequestKeyError) as info:
        ours["missing"]
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, BadRequest)
    assert info.value.code == 400
    # ``except KeyError`` keeps working, as in Flask apps.
    try:
        ours["missing"]
    except KeyError:
        pass


def test_multidict_writes_match_werkzeug() -> None:
    ours, theirs = both("MultiDict")
    for d in (ours, theirs):
        d.add("b", "4")
        d["c"] = "5"
        d.setlist("a", ["x", "y"])
        d.setdefault("z", "zz")
        d.update({"c": "6"})
    assert list(ours.items(multi=True)) == list(theirs.items(multi=True))
    assert ours.pop("a") == theirs.pop("a") == "x"
    assert ours.poplist("b") == theirs.poplist("b") == ["2", "4"]
    assert ours.pop("gone", "d") == theirs.pop("gone", "d") == "d"
    with pytest.raises(KeyError):
        ours.pop("gone")
    assert ours.to_dict(flat=False) == theirs.to_dict(flat=False)


def test_constructors_accept_mappings_of_lists() -> None:
    data = {"a": ["1", "2"], "b": "3"}
    ours, theirs = MultiDict(data), wz.MultiDict(data)
    assert ours.to_dict(flat=False) == theirs.to_dict(flat=False) == {"a": ["1", "2"], "b": ["3"]}
    copied = MultiDict(ours)
    assert copied.getlist("a") == ["1", "2"]


def test_immutable_refuses_writes() -> None:
    ours = ImmutableMultiDict(PAIRS)
    for action in (
        lambda: ours.__setitem__("a", "b"),
        lambda: ours.add("a", "b"),
        lambda: ours.setlist("a", []),
        lambda: ours.pop("a"),
        lambda: ours.update({"a": "b"}),
        lambda: ours.setdefault("q", "r"),
        lambda: ours.__delitem__("a"),
        lambda: ours.clear(),
    ):
        with pytest.raises(TypeError):
            action()
    assert ours.getlist("a") == ["1", "3"]
    mutable = ours.copy()
    mutable.add("a", "9")
    assert mutable.getlist("a") == ["1", "3", "9"]
    assert ours.getlist("a") == ["1", "3"]
    assert hash(ours) == hash(ImmutableMultiDict(PAIRS))


def test_combined_multidict_matches_werkzeug() -> None:
    first = [("a", "1"), ("b", "2")]
    second = [("a", "3"), ("c", "4")]
    ours = CombinedMultiDict([ImmutableMultiDict(first), ImmutableMultiDict(second)])
    theirs = wz.CombinedMultiDict([wz.ImmutableMultiDict(first), wz.ImmutableMultiDict(second)])
    assert ours["a"] == theirs["a"] == "1"
    assert ours["c"] == theirs["c"] == "4"
    assert ours.getlist("a") == theirs.getlist("a") == ["1", "3"]
    assert ours.get("c", type=int) == theirs.get("c", type=int) == 4
    assert ours.get("zz", "d") == theirs.get("zz", "d") == "d"
    assert sorted(ours.keys()) == sorted(theirs.keys())
    assert ours.to_dict() == theirs.to_dict()
    assert ours.to_dict(flat=False) == theirs.to_dict(flat=False)
    assert sorted(ours.items(multi=True)) == sorted(theirs.items(multi=True))
    assert len(ours) == len(theirs)
    assert "c" in ours
    with pytest.raises(BadRequestKeyError):
        ours["missing"]
    with pytest.raises(TypeError):
        ours["a"] = "x"
    assert ours.copy().getlist("a") == ["1", "3"]
