"""The view arguments of a match (``kettle/routing/arguments.py`` and ``StateMachine.resolve``).

Two values are decoded in place, any other count by ``decoded_arguments``;
both by the shapes and by the walk. The arguments are keyed by interned
names, the strings a view's parameters are, and a value a converter refuses
ends the match as in Werkzeug 2.2+.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from kettle import Kettle
from kettle.routing import BaseConverter, Map, Rule, ValidationError
from kettle.testing import KettleClient


class Upper(BaseConverter):
    """Refuses lower case text (ValidationError); upper-cases the rest."""

    def to_python(self, value: str) -> str:
        if value.islower():
            raise ValidationError()
        return value.upper()


class Broken(BaseConverter):
    """A to_python with a bug: its ValueError is not a refusal."""

    def to_python(self, value: str) -> str:
        raise ValueError("a bug in the converter")


def url_map(*rules: str, walked: bool = False) -> Map:
    """A map of ``rules``; ``walked``: with a dynamic subdomain rule, so every path is walked."""
    extra = [Rule("/elsewhere", endpoint="walked", subdomain="<sub>")] if walked else []
    return Map(
        [*(Rule(rule, endpoint=f"e{index}") for index, rule in enumerate(rules)), *extra],
        converters={"upper": Upper, "broken": Broken},
    )


CASES = [
    ("/a/<x>", "/a/1", {"x": "1"}),
    ("/a/<int:x>", "/a/1", {"x": 1}),
    ("/a/<int:x>/<y>", "/a/1/b", {"x": 1, "y": "b"}),
    ("/a/<x>/<int:y>", "/a/b/2", {"x": "b", "y": 2}),
    ("/a/<int:x>/<int:y>", "/a/1/2", {"x": 1, "y": 2}),
    ("/a/<x>/<upper:y>", "/a/b/Cd", {"x": "b", "y": "CD"}),
    ("/a/<int:x>/b/<y>/<int:z>", "/a/1/b/c/3", {"x": 1, "y": "c", "z": 3}),
    ("/a/<path:p>/<int:x>", "/a/b/c/4", {"p": "b/c", "x": 4}),
]


@pytest.mark.parametrize("walked", [False, True], ids=["shapes", "walk"])
@pytest.mark.parametrize(("rule", "path", "expected"), CASES)
def test_values_are_decoded_by_interned_name(
    rule: str, path: str, expected: dict[str, Any], walked: bool
) -> None:
    _, args = url_map(rule, walked=walked).match(path, "GET")
    assert args == expected
    assert all(type(value) is type(expected[name]) for name, value in args.items())
    assert all(name is sys.intern(name) for name in args)


REFUSED = [
    ("/a/<int:x>/<y>", "/a/" + "9" * 5000 + "/b"),
    ("/a/<y>/<int:x>", "/a/b/" + "9" * 5000),
    ("/a/<x>/<upper:y>", "/a/b/cd"),
    ("/a/<upper:y>/<x>", "/a/cd/b"),
    ("/a/<upper:y>", "/a/cd"),
    ("/a/<int:x>/<y>/<upper:z>", "/a/1/b/cd"),
]


@pytest.mark.parametrize("walked", [False, True], ids=["shapes", "walk"])
@pytest.mark.parametrize(("rule", "path"), REFUSED)
def test_a_refused_value_is_a_404(rule: str, path: str, walked: bool) -> None:
    with pytest.raises(Exception) as caught:
        url_map(rule, walked=walked).match(path, "GET")
    assert getattr(caught.value, "code", None) == 404


@pytest.mark.parametrize("walked", [False, True], ids=["shapes", "walk"])
@pytest.mark.parametrize("rule", ["/a/<x>/<broken:y>", "/a/<broken:y>/<x>", "/a/<broken:y>"])
def test_a_converter_bug_is_not_a_refusal(rule: str, walked: bool) -> None:
    with pytest.raises(ValueError, match="a bug in the converter"):
        url_map(rule, walked=walked).match("/a/b/c" if rule.count("<") == 2 else "/a/b", "GET")


def test_defaults_are_added_to_decoded_values() -> None:
    url_map = Map([Rule("/a/<int:x>/<y>", endpoint="a", defaults={"z": 3})])
    assert url_map.match("/a/1/b", "GET")[1] == {"x": 1, "y": "b", "z": 3}


def test_views_get_their_arguments_in_any_order(app: Kettle, client: KettleClient) -> None:
    app.url_map.converters["upper"] = Upper

    @app.route("/users/<int:id>/posts/<slug>")
    def post(slug: str, id: int) -> str:
        return f"{id + 1} {slug}"

    @app.route("/one/<int:n>")
    def one(n: int) -> str:
        return str(n * 2)

    @app.route("/three/<int:a>/<b>/<upper:c>")
    async def three(c: str, b: str, a: int) -> str:
        return f"{a} {b} {c}"

    assert client.get("/users/41/posts/x").text == "42 x"
    assert client.get("/one/21").text == "42"
    assert client.get("/three/1/b/Cd").text == "1 b CD"
    assert client.get("/three/1/b/cd").status_code == 404
    assert client.get("/users/" + "9" * 5000 + "/posts/x").status_code == 404
