"""The session serializer keeps the flat dicts it parsed: the same text gives an equal copy.

A client sends the same session cookie on request after request, so
``TaggedJSONSerializer.loads`` keeps the text of a flat dict of plain values
(str, int, float, bool, None) with its result and hands out copies. What a
user sees must not change: every call returns a dict of its own, a tag
registered later is honoured, anything that is not a flat dict is parsed
each time, and the kept texts are bounded. Session tests run under WSGI and
ASGI (the ``client`` fixture).
"""

from __future__ import annotations

from typing import Any

from kettle import Kettle, session
from kettle.http.cookies import KEPT_HEADER, kept_cookie_value
from kettle.json.tag import _PARSED_SIZE, _PARSED_TEXTS, JSONTag, TaggedJSONSerializer
from kettle.testing import KettleClient


def test_the_same_text_gives_a_dict_of_its_own_each_time() -> None:
    serializer = TaggedJSONSerializer()
    text = '{"n":1,"name":"ann","ok":true,"ratio":0.5,"none":null}'
    first = serializer.loads(text)
    first["n"] = 99
    first["extra"] = 1
    second = serializer.loads(text)
    assert second == {"n": 1, "name": "ann", "ok": True, "ratio": 0.5, "none": None}
    assert second is not first
    assert list(second) == ["n", "name", "ok", "ratio", "none"]  # the text's order


def test_only_flat_dicts_of_plain_values_are_kept() -> None:
    serializer = TaggedJSONSerializer()
    for text, value in (
        ('{"items":[1,2]}', {"items": [1, 2]}),
        ('{"inner":{"a":1}}', {"inner": {"a": 1}}),
        ('{" t":[1,2]}', (1, 2)),
        ("[1,2]", [1, 2]),
        ('"text"', "text"),
        ('{"s":"{x"}', {"s": "{x"}),  # a brace in a string: not told from a nested object
    ):
        first = serializer.loads(text)
        assert first == value
        assert serializer.loads(text) == value
        assert text not in serializer._parsed
    nested = serializer.loads('{"items":[1,2]}')
    nested["items"].append(3)
    assert serializer.loads('{"items":[1,2]}') == {"items": [1, 2]}


class TagN(JSONTag):
    """A tag whose key is a plain word: a one-key dict under it is read as tagged."""

    key = "n"

    def check(self, value: Any) -> bool:
        return False

    def to_json(self, value: Any) -> Any:
        return value

    def to_python(self, value: Any) -> Any:
        return ("tagged", value)


def test_a_tag_registered_later_is_honoured() -> None:
    serializer = TaggedJSONSerializer()
    assert serializer.loads('{"n":1}') == {"n": 1}
    serializer.register(TagN)
    assert serializer.loads('{"n":1}') == ("tagged", 1)


def test_kept_texts_are_bounded_in_number_and_size() -> None:
    serializer = TaggedJSONSerializer()
    for n in range(_PARSED_TEXTS * 2):
        assert serializer.loads(f'{{"n":{n}}}') == {"n": n}
    assert len(serializer._parsed) == _PARSED_TEXTS
    assert '{"n":0}' not in serializer._parsed
    assert f'{{"n":{_PARSED_TEXTS * 2 - 1}}}' in serializer._parsed
    long = '{"blob":"' + "x" * _PARSED_SIZE + '"}'
    assert serializer.loads(long) == {"blob": "x" * _PARSED_SIZE}
    assert long not in serializer._parsed


def test_a_session_read_again_is_the_cookies_data(app: Kettle, client: KettleClient) -> None:
    app.secret_key = "parsed key"

    @app.route("/write")
    def write() -> str:
        session["n"] = 1
        session["who"] = "ann"
        return "ok"

    @app.route("/change")
    def change() -> str:
        session["n"] += 10
        return str(session["n"])

    client.get("/write")
    cookie = client.get_cookie("session")
    assert cookie is not None
    for _ in range(3):
        # The first cookie each time: the change of the last request is not in it.
        client.set_cookie("session", cookie.value)
        assert client.get("/change").text == "11"


def test_the_cookie_is_found_in_long_and_repeated_headers(
    app: Kettle, client: KettleClient
) -> None:
    app.secret_key = "parsed key"

    @app.route("/write")
    def write() -> str:
        session["n"] = 5
        return "ok"

    @app.route("/read")
    def read() -> str:
        return repr(dict(session))

    client.get("/write")
    cookie = client.get_cookie("session")
    assert cookie is not None
    others = {f"c{i}": "v" * 60 for i in range(80)}  # a header past KEPT_HEADER
    assert sum(len(name) + len(value) + 3 for name, value in others.items()) > KEPT_HEADER
    for name, value in others.items():
        client.set_cookie(name, value)
    for _ in range(2):
        assert client.get("/read").text == "{'n': 5}"
    for name in others:
        client.delete_cookie(name)
    for _ in range(2):  # a short header, read twice
        assert client.get("/read").text == "{'n': 5}"
    client.set_cookie("session", cookie.value + "x")
    assert client.get("/read").text == "{}"


def test_kept_cookie_values_are_bounded() -> None:
    for n in range(600):
        assert kept_cookie_value(f"a=1; session=s{n}; b=2", "session") == f"s{n}"
    assert kept_cookie_value("a=1; session=s0; b=2", "session") == "s0"
    assert kept_cookie_value("a=1; b=2", "session") is None
    assert kept_cookie_value.cache_info().currsize <= 256
