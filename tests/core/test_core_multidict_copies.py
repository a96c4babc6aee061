"""Copying, pickling and subclassing the MultiDict family, side by side with Werkzeug."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from werkzeug import datastructures as wz

from kettle.http.datastructures import CombinedMultiDict, ImmutableMultiDict, MultiDict
from kettle.http.exceptions import BadRequestKeyError

PAIRS = [("a", "1"), ("b", "2"), ("a", "3")]
CLASSES = {"MultiDict": MultiDict, "ImmutableMultiDict": ImmutableMultiDict}


def _state(value: Any) -> tuple[str, list[tuple[Any, Any]]]:
    return type(value).__name__, list(value.items(multi=True))


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_pickle_and_deepcopy_keep_every_value_like_werkzeug(name: str) -> None:
    ours, theirs = CLASSES[name](PAIRS), getattr(wz, name)(PAIRS)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(ours, protocol))
        assert _state(restored) == _state(pickle.loads(pickle.dumps(theirs, protocol)))
        assert restored == ours
    deep = copy.deepcopy(ours)
    assert _state(deep) == _state(copy.deepcopy(theirs)) == (name, PAIRS[::2] + PAIRS[1:2])
    assert _state(copy.copy(ours)) == _state(copy.copy(theirs))


def test_deepcopy_copies_values_and_copy_of_an_immutable_is_itself() -> None:
    inner: list[int] = [1]
    mutable = MultiDict([("x", inner)])
    deep = copy.deepcopy(mutable)
    assert deep["x"] == [1] and deep["x"] is not inner
    shallow = copy.copy(mutable)
    shallow.add("x", [2])
    assert mutable.getlist("x") == [[1]]
    frozen = ImmutableMultiDict(PAIRS)
    assert copy.copy(frozen) is frozen
    assert frozen.copy().getlist("a") == ["1", "3"]


def test_combined_multidict_pickles_and_copies_its_dicts() -> None:
    first, second = ImmutableMultiDict([("a", "1")]), ImmutableMultiDict([("a", "2"), ("c", "3")])
    combined = CombinedMultiDict([first, second])
    for restored in (pickle.loads(pickle.dumps(combined)), copy.deepcopy(combined)):
        assert isinstance(restored, CombinedMultiDict)
        assert restored.getlist("a") == ["1", "2"]
        assert restored["c"] == "3"
    assert copy.copy(combined).dicts == [first, second]


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_flat_views_match_werkzeug(name: str) -> None:
    ours, theirs = CLASSES[name](PAIRS), getattr(wz, name)(PAIRS)
    assert dict(ours) == dict(theirs) == {"a": "1", "b": "2"}
    assert json.dumps(ours) == json.dumps(theirs)
    assert repr(ours) == repr(theirs)
    assert list(ours) == list(theirs)
    assert ours == CLASSES[name](PAIRS)
    assert ours != CLASSES[name](PAIRS[:2])


def test_get_and_getlist_without_type_give_fresh_values() -> None:
    values = MultiDict(PAIRS)
    listed = values.getlist("a")
    listed.append("changed")
    assert values.getlist("a") == ["1", "3"]
    assert values.get("a") == "1"
    assert values.get("missing") is None
    assert values.get("missing", "d", type=int) == "d"
    values.setlist("empty", [])
    assert values.get("empty", "d") == "d"
    assert values.getlist("empty") == []


def test_a_subclass_getitem_is_what_get_reads() -> None:
    class Upper(MultiDict[str, str]):
        def __getitem__(self, key: str) -> str:
            return super().__getitem__(key).upper()

    class Sub(Upper):
        pass

    for cls in (Upper, Sub):
        values = cls([("name", "ada"), ("n", "7")])
        assert values["name"] == values.get("name") == "ADA"
        assert values.get("n", type=int) == 7
        assert values.get("missing", "d") == "d"
        with pytest.raises(BadRequestKeyError):
            values["missing"]
    # A subclass that keeps MultiDict's ``__getitem__`` still reads every value.
    plain = type("Plain", (ImmutableMultiDict,), {})(PAIRS)
    assert plain.get("a") == "1" and plain.getlist("a") == ["1", "3"]
