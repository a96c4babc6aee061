"""Hypothesis properties: build then match round-trips; kettle agrees with Werkzeug."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st
from routing_oracle import outcome_kettle, outcome_werkzeug

from kettle.routing import Map, Rule

# Segment text: letters, digits, punctuation that needs quoting, non-ASCII
# letters. No slash (one segment) and no non-ASCII digits (kettle's int is
# stricter than Werkzeug's there, on purpose).
SEGMENT_ALPHABET = st.sampled_from(list("abcXYZ019-._~ %?#&+=@!é日ß"))
segment_text = st.text(SEGMENT_ALPHABET, min_size=1, max_size=8)
static_word = st.text(st.sampled_from(list("abcdefgh-_")), min_size=1, max_size=6)

# converter spec -> strategy of values it must round-trip
CONVERTERS: dict[str, st.SearchStrategy[Any]] = {
    "string": segment_text,
    "int": st.integers(min_value=0, max_value=10**12),
    "int(signed=True)": st.integers(min_value=-(10**6), max_value=10**6),
    "float": st.integers(min_value=0, max_value=10**7).map(lambda n: n / 100),
    "uuid": st.uuids(),
    "any(red, 'dark blue', green)": st.sampled_from(["red", "dark blue", "green"]),
    "path": st.lists(segment_text, min_size=1, max_size=3).map("/".join),
}


@st.composite
def rule_and_values(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    """A rule of static words and converters (one per segment) and values for it."""
    segments: list[str] = []
    values: dict[str, Any] = {}
    count = draw(st.integers(min_value=1, max_value=5))
    used_path = False
    for index in range(count):
        if draw(st.booleans()):
            segments.append(draw(static_word))
            continue
        choices = [name for name in CONVERTERS if name != "path" or not used_path]
        converter = draw(st.sampled_from(choices))
        used_path = used_path or converter == "path"
        prefix = draw(st.sampled_from(["", "", "v-"]))
        name = f"arg{index}"
        segments.append(f"{prefix}<{converter}:{name}>")
        values[name] = draw(CONVERTERS[converter])
    trailing = draw(st.booleans())
    return "/" + "/".join(segments) + ("/" if trailing else ""), values, trailing


@settings(max_examples=3000, deadline=None)
@given(rule_and_values(), st.dictionaries(st.sampled_from(["q", "page"]), segment_text))
def test_build_then_match_round_trips(
    case: tuple[str, dict[str, Any], bool], query: dict[str, str]
) -> None:
    rule_text, values, _ = case
    url_map = Map([Rule(rule_text, endpoint="target"), Rule("/other/<x>", endpoint="other")])
    url = url_map.build("target", {**values, **query})
    path, _, query_string = url.partition("?")
    assert bool(query_string) == bool(query)
    # A server percent-decodes the path before routing.
    rule, matched = url_map.match(unquote(path), "GET", host="example.com")
    assert rule.endpoint == "target"
    assert matched == values
    assert url_map.bind("example.com").match(unquote(path)) == ("target", values)


SEGMENTS = ["a", "b", "<x>", "<int:n>", "<path:p>", "<any(a, b):w>", "v<int:n>", ""]
PATH_PARTS = ["a", "b", "1", "22", "x", "v3", "", "a/b", "1/2/3"]


@st.composite
def small_rule(draw: st.DrawFn, index: int) -> dict[str, Any]:
    parts = draw(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3))
    # Each variable name once per rule.
    seen: set[str] = set()
    kept = []
    for part in parts:
        name = part.split(":")[-1].rstrip(">") if "<" in part else None
        if name in seen or (part == "" and kept and kept[-1] == ""):
            continue
        if name:
            seen.add(name)
        kept.append(part)
    spec: dict[str, Any] = {"string": "/" + "/".join(kept), "endpoint": f"e{index}"}
    methods = draw(st.sampled_from([None, ["GET"], ["POST"], ["GET", "POST"]]))
    if methods:
        spec["methods"] = methods
    if draw(st.integers(0, 4)) == 0:
        spec["strict_slashes"] = False
    return spec


@st.composite
def small_map(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=6))
    return [draw(small_rule(index)) for index in range(count)]


@settings(max_examples=8000, deadline=None)
@given(
    small_map(),
    st.lists(st.sampled_from(PATH_PARTS), min_size=0, max_size=4),
    st.sampled_from(["GET", "POST", "HEAD", "PUT"]),
    st.booleans(),
)
def test_same_outcome_as_werkzeug(
    rules: list[dict[str, Any]], parts: list[str], method: str, merge_slashes: bool
) -> None:
    path = "/" + "/".join(parts)
    expected = outcome_werkzeug(rules, path, method, merge_slashes=merge_slashes)
    assert outcome_kettle(rules, path, method, merge_slashes=merge_slashes) == expected


def test_uuid_round_trip_keeps_type() -> None:
    value = uuid.uuid4()
    url_map = Map([Rule("/o/<uuid:id>", endpoint="o")])
    url = url_map.build("o", {"id": value})
    assert url_map.match(url, "GET")[1] == {"id": value}
