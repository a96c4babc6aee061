"""``parse_content_length`` keeps answers (bounded): a kept answer is the rule's, every time."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, request
from kettle.http.exceptions import BadRequest
from kettle.http.headervalues import parse_content_length
from kettle.testing import KettleClient


def test_answers_stay_the_rules_past_the_bound() -> None:
    # More distinct values than are kept, twice over: evicted or kept, the same answers.
    # (``__wrapped__`` is the function without the kept answers; the direct test checks
    # the rule itself.)
    computed = parse_content_length.__wrapped__
    values = [str(i) for i in range(3000)] + ["1, 1", " 7 ", "x", "", "٣", "9" * 25, "0" * 30]
    for _ in range(2):
        for value in values:
            assert parse_content_length(value) == computed(value)


def test_a_value_that_raises_raises_each_time() -> None:
    for _ in range(3):
        with pytest.raises(BadRequest):
            parse_content_length("3, 4")
    assert parse_content_length("3, 3") == 3


def test_bodies_of_many_lengths(app: Kettle, client: KettleClient) -> None:
    @app.post("/form")
    def form() -> Any:
        return {"length": request.content_length, "a": request.form["a"]}

    for size in [1, 2, 1, 1500, 2]:
        response = client.post(
            "/form", data=f"a={'x' * size}", content_type="application/x-www-form-urlencoded"
        )
        assert response.json == {"length": size + 2, "a": "x" * size}
