"""The rule for the method at the end of a walk, and the static table's unnormalized lookup.

A state of the matcher names its rule for a method from a table made when
the map is compiled; when that is not the state's first rule, the rules are
gone through to record what the others would take (a 405 lists them, even
when the chosen rule's value is then refused). The static table is looked up
before the path is normalized. Each row is checked against Werkzeug (the
reference) and both of kettle's ways in (``Map.match`` and ``MapAdapter.match``).
"""

from __future__ import annotations

from typing import Any

import pytest
from routing_oracle import outcome_kettle, outcome_kettle_adapter, outcome_werkzeug

from kettle.http.exceptions import MethodNotAllowed, NotFound
from kettle.routing import Map, Rule, WebsocketMismatch


def R(rule: str, endpoint: str, **options: Any) -> dict[str, Any]:
    return {"string": rule, "endpoint": endpoint, **options}


# (id, rules, path, method, expected outcome)
TABLE: list[tuple[str, list[dict[str, Any]], str, str, tuple[Any, ...]]] = [
    (
        "the state's first rule refuses the method, a later one takes it",
        [R("/a/<int:n>", "post", methods=["POST"]), R("/a/<int:n>", "get", methods=["GET"])],
        "/a/1",
        "GET",
        ("match", "get", {"n": 1}),
    ),
    (
        "a value refused after a method refused: the refused method is offered",
        [
            R("/a/<int(max=5):n>", "post", methods=["POST"]),
            R("/a/<int(max=5):n>", "get", methods=["GET"]),
        ],
        "/a/9",
        "GET",
        (405, ["POST"]),
    ),
    (
        "a rule for any method after one for some methods",
        [R("/a/<n>", "put", methods=["PUT"]), R("/a/<n>", "any")],
        "/a/x",
        "DELETE",
        ("match", "any", {"n": "x"}),
    ),
    (
        "a rule for any method first is the first for a method named after it",
        [R("/a/<n>", "any"), R("/a/<n>", "get", methods=["GET"])],
        "/a/x",
        "GET",
        ("match", "any", {"n": "x"}),
    ),
    (
        "no rule of the state takes the method: every rule's methods are offered",
        [R("/a/<n>", "post", methods=["POST"]), R("/a/<n>", "put", methods=["PUT"])],
        "/a/x",
        "GET",
        (405, ["POST", "PUT"]),
    ),
    (
        "HEAD is taken by the rule that names GET",
        [R("/a/<n>", "post", methods=["POST"]), R("/a/<n>", "get", methods=["GET"])],
        "/a/x",
        "HEAD",
        ("match", "get", {"n": "x"}),
    ),
    (
        "a static path without its leading slash",
        [R("/a", "a"), R("/<n>", "dynamic")],
        "a",
        "GET",
        ("match", "a", {}),
    ),
    (
        "a static path with two leading slashes",
        [R("/a", "a"), R("/<n>", "dynamic")],
        "//a",
        "GET",
        ("match", "a", {}),
    ),
    (
        "a static rule that keeps a leading // is not reached by the same path",
        [R("//a", "kept", merge_slashes=False), R("/<n>", "dynamic")],
        "//a",
        "GET",
        ("match", "dynamic", {"n": "a"}),
    ),
]


@pytest.mark.parametrize(
    ("rules", "path", "method", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_method_table(
    rules: list[dict[str, Any]], path: str, method: str, expected: tuple[Any, ...]
) -> None:
    assert outcome_werkzeug(rules, path, method) == expected, "row disagrees with Werkzeug"
    assert outcome_kettle(rules, path, method) == expected
    assert outcome_kettle_adapter(rules, path, method) == expected


def test_a_404_after_a_405_offers_no_methods() -> None:
    url_map = Map([Rule("/p/<n>", endpoint="p", methods=["POST"])])
    for _ in range(2):
        with pytest.raises(MethodNotAllowed) as refused:
            url_map.match("/p/x", "GET")
        assert refused.value.valid_methods == ["POST"]
        with pytest.raises(NotFound):
            url_map.match("/elsewhere/x", "GET")


def test_websocket_and_http_rules_at_one_state() -> None:
    url_map = Map(
        [
            Rule("/w/<n>", endpoint="socket", websocket=True),
            Rule("/w/<n>", endpoint="page", methods=["GET"]),
            Rule("/only/<n>", endpoint="only", websocket=True),
        ]
    )
    assert url_map.match("/w/1", "GET", websocket=True)[0].endpoint == "socket"
    assert url_map.match("/w/1", "GET")[0].endpoint == "page"
    with pytest.raises(WebsocketMismatch):
        url_map.match("/only/1", "GET")
    with pytest.raises(MethodNotAllowed):
        url_map.match("/w/1", "POST")
