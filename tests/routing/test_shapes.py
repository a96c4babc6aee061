"""The common shapes (``kettle/routing/shapes.py``): one regex instead of the walk.

A path whose first segment is static and whose other segments each have one
way on (a static part, any segment, ASCII digits) is matched by one regex per
run of the state machine. It must answer exactly what the walk answers. Two
references: Werkzeug (the table rows, with ``Map.match`` and
``MapAdapter.match``), and kettle's own walk, run on the same rules plus one
rule with a dynamic subdomain: such a map is walked from the top, with no
shapes, and the extra rule matches none of these paths.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from routing_oracle import outcome_kettle, outcome_kettle_adapter, outcome_werkzeug

from kettle import Kettle
from kettle.testing import KettleClient


def R(rule: str, endpoint: str, **options: Any) -> dict[str, Any]:
    return {"string": rule, "endpoint": endpoint, **options}


#: A rule that makes the matcher walk from the top (a dynamic subdomain).
WALKED = R("/walked-from-the-top", "walked", subdomain="<sub>")


def outcome_walk(rules: list[dict[str, Any]], path: str, method: str, **options: Any) -> Any:
    """The outcome of kettle's walk alone, for the same rules."""
    return outcome_kettle([*rules, WALKED], path, method, **options)


POSTS = [R("/users/<int:id>/posts/<slug>", "post")]

