"""Issue 16's speed targets, judged on the cells of one ``benchmarks/run.py`` run.

Each target compares two medians of the same run (the issue's measure), so
``make bench`` says by itself which targets it meets; the fastest rounds'
ratio is shown beside it, since a median on a shared host moves more than
the gaps being judged. A compiled column (``kettle-*-compiled``) is judged
beside the pure one when the run has it: item 7 of the issue lets a compiled
build meet a target pure Python cannot. A target whose cells are missing or
pending is reported as not judged, never as met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

#: ``kettle`` column against the peer at most ``limit`` times its median.
_AGAINST_PEERS: tuple[tuple[str, str, str, float], ...] = (
    *(
        (scenario, "kettle-wsgi", "falcon", 1.0)
        for scenario in ("hello", "param", "query", "json", "form", "upload")
    ),
    *(
        (scenario, "kettle-asgi", "falcon-asgi", 1.0)
        for scenario in ("hello", "param", "query", "json", "async_hello")
    ),
    ("notfound", "kettle-wsgi", "bare-wsgi", 1.5),
    ("cookie_session", "kettle-wsgi", "starlette", 1 / 3),
    ("cookie_session", "kettle-asgi", "starlette", 1 / 3),
    # Item 4: a sync view run inline on the loop costs what an ``async def`` view does
    # (within 10 %: two columns of the same app, the noise between them).
    ("async_hello", "kettle-asgi-inline", "kettle-asgi", 1.1),
    ("hello", "kettle-asgi-inline", "kettle-asgi", 1.1),
)
#: ``kettle`` column at most this many µs per request.
_ABSOLUTE: tuple[tuple[str, str, float], ...] = (("cookie_session", "kettle-wsgi", 13.0),)
#: Building and compiling a 1,000-rule map, median ms.
MAP_BUILD_MS = 20.0


class Measured(Protocol):
    """What a goal reads of a cell (``run.Cell``)."""

    scenario: str
    framework: str
    samples: list[float]

    @property
    def median_us(self) -> float | None: ...


@dataclass
class Verdict:
    """One target: what was measured, the limit, and whether it is met."""

    goal: str
    value: float | None
    limit: float
    fastest: float | None = None
    unit: str = "x"

    @property
    def met(self) -> bool | None:
        """True or False; None when the run has no numbers for it."""
        return None if self.value is None else self.value <= self.limit

    def line(self) -> str:
        """The target as one printed line."""
        if self.value is None:
            return f"  {self.goal:<52} not judged (cell missing or pending)"
        fastest = "" if self.fastest is None else f" (fastest {self.fastest:.2f}{self.unit})"
        verdict = "met" if self.met else "NOT MET"
        return f"  {self.goal:<52} {self.value:6.2f}{self.unit}{fastest:<18} <= {self.limit:.2f}{self.unit}  {verdict}"


def _fastest_us(cell: Measured | None) -> float | None:
    return min(cell.samples) * 1e6 if cell is not None and cell.samples else None


def judge(cells: list[Any], map_build_ms: float | None = None) -> list[Verdict]:
    """Return the verdict of every target the cells (and the map build) bear on."""
    by_key: dict[tuple[str, str], Measured] = {(c.scenario, c.framework): c for c in cells}
    frameworks = {c.framework for c in cells}
    verdicts: list[Verdict] = []
    for scenario, mine, peer, limit in _AGAINST_PEERS:
        columns = [mine]
        compiled = f"{mine}-compiled"
        if compiled in frameworks:
            columns.append(compiled)
        for column in columns:
            own, other = by_key.get((scenario, column)), by_key.get((scenario, peer))
            value = fastest = None
            if own is not None and other is not None and own.median_us and other.median_us:
                value = own.median_us / other.median_us
                own_fast, other_fast = _fastest_us(own), _fastest_us(other)
                if own_fast and other_fast:
                    fastest = own_fast / other_fast
            verdicts.append(Verdict(f"{scenario}: {column} / {peer}", value, limit, fastest))
    for scenario, mine, limit_us in _ABSOLUTE:
        own = by_key.get((scenario, mine))
        value = own.median_us if own is not None else None
        verdicts.append(Verdict(f"{scenario}: {mine} µs", value, limit_us, _fastest_us(own), " µs"))
    if map_build_ms is not None:
        verdicts.append(
            Verdict(
                "route map: 1,000 rules, add + compile", map_build_ms, MAP_BUILD_MS, None, " ms"
            )
        )
    return verdicts


def report(verdicts: list[Verdict]) -> str:
    """The printed block: one line per target, then the count met."""
    met = sum(1 for v in verdicts if v.met)
    judged = sum(1 for v in verdicts if v.met is not None)
    lines = [
        "Issue 16 targets, on this run's medians (ratio to the peer; fastest rounds in brackets):"
    ]
    lines += [verdict.line() for verdict in verdicts]
    lines.append(f"  {met} of {judged} judged targets met")
    return "\n".join(lines)


def as_json(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """The verdicts for the results file."""
    return [
        {
            "goal": v.goal,
            "value": None if v.value is None else round(v.value, 4),
            "fastest": None if v.fastest is None else round(v.fastest, 4),
            "limit": round(v.limit, 4),
            "unit": v.unit.strip(),
            "met": v.met,
        }
        for v in verdicts
    ]
