"""The C resolver (``kettle/routing/_resolve.c``) answers as ``StateMachine.resolve`` does.

``Map.plain_resolve`` is the C ``Resolver`` when the accelerator is built: it
matches a path of a common shape (``shapes.py``) by comparing its segments
and leaves every other case to the Python method. Each test here asks both,
on the same map, for paths made by hypothesis from an alphabet of the
segments that matter (the rules' static parts, digits, empty segments,
non-ASCII text, slashes), and compares what they return or raise. Each path
is asked twice: the first ask of a first segment fills the C resolver's
table (through the method), the second is answered from it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kettle import Kettle
from kettle.routing import Map, Rule, shapes
from kettle.routing.exceptions import NoMatch
from kettle.routing.shapes import ANY_STEP, DIGITS_STEP
from kettle.testing import KettleClient

#: The C resolver is in use (built, and ``KETTLE_PURE_PYTHON`` not set); under CI it must be.
BUILT = shapes._Resolver is not None
needs_built = pytest.mark.skipif(
    not BUILT and not os.environ.get("CI"), reason="the C resolver is not in use"
)

RULES: list[tuple[str, dict[str, Any]]] = [
    ("/users/<int:id>/posts/<slug>", {"endpoint": "post"}),
    ("/users/<int:id>", {"endpoint": "user", "methods": ["GET"]}),
    ("/users/<int:id>/edit", {"endpoint": "edit", "methods": ["POST"]}),
    ("/files/<name>", {"endpoint": "file"}),
    ("/files/<name>/raw/<int:size>/<x>", {"endpoint": "three"}),  # Three values: arity 0.
    ("/pages/<int(min=2, max=9):n>", {"endpoint": "bounded"}),  # Its decoder refuses some.
    ("/tags/<slug>/", {"endpoint": "slashed"}),  # A trailing slash: a redirect without it.
    ("/static/about", {"endpoint": "about"}),
    ("/deep/<a>/<int:b>", {"endpoint": "deep", "defaults": {"c": 1}}),  # Defaults: arity 0.
    ("/ünï/<name>", {"endpoint": "unicode"}),
    ("/ws/<name>", {"endpoint": "socket", "websocket": True}),
]

SEGMENTS = st.sampled_from(
    ["users", "posts", "files", "raw", "pages", "tags", "static", "about", "deep", "edit",
     "ünï", "ws", "42", "0", "1", "12", "x", "-1", "é", "٣", "", "a-b", "1a"]
)  # fmt: skip
PATHS = st.lists(SEGMENTS, max_size=6).map(lambda parts: "/" + "/".join(parts)) | st.text(
    alphabet="/ux1é", max_size=12
)
METHODS = st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "DELETE"])


def answer(resolve: Any, path: str, method: str) -> Any:
    """What ``resolve`` gives, as comparable values (an error by its type and arguments)."""
    try:
        found = resolve(path, method)
    except Exception as error:
        return ("raised", type(error).__name__, error.args)
    if isinstance(found, NoMatch):
        return ("no match", sorted(found.have_match_for), found.websocket_mismatch)
    rule, values = found
    return ("match", rule.endpoint, values, {name: type(v) for name, v in values.items()})


#: A rule whose first segment is dynamic: the top state has an edge, and a miss of the
#: shapes is never ``walk_fails``' (the walk may still take that edge).
TOP_EDGE = ("/<lang>/about", {"endpoint": "localized"})


def fresh_map(top_edge: bool = False) -> Map:
    rules = [*RULES, TOP_EDGE] if top_edge else RULES
    url_map = Map([Rule(string, **options) for string, options in rules])
    url_map.update()
    return url_map


@needs_built
def test_the_plain_resolve_is_the_c_resolver() -> None:
    url_map = fresh_map()
    assert type(url_map.plain_resolve).__name__ == "Resolver"


@needs_built
@settings(max_examples=600, deadline=None)
@given(path=PATHS, method=METHODS, top_edge=st.booleans())
def test_the_c_resolver_answers_as_the_method(path: str, method: str, top_edge: bool) -> None:
    url_map = fresh_map(top_edge)
    python = url_map._machine.resolve
    expected = answer(python, path, method)
    assert answer(url_map.plain_resolve, path, method) == expected  # Fills the table.
    assert answer(url_map.plain_resolve, path, method) == expected  # From the table.
    assert answer(python, path, method) == expected


@needs_built
@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/users/42/posts/a-b", "GET", ("match", "post", {"id": 42, "slug": "a-b"}, None)),
        ("/users/42", "GET", ("match", "user", {"id": 42}, None)),
        ("/users/٣", "GET", ("no match", [], False)),  # A digit, but not ASCII.
        ("/users/42/edit", "POST", ("match", "edit", {"id": 42}, None)),
        ("/users/42/edit", "GET", ("no match", ["POST"], False)),  # The 405's methods.
        ("/pages/5", "GET", ("match", "bounded", {"n": 5}, None)),
        ("/pages/12", "GET", ("no match", [], False)),  # The decoder refused it.
        ("/files/a/raw/3/z", "GET", ("match", "three", {"name": "a", "size": 3, "x": "z"}, None)),
        ("/deep/a/2", "GET", ("match", "deep", {"a": "a", "b": 2, "c": 1}, None)),
        ("/ünï/ß", "GET", ("match", "unicode", {"name": "ß"}, None)),
        ("/users/42/posts/a/", "GET", ("no match", [], False)),
        ("/tags/a", "GET", ("raised", "RequestPath", ("/tags/a/",))),
        ("/ws/a", "GET", ("no match", [], True)),
        ("users/42", "GET", None),  # No leading slash: the method's walk, whatever it says.
    ],
)
def test_known_answers(path: str, method: str, expected: Any) -> None:
    url_map = fresh_map()
    python = url_map._machine.resolve
    for _ in range(2):
        got = answer(url_map.plain_resolve, path, method)
        assert got == answer(python, path, method)
        if expected is not None:
            assert got[:3] == expected[:3]


def test_the_shapes_programs() -> None:
    """The steps the C resolver compares are the shape's regex, step by step."""
    url_map = fresh_map()
    machine = url_map._machine
    machine.resolve("/users/1/posts/a", "GET")
    machine.resolve("/files/a", "GET")
    programs = {
        entry[2].endpoint: entry[0]
        for segment in ("users", "files")
        for entry in machine.shape_entries[segment]
    }
    # After ``/users/<int:id>`` two static parts compete (``posts``, ``edit``): the walk's.
    assert programs == {
        "user": (DIGITS_STEP,),
        "file": (ANY_STEP,),
        "three": (ANY_STEP, "raw", DIGITS_STEP, ANY_STEP),
    }


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_views_get_their_values_under_both_protocols(protocol: str) -> None:
    app = Kettle(__name__)

    @app.get("/users/<int:id>/posts/<slug>")
    def post(id: int, slug: str) -> str:
        return f"{type(id).__name__} {id} {slug}"

    @app.get("/pages/<int(min=2):n>")
    def page(n: int) -> str:
        return f"page {n}"

    client = KettleClient(app, protocol=protocol)
    for _ in range(2):
        assert client.get("/users/7/posts/hi").text == "int 7 hi"
        assert client.get("/users/x/posts/hi").status_code == 404
        assert client.post("/users/7/posts/hi").status_code == 405
        assert client.get("/pages/1").status_code == 404
        assert client.get("/pages/3").text == "page 3"