# (id, rules, path, method, expected outcome)
TABLE: list[tuple[str, list[dict[str, Any]], str, str, tuple[Any, ...]]] = [
    ("the benchmark's shape", POSTS, "/users/42/posts/a-b", "GET", ("match", "post", {"id": 42, "slug": "a-b"})),
    ("a value the int refuses", POSTS, "/users/x/posts/a-b", "GET", (404,)),
    ("a sign is not a digit", POSTS, "/users/-1/posts/a", "GET", (404,)),
    ("one segment short", POSTS, "/users/42/posts", "GET", (404,)),
    ("one segment more", POSTS, "/users/42/posts/a/b", "GET", (404,)),
    ("an empty segment", POSTS, "/users/42/posts/", "GET", (404,)),
    ("the static part differs", POSTS, "/users/42/post/a", "GET", (404,)),
    (
        "a method the rule does not take",
        [R("/users/<int:id>/posts/<slug>", "post", methods=["GET"])],
        "/users/42/posts/a",
        "POST",
        (405, ["GET", "HEAD"]),
    ),
    ("HEAD is GET's", POSTS, "/users/4/posts/a", "HEAD", ("match", "post", {"id": 4, "slug": "a"})),
    ("slashes merged: a redirect", POSTS, "/users//42/posts/a", "GET", ("redirect", "http://example.com/users/42/posts/a")),
    ("a leading double slash", POSTS, "//users/42/posts/a", "GET", ("match", "post", {"id": 42, "slug": "a"})),
    (
        "two depths from one state",
        [R("/users/<int:id>", "user"), *POSTS],
        "/users/7",
        "GET",
        ("match", "user", {"id": 7}),
    ),
    (
        "two depths from one state, the deeper",
        [R("/users/<int:id>", "user"), *POSTS],
        "/users/7/posts/x",
        "GET",
        ("match", "post", {"id": 7, "slug": "x"}),
    ),
    (
        "the first rule refuses the method, a later one with other names takes it",
        [R("/a/<int:x>", "post", methods=["POST"]), R("/a/<int:y>", "get", methods=["GET"])],
        "/a/1",
        "GET",
        ("match", "get", {"y": 1}),
    ),
    (
        "a value refused by bounds",
        [R("/a/<int(max=5):n>", "a")],
        "/a/6",
        "GET",
        (404,),
    ),
    (
        "a value within bounds",
        [R("/a/<int(min=2, max=5):n>", "a")],
        "/a/5",
        "GET",
        ("match", "a", {"n": 5}),
    ),
    ("an int over 4300 digits", [R("/a/<int:n>", "a")], "/a/" + "9" * 5000, "GET", (404,)),
    (
        "the rule's defaults are added",
        [R("/a/<int:n>", "a", defaults={"page": 1})],
        "/a/3",
        "GET",
        ("match", "a", {"n": 3, "page": 1}),
    ),
    (
        "an alias redirects to its canonical rule",
        [R("/b/<int:n>", "a"), R("/a/<int:n>", "a", alias=True)],
        "/a/3",
        "GET",
        ("redirect", "http://example.com/b/3"),
    ),
    (
        "a strict slash: a redirect",
        [R("/a/<int:n>/", "a")],
        "/a/3",
        "GET",
        ("redirect", "http://example.com/a/3/"),
    ),
    ("a strict slash: the match", [R("/a/<int:n>/", "a")], "/a/3/", "GET", ("match", "a", {"n": 3})),
    (
        "a refused segment, another way from the top",
        [R("/users/<int:id>", "user"), R("/<name>/<other>", "other")],
        "/users/abc",
        "GET",
        ("match", "other", {"name": "users", "other": "abc"}),
    ),
    (
        "a trailing-slash rule at a state the shape steps through",
        [R("/a/", "slash"), R("/a/<int:n>", "a")],
        "/a/5",
        "GET",
        ("match", "a", {"n": 5}),
    ),
    (
        "a trailing-slash rule at a state the shape steps through, its own path",
        [R("/a/", "slash"), R("/a/<int:n>", "a")],
        "/a/",
        "GET",
        ("match", "slash", {}),
    ),
    (
        "a static part and an edge compete: the walk decides",
        [R("/a/new", "new"), R("/a/<int:n>", "a")],
        "/a/12",
        "GET",
        ("match", "a", {"n": 12}),
    ),
    (
        "a static part and an edge compete: the static part's own path",
        [R("/a/new", "new", methods=["POST"]), R("/a/<s>", "a")],
        "/a/new",
        "POST",
        ("match", "new", {}),
    ),
    (
        "slashes merged: a redirect to a shorter shape",
        [R("/users/<int:id>", "user"), R("/users/<int:id>/<x>", "x")],
        "/users//42",
        "GET",
        ("redirect", "http://example.com/users/42"),
    ),
    (
        "regex characters in a static part are literal",
        [R("/a.b/<int:n>", "a")],
        "/axb/1",
        "GET",
        (404,),
    ),
    ("non-ASCII static text", [R("/été/<s>", "e")], "/été/x", "GET", ("match", "e", {"s": "x"})),
    (
        "any method (methods None) in a shape",
        [R("/a/<s>", "a", methods=None)],
        "/a/x",
        "DELETE",
        ("match", "a", {"s": "x"}),
    ),
    # A shape's regex covers the whole path, its leading slash and first segment too
    # (session 11): a path ``Map.match`` is given as it came is normalized by the walk.
    ("no leading slash", POSTS, "users/42/posts/a", "GET", ("match", "post", {"id": 42, "slug": "a"})),
    (
        "no leading slash: the first segment is not the shape's",
        [*POSTS, R("/x/users/<int:id>/posts/<slug>", "x")],
        "x/users/1/posts/a",
        "GET",
        ("match", "x", {"id": 1, "slug": "a"}),
    ),
    ("an empty path", POSTS, "", "GET", (404,)),
    ("a path without a slash", [R("/users/<int:id>", "user")], "users", "GET", (404,)),
    (
        "a root rule, and a double slash before a shape's path",
        [R("/", "root"), R("//<int:n>", "odd", merge_slashes=False), R("/<int:n>", "n")],
        "//7",
        "GET",
        ("match", "n", {"n": 7}),
    ),
    (
        "three values",
        [R("/a/<int:x>/<y>/<int:z>", "three")],
        "/a/1/b/3",
        "GET",
        ("match", "three", {"x": 1, "y": "b", "z": 3}),
    ),
    (
        "two values and a default",
        [R("/a/<int:x>/<y>", "a", defaults={"z": 0})],
        "/a/1/b",
        "GET",
        ("match", "a", {"x": 1, "y": "b", "z": 0}),
    ),
    ("regex characters in the first segment are literal", [R("/a+b/<int:n>", "a")], "/aab/1", "GET", (404,)),
    ("regex characters in the first segment", [R("/a+b/<int:n>", "a")], "/a+b/1", "GET", ("match", "a", {"n": 1})),
    (
        "a string with a minimum length is not a shape's step",
        [R("/a/<string(minlength=2):s>", "a")],
        "/a/x",
        "GET",
        (404,),
    ),
]


