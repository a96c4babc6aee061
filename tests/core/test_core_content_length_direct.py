"""``parse_content_length``: the direct path for plain digits agrees with the general rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kettle.http.exceptions import BadRequest
from kettle.http.headervalues import parse_content_length
from kettle.http.preconditions import ascii_int


def _general(value: str) -> int | None:
    """The rule spelled out: a list of one repeated length, blanks stripped, ASCII digits."""
    if "," in value:
        lengths = {item.strip(" \t") for item in value.split(",")}
        if len(lengths) > 1:
            raise BadRequest()
        value = lengths.pop()
    return ascii_int(value.strip(" \t"), clamp=True)


@given(st.text(alphabet="0123456789 \t,+-_٣²x", max_size=25) | st.integers(0, 10**22).map(str))
def test_agrees_with_the_general_rule(value: str) -> None:
    try:
        expected = _general(value)
    except BadRequest:
        with pytest.raises(BadRequest):
            parse_content_length(value)
        return
    assert parse_content_length(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("179", 179), ("007", 7), ("٣", None), ("²", None), ("1_0", None),
     ("+1", None), (" 5 ", 5), ("9" * 18, int("9" * 18)), ("9" * 25, 10**19), ("", None)],
)
def test_values(value: str, expected: int | None) -> None:
    assert parse_content_length(value) == expected
