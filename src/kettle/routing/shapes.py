"""The common shapes of dynamic paths, each matched by one regex instead of the walk.

Most dynamic rules look like ``/users/<int:id>/posts/<slug>``: a static first
segment, then segments that each have one way on. From the state the first
segment leads to, the walk (``matcher.py``) takes such steps in place, never
to come back: a static part, or a part that takes any segment or ASCII
digits. ``shapes_of`` writes each run of such steps that ends at a state with
rules as one regex over the rest of the path, e.g.
``([0-9]++)/posts/([^/]++)``; ``StateMachine.resolve`` tries those (as many
as the run has states with rules, not one per rule) before it walks, and a
match gives the view arguments' text in the rule's order (``groups()``). A shape
answers only what the walk would: the state's first rule for the method,
nothing refused on the way; anything else is left to the walk.

Shapes are made on a state's first match, so building a map compiles no
regex for them. The optional C accelerator ``kettle.routing._resolve`` tries
the same shapes for ``Map.plain_resolve`` (``plain_resolver``) and leaves
every other case to ``resolve``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kettle._accelerators import accelerator
from kettle.routing.arguments import NOTHING_MATCHED

if TYPE_CHECKING:
    from kettle.routing.exceptions import NoMatch
    from kettle.routing.matcher import StateMachine, _State
    from kettle.routing.rules import Rule

__all__ = ["Shape", "ShapeEntry", "plain_resolver", "shape_entries", "shapes_of", "walk_fails"]

#: The C resolver (``_resolve.c``), or None: ``StateMachine.resolve`` itself is used.
_Resolver = accelerator("kettle.routing._resolve", "Resolver")

#: A run of single steps to a state with rules: the fullmatch of the regex the
#: whole path matches (its first segment, then the steps, each after a slash),
#: with a group for each value of the state's first rule, in order; the HTTP
#: methods that rule answers there (None: any method; none for a WebSocket
#: rule, which is walked); the rule; the number of steps after the first
#: segment; and those steps as the C resolver takes them (``Program``).
Shape = tuple[
    Callable[[str], "re.Match[str] | None"], "frozenset[str] | None", "Rule", int, "Program"
]
#: The steps after the first segment: a static segment's text, or a value's kind
#: (``ANY_STEP``: any non-empty segment; ``DIGITS_STEP``: ASCII digits; the edge kinds
#: ``_ANY`` and ``_DIGITS`` of ``matcher.py``, the only ones with a ``step``).
Program = tuple["str | int", ...]
ANY_STEP, DIGITS_STEP = 0, 1
#: A shape as the C resolver reads it: its program, methods and rule, the rule's
#: ``_arity`` and, for one or two values, its first two decoders and names (else None).
ShapeEntry = tuple[Program, Any, "Rule", int, Any, Any, Any, Any]


def shape_entries(shapes: tuple[Shape, ...]) -> tuple[ShapeEntry, ...]:
    """``shapes`` as ``ShapeEntry`` tuples (``StateMachine.shape_entries``)."""
    entries: list[ShapeEntry] = []
    for _, methods, rule, _, program in shapes:
        arity = rule._arity
        decoders = (*rule._decoders, None, None) if arity else (None, None)
        names = (*rule._names, None, None) if arity else (None, None)
        entries.append(
            (program, methods, rule, arity, decoders[0], decoders[1], names[0], names[1])
        )
    return tuple(entries)


def plain_resolver(
    machine: StateMachine,
) -> Callable[[str, str], tuple[Rule, dict[str, Any]] | NoMatch]:
    """What ``Map.plain_resolve`` calls: the C resolver over ``machine``'s shapes, else its
    ``resolve``. The C one answers a path of a common shape itself (the same answer,
    comparing segments where the shape's regex would run) and calls ``machine.resolve``
    for anything else."""
    if _Resolver is None or machine.top is None:
        return machine.resolve
    return _Resolver(  # type: ignore[no-any-return]
        machine.shape_entries, machine.resolve, NOTHING_MATCHED, bool(machine.top.edges)
    )


def shapes_of(start: _State, segment: str) -> tuple[Shape, ...]:
    """The shapes from ``start``, the state the first segment ``segment`` leads to.

    One for each state with rules single steps lead to from it; none after an
    empty first segment (``//``: the walk merges the slashes first).

    A step is single where a non-empty segment has one way on: a state with
    one non-empty static part and no edges, or with one edge that has a
    ``step`` regex (any segment, ASCII digits) and no static part but the
    empty one. Every segment a shape matches is non-empty, so the walk's
    other ways (an empty segment to a static ``""`` part, or to a break for a
    trailing slash) never apply.
    """
    shapes: list[Shape] = []
    if not segment:
        return ()
    steps: list[tuple[str, bool]] = [(re.escape(segment), False)]  # (regex, captures)
    program: list[str | int] = []
    state = start
    while True:
        edge = state.lone
        if state.edges:
            if edge is None or edge.step is None or state.static.keys() - {""}:
                return tuple(shapes)
            steps.append((edge.step, True))
            program.append(edge.kind)  # (An edge with a step: matcher's ``_ANY`` or ``_DIGITS``.)
            state = edge.target
        else:
            keys = [name for name in state.static if name]
            if len(keys) != 1:
                return tuple(shapes)
            steps.append((re.escape(keys[0]), False))
            program.append(keys[0])
            state = state.static[keys[0]]
        first = state.first
        names = first._names if first is not None else ()
        if first is not None and len(names) == sum(captures for _, captures in steps):
            pattern = "".join(f"/({step})" if captures else f"/{step}" for step, captures in steps)
            # The first rule is the state's rule for each of its methods, or
            # for any (``state.http``'s "*"), as HTTP rule.
            methods = None if first.methods is None else frozenset(first.methods)
            if first.websocket:
                methods = frozenset()
            shape = (re.compile(pattern).fullmatch, methods, first, len(steps) - 1, tuple(program))
            shapes.append(shape)


def walk_fails(top: _State, path: str, shapes: tuple[Shape, ...]) -> bool:
    """Tell if the walk fails too, when no shape from the first segment's state matched ``path``.

    It does when the path starts with a slash and has no empty segment, the
    top state has no other way on than the first segment's static part, and
    some shape takes as many steps as the path has segments after the first:
    the walk takes those steps one by one and fails on the segment that
    shape's regex refused.
    """
    if top.edges or path[0] != "/" or path[-1] == "/" or "//" in path:
        return False
    segments = path.count("/") - 1
    # A loop, not any() over a generator: that costs a 404 about 20 % of its match.
    for _, _, _, steps, _ in shapes:  # noqa: SIM110
        if steps == segments:
            return True
    return False
