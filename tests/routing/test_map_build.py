"""Building a map: rules that share segments, converters that differ per map, fallbacks.

The map shares one compiled part between the rules that hold the same
segment (``<int:id>``). These tests make sure the sharing never mixes up
rules, maps or converters.
"""

from __future__ import annotations

import pytest

from kettle.http.exceptions import NotFound
from kettle.routing import BaseConverter, Map, Rule


def test_a_thousand_rules_each_match_and_build_their_own() -> None:
    url_map = Map()
    for i in range(1000):
        url_map.add(Rule(f"/r{i}/<int:id>/posts/<slug>", endpoint=f"dyn{i}", methods=["GET"]))
        url_map.add(Rule(f"/page{i}", endpoint=f"page{i}"))
    for i in (0, 1, 499, 998, 999):
        rule, args = url_map.match(f"/r{i}/{i + 7}/posts/p-{i}", "GET")
        assert (rule.endpoint, args) == (f"dyn{i}", {"id": i + 7, "slug": f"p-{i}"})
        assert url_map.match(f"/page{i}", "GET")[0].endpoint == f"page{i}"
        assert url_map.build(f"dyn{i}", {"id": 3, "slug": "a b"}) == f"/r{i}/3/posts/a%20b"
    with pytest.raises(NotFound):
        url_map.match("/r5/x/posts/p", "GET")
    # Each rule has converters of its own, as in Werkzeug.
    first, second = url_map.iter_rules("dyn1"), url_map.iter_rules("dyn2")
    assert next(first)._converters["id"] is not next(second)._converters["id"]


class Lower(BaseConverter):
    regex = "[a-z]+"


class Digits(BaseConverter):
    regex = "[0-9]+"


def test_the_same_segment_follows_each_maps_converters() -> None:
    letters = Map([Rule("/item/<code:value>", endpoint="item")], converters={"code": Lower})
    digits = Map([Rule("/item/<code:value>", endpoint="item")], converters={"code": Digits})
    assert letters.match("/item/abc", "GET")[1] == {"value": "abc"}
    assert digits.match("/item/123", "GET")[1] == {"value": "123"}
    with pytest.raises(NotFound):
        letters.match("/item/123", "GET")
    with pytest.raises(NotFound):
        digits.match("/item/abc", "GET")


class Rest(BaseConverter):
    # Matches slashes: the rule cannot be cut at its slashes.
    regex = "[^/].*?"


def test_a_converter_that_matches_slashes_without_arguments() -> None:
    assert Rest.part_isolating is False
    url_map = Map([Rule("/files/<rest:name>/raw", endpoint="raw")], converters={"rest": Rest})
    assert url_map.match("/files/a/b/c/raw", "GET")[1] == {"name": "a/b/c"}
    assert url_map.build("raw", {"name": "a/b"}) == "/files/a/b/raw"


def test_a_variable_used_twice_is_refused_at_add() -> None:
    with pytest.raises(ValueError, match="used twice"):
        Map([Rule("/<a>/<int:a>", endpoint="twice")])


def test_a_default_the_converter_cannot_build_is_refused_at_add() -> None:
    with pytest.raises(ValueError):
        Map([Rule("/<any(a, b):page>", defaults={"page": "c"}, endpoint="page")])


def test_a_rule_changed_in_place_builds_its_new_form() -> None:
    url_map = Map([Rule("/old/<int:id>", endpoint="item")])
    assert url_map.build("item", {"id": 1}) == "/old/1"
    rule = next(url_map.iter_rules("item"))
    rule.rule = "/new/<int:id>"
    rule.refresh()
    assert url_map.build("item", {"id": 1}) == "/new/1"
