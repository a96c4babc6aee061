"""ImmutableMultiDict's C ``get`` and ``getlist`` (``kettle.http._multidict``) answer as Python.

When built, ``ImmutableMultiDict.get`` and ``.getlist`` are C methods that
keep the Python functions (``__wrapped__``): each answers the common call
(no ``type``, a class with dict's ``__getitem__``) and passes any other to the
function. Here both are asked the same things, on dicts built from generated
pairs, and through a view under WSGI and ASGI.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kettle import Kettle, request
from kettle.http import datastructures
from kettle.http.datastructures import ImmutableMultiDict
from kettle.testing import KettleClient

BUILT = datastructures._Method is not None
needs_built = pytest.mark.skipif(
    not BUILT and not os.environ.get("CI"), reason="the C accelerator is not built here"
)

KEYS = st.sampled_from(["a", "b", "tag", "page", "é", ""])
PAIRS = st.lists(st.tuples(KEYS, st.sampled_from(["1", "x", "", "22", "é"])), max_size=8)


def asked(call: Any) -> Any:
    try:
        return ("value", call())
    except Exception as error:
        return ("raised", type(error).__name__)


@needs_built
def test_the_methods_are_the_c_ones_and_look_like_the_functions() -> None:
    for name in ("get", "getlist"):
        method = ImmutableMultiDict.__dict__[name]
        assert type(method).__name__ == "Method"
        assert method.__name__ == name and method.__doc__ == method.__wrapped__.__doc__
        assert inspect.signature(method) == inspect.signature(method.__wrapped__)
    d = ImmutableMultiDict([("a", "1")])
    assert d.get.__self__ is d  # Bound as a function is.


@needs_built
@settings(max_examples=300, deadline=None)
@given(pairs=PAIRS, key=KEYS, default=st.sampled_from([None, "d", 0]))
def test_same_answers_as_the_functions(pairs: list[tuple[str, str]], key: str, default: Any) -> None:
    d = ImmutableMultiDict(pairs)
    get = ImmutableMultiDict.__dict__["get"].__wrapped__
    getlist = ImmutableMultiDict.__dict__["getlist"].__wrapped__
    assert asked(lambda: d.get(key)) == asked(lambda: get(d, key))
    assert asked(lambda: d.get(key, default)) == asked(lambda: get(d, key, default))
    assert asked(lambda: d.get(key, default, int)) == asked(lambda: get(d, key, default, int))
    assert asked(lambda: d.get(key, type=int)) == asked(lambda: get(d, key, type=int))
    assert asked(lambda: d.getlist(key)) == asked(lambda: getlist(d, key))
    assert asked(lambda: d.getlist(key, int)) == asked(lambda: getlist(d, key, int))
    assert asked(lambda: d.getlist(key=key)) == asked(lambda: getlist(d, key))
    assert asked(lambda: d.get([])) == ("raised", "TypeError")  # Unhashable, as dict.get.


@needs_built
def test_a_copy_is_returned_and_subclasses_keep_their_meaning() -> None:
    d = ImmutableMultiDict([("a", "1"), ("a", "2")])
    first = d.getlist("a")
    first.append("3")
    assert d.getlist("a") == ["1", "2"]

    class Upper(ImmutableMultiDict[str, str]):
        def __getitem__(self, key: str) -> str:
            return dict.__getitem__(self, key).upper()

    upper = Upper([("a", "x")])
    assert upper.get("a") == "X" and upper.get("b", "d") == "d"  # Through its __getitem__.

    class Own(ImmutableMultiDict[str, str]):
        def getlist(self, key: str, type: Any = None) -> list[Any]:
            return ["own"]

    assert Own([("a", "x")]).getlist("a") == ["own"]
    with pytest.raises(TypeError):
        ImmutableMultiDict.__dict__["get"]()  # No dict: the function's own error.


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_a_view_reads_args_and_form(protocol: str) -> None:
    app = Kettle(__name__)

    @app.post("/read")
    def read() -> dict[str, Any]:
        return {
            "tags": request.args.getlist("tag"),
            "page": request.args.get("page", "1"),
            "n": request.args.get("n", 0, type=int),
            "none": request.args.getlist("none"),
            "field": request.form.get("f"),
            "fields": request.form.getlist("f"),
        }

    client = KettleClient(app, protocol=protocol)
    response = client.post("/read?tag=a&tag=b&n=x", data={"f": ["1", "2"]})
    assert response.get_json() == {
        "tags": ["a", "b"], "page": "1", "n": 0, "none": [], "field": "1", "fields": ["1", "2"],
    }  # fmt: skip