@pytest.mark.parametrize(
    ("rules", "path", "method", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_shape_matches_as_werkzeug_and_the_walk(
    rules: list[dict[str, Any]], path: str, method: str, expected: tuple[Any, ...]
) -> None:
    assert outcome_werkzeug(rules, path, method) == expected
    assert outcome_kettle(rules, path, method) == expected
    assert outcome_kettle_adapter(rules, path, method) == expected
    assert outcome_walk(rules, path, method) == expected


def test_non_ascii_digits_are_refused_as_by_the_walk() -> None:
    # Stricter than Werkzeug on purpose (see IntegerConverter): "١٢" is not an int.
    assert outcome_kettle(POSTS, "/users/١٢/posts/a", "GET") == (404,)
    assert outcome_walk(POSTS, "/users/١٢/posts/a", "GET") == (404,)


def test_a_websocket_request_is_walked() -> None:
    rules = [R("/a/<int:n>", "ws", websocket=True), R("/a/<int:n>", "http")]
    assert outcome_kettle(rules, "/a/1", "GET") == ("match", "http", {"n": 1})


STEPS = ["a", "b", "<x>", "<int:n>", "<int(max=9):m>", "<y>", ""]
PATH_SEGMENTS = ["a", "b", "1", "22", "x", "", "١", "\n", "0" * 5]


@st.composite
def shaped_rule(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """A rule with a static first segment and single-segment steps after it."""
    first = draw(st.sampled_from(["p", "q"]))
    steps = draw(st.lists(st.sampled_from(STEPS), min_size=0, max_size=3))
    seen: set[str] = set()
    kept = [first]
    for step in steps:
        name = step.split(":")[-1].rstrip(">") if "<" in step else None
        if name in seen or (step == "" and kept[-1] == ""):
            continue
        if name:
            seen.add(name)
        kept.append(step)
    spec: dict[str, Any] = {"string": "/" + "/".join(kept), "endpoint": f"e{index}"}
    methods = draw(st.sampled_from([None, ["GET"], ["POST"], ["GET", "POST"]]))
    if methods:
        spec["methods"] = methods
    if draw(st.integers(0, 4)) == 0:
        spec["strict_slashes"] = False
    if draw(st.integers(0, 5)) == 0:
        spec["string"] = "/<lead>" + spec["string"]
    return spec


@st.composite
def shaped_map(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=6))
    return [draw(shaped_rule(index)) for index in range(count)]


@settings(max_examples=500, deadline=None)
@given(
    shaped_map(),
    st.sampled_from(["p", "q", "r", ""]),
    st.lists(st.sampled_from(PATH_SEGMENTS), min_size=0, max_size=4),
    st.sampled_from(["GET", "POST", "HEAD", "PUT"]),
    st.booleans(),
)
def test_shapes_agree_with_the_walk(
    rules: list[dict[str, Any]], first: str, rest: list[str], method: str, merge_slashes: bool
) -> None:
    path = "/" + "/".join([first, *rest])
    _agree(rules, path, method, merge_slashes)


@settings(max_examples=300, deadline=None)
@given(
    shaped_map(),
    st.sampled_from(["", "/", "//", "x/"]),
    st.lists(st.sampled_from(["p", "q", *PATH_SEGMENTS]), min_size=0, max_size=4),
    st.sampled_from(["GET", "POST"]),
)
def test_shapes_agree_with_the_walk_on_paths_as_given(
    rules: list[dict[str, Any]], lead: str, segments: list[str], method: str
) -> None:
    # ``Map.match`` is given the path as it came: without its leading slash, with two,
    # or empty. The walk normalizes it; a shape (a regex over the whole path) must
    # answer the same.
    _agree(rules, lead + "/".join(segments), method, True)


def _agree(rules: list[dict[str, Any]], path: str, method: str, merge_slashes: bool) -> None:
    expected = outcome_walk(rules, path, method, merge_slashes=merge_slashes)
    assert outcome_kettle(rules, path, method, merge_slashes=merge_slashes) == expected
    assert outcome_kettle_adapter(rules, path, method, merge_slashes=merge_slashes) == expected
    # (Werkzeug redirects "" to "/", Kettle's map matches it as "/": test_map.py.)
    if path and not any(character in path for character in "١\n"):
        assert outcome_werkzeug(rules, path, method, merge_slashes=merge_slashes) == expected


def test_app_view_gets_the_shape_values(app: Kettle, client: KettleClient) -> None:
    @app.route("/users/<int:id>/posts/<slug>")
    def post(id: int, slug: str) -> str:
        return f"{type(id).__name__} {id} {slug}"

    @app.route("/users/<int:id>", methods=["POST"])
    def user(id: int) -> str:
        return f"user {id}"

    assert client.get("/users/42/posts/a-b").text == "int 42 a-b"
    assert client.get("/users/x/posts/a-b").status_code == 404
    assert client.get("/users/42/posts/").status_code == 404
    assert client.post("/users/3").text == "user 3"
    response = client.get("/users/3")
    assert response.status_code == 405
    assert response.headers["Allow"] == "OPTIONS, POST"
