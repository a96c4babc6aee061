"""The matcher's walk: values dropped by a failed branch, converters decoded per rule.

The walk captures values as it goes and drops them when a branch fails; a
plain ``int`` decodes with ``int`` itself while an ``int`` with bounds keeps
its ``to_python``. Each row is checked against Werkzeug (the reference) and
both of kettle's ways in (``Map.match`` and ``MapAdapter.match``).
"""

from __future__ import annotations

from typing import Any

import pytest
from routing_oracle import outcome_kettle, outcome_kettle_adapter, outcome_werkzeug

from kettle.routing import BaseConverter, Map, Rule


def R(rule: str, endpoint: str, **options: Any) -> dict[str, Any]:
    return {"string": rule, "endpoint": endpoint, **options}


# (id, rules, path, method, expected outcome)
TABLE: list[tuple[str, list[dict[str, Any]], str, str, tuple[Any, ...]]] = [
    (
        "a static branch that captured a value fails: its value is dropped",
        [R("/a/<int:n>/b", "static"), R("/<s>/<int:m>/c", "dynamic")],
        "/a/1/c",
        "GET",
        ("match", "dynamic", {"s": "a", "m": 1}),
    ),
    (
        "a dynamic branch that captured values fails: the next edge starts clean",
        [R("/<int:a>/x/<int:b>", "ints"), R("/<s>/<t>/<u>", "strings")],
        "/1/x/y",
        "GET",
        ("match", "strings", {"s": "1", "t": "x", "u": "y"}),
    ),
    (
        "a method refused deep in one branch, matched in another",
        [R("/<a>/<b>", "post", methods=["POST"]), R("/<int:n>/<m>", "get", methods=["GET"])],
        "/x/y",
        "GET",
        (405, ["POST"]),
    ),
    (
        "the only edge of a state is followed in place, several segments deep",
        [R("/r/<a>/<int:b>/<c>/<int:d>", "deep")],
        "/r/q/7/s/08",
        "GET",
        ("match", "deep", {"a": "q", "b": 7, "c": "s", "d": 8}),
    ),
    (
        "the only edge refuses an empty segment",
        [R("/r/<a>/end", "end")],
        "/r//end",
        "GET",
        (404,),
    ),
    (
        "a path converter after a captured value",
        [R("/f/<int:n>/<path:rest>", "file")],
        "/f/3/a/b/c",
        "GET",
        ("match", "file", {"n": 3, "rest": "a/b/c"}),
    ),
    (
        "a signed int decodes a minus sign",
        [R("/n/<int(signed=True):n>", "n")],
        "/n/-12",
        "GET",
        ("match", "n", {"n": -12}),
    ),
    (
        "an int with bounds refuses out of range: the match ends (no fall-through)",
        [R("/n/<int(min=5):n>", "bounded"), R("/n/<s>", "string")],
        "/n/3",
        "GET",
        (404,),
    ),
    (
        "an int with fixed digits refuses another length",
        [R("/y/<int(fixed_digits=4):year>", "year")],
        "/y/99",
        "GET",
        (404,),
    ),
    (
        "two converters in one segment run their regex",
        [R("/v/<int:major>.<int:minor>", "version")],
        "/v/2.10",
        "GET",
        ("match", "version", {"major": 2, "minor": 10}),
    ),
    (
        "a trailing slash at a state with a dynamic edge redirects",
        [R("/d/<int:n>/", "dir")],
        "/d/4",
        "GET",
        ("redirect", "http://example.com/d/4/"),
    ),
]


@pytest.mark.parametrize(
    ("rules", "path", "method", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_walk_table(
    rules: list[dict[str, Any]], path: str, method: str, expected: tuple[Any, ...]
) -> None:
    assert outcome_werkzeug(rules, path, method) == expected, "row disagrees with Werkzeug"
    assert outcome_kettle(rules, path, method) == expected
    assert outcome_kettle_adapter(rules, path, method) == expected


def test_a_request_after_a_failed_one_starts_clean() -> None:
    url_map = Map([Rule("/<a>/x/<int:n>", endpoint="first"), Rule("/<b>/<c>/y", endpoint="second")])
    assert url_map.match("/p/x/y", "GET")[1] == {"b": "p", "c": "x"}
    assert url_map.match("/p/x/5", "GET")[1] == {"a": "p", "n": 5}


class Strict(BaseConverter):
    """A converter whose to_python fails with a plain ValueError (a bug, not a refusal)."""

    def to_python(self, value: str) -> int:
        return int(value)


def test_a_converters_own_value_error_is_not_taken_for_a_refusal() -> None:
    # As Werkzeug: only ValidationError ends the match; other errors propagate.
    url_map = Map([Rule("/s/<strict:n>", endpoint="s")], converters={"strict": Strict})
    assert url_map.match("/s/5", "GET")[1] == {"n": 5}
    with pytest.raises(ValueError, match="invalid literal"):
        url_map.match("/s/x", "GET")
