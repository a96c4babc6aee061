"""``benchmarks/goals.py`` judges issue 16's targets on one run's cells."""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import goals


@dataclass
class FakeCell:
    """A cell as ``run.Cell`` has it: samples in seconds per request."""

    scenario: str
    framework: str
    samples: list[float] = field(default_factory=list)

    @property
    def median_us(self) -> float | None:
        return statistics.median(self.samples) * 1e6 if self.samples else None


def _cell(scenario: str, framework: str, *us: float) -> FakeCell:
    return FakeCell(scenario, framework, [value / 1e6 for value in us])


def _by_goal(verdicts: list[goals.Verdict]) -> dict[str, goals.Verdict]:
    return {verdict.goal: verdict for verdict in verdicts}


def test_ratios_are_judged_on_medians_with_the_fastest_rounds_beside() -> None:
    cells = [
        _cell("hello", "kettle-wsgi", 4.0, 4.2, 9.0),
        _cell("hello", "falcon", 4.4, 4.5, 4.6),
        _cell("param", "kettle-wsgi", 6.0, 6.1, 6.2),
        _cell("param", "falcon", 5.0, 5.1, 5.2),
    ]
    verdicts = _by_goal(goals.judge(cells))
    hello = verdicts["hello: kettle-wsgi / falcon"]
    assert hello.value is not None and round(hello.value, 4) == round(4.2 / 4.5, 4)
    assert hello.fastest is not None and round(hello.fastest, 4) == round(4.0 / 4.4, 4)
    assert hello.met is True
    assert verdicts["param: kettle-wsgi / falcon"].met is False
    # No cells: not judged, and never counted as met.
    assert verdicts["query: kettle-wsgi / falcon"].met is None
    text = goals.report(list(verdicts.values()))
    assert "hello: kettle-wsgi / falcon" in text and "met" in text
    assert "NOT MET" in text and "not judged" in text
    assert "1 of 2 judged targets met" in text


def test_notfound_sessions_inline_map_and_compiled_columns() -> None:
    cells = [
        _cell("notfound", "kettle-wsgi", 1.2),
        _cell("notfound", "bare-wsgi", 1.0),
        _cell("cookie_session", "kettle-wsgi", 14.0),
        _cell("cookie_session", "starlette", 60.0),
        _cell("async_hello", "kettle-asgi", 5.0),
        _cell("async_hello", "kettle-asgi-inline", 5.6),
        _cell("hello", "kettle-wsgi", 5.0),
        _cell("hello", "kettle-wsgi-compiled", 4.0),
        _cell("hello", "falcon", 4.5),
    ]
    verdicts = _by_goal(goals.judge(cells, map_build_ms=16.0))
    assert verdicts["notfound: kettle-wsgi / bare-wsgi"].met is True  # 1.2x <= 1.5x
    assert verdicts["cookie_session: kettle-wsgi / starlette"].met is True  # 14/60 <= 1/3
    assert verdicts["cookie_session: kettle-wsgi µs"].met is False  # 14 > 13 µs
    assert verdicts["async_hello: kettle-asgi-inline / kettle-asgi"].met is False  # 1.12x
    assert verdicts["hello: kettle-wsgi / falcon"].met is False
    assert verdicts["hello: kettle-wsgi-compiled / falcon"].met is True
    assert "param: kettle-wsgi-compiled / falcon" in verdicts  # judged when the column exists
    assert verdicts["route map: 1,000 rules, add + compile"].met is True
    stored = goals.as_json(list(verdicts.values()))
    assert {
        "goal": "route map: 1,000 rules, add + compile",
        "value": 16.0,
        "fastest": None,
        "limit": 20.0,
        "unit": "ms",
        "met": True,
    } in stored
