"""The compiled matcher: a state machine over rule parts, and a table of static paths.

Theory of operation: every rule is a list of parts (``rules.py``); the request
is ``[domain, *path.split("/")]``. Rules are merged into a tree of states,
one edge per part: static parts are dict keys, dynamic parts a list of edges
sorted by weight. Matching walks the request's segments depth first: at each
state it tries the static edge, then each dynamic edge in order, and
backtracks when a branch ends without a rule for the method. The cost depends
on the depth of the path and the few edges that compete at each state, not on
how many rules there are. This is the order Werkzeug's ``StateMachineMatcher``
defines, so priorities are the same as Flask's.

The walk is a loop: a state with one way forward for the segment (its static
edge, or its only dynamic edge) is followed in place; only a state where
several edges compete recurses, and a branch that fails drops the values it
captured. Edges are tagged by kind so the common converters cost no regex: a
default string converter takes any non-empty segment, an unsigned ``int``
checks for ASCII digits; other parts run their regex, and a part with a path
converter (*final*) runs it over the rest of the path. The loop is the one
place an edge tests a segment: where edges compete, ``_branch`` hands each
one to it. At the end of the path a state's table of rules by method (made
once, as the static table's) names the rule; only when its first rule
refuses the method does ``_allowed`` go through the rules to record what
they would take (for a 405). ``StateMachine.resolve`` then converts the
captured values to the view arguments, all in one call from ``Map.match``.

Most requests hit a rule without converters; ``StaticTable`` answers those with
two dict lookups, ahead of the walk, and gives the same rule the walk would
(the walk tries the all-static branch first). Most of the others have a
common shape (a static first segment, then segments with one way on each):
``resolve`` matches those with one regex (``shapes.py``) before it walks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from kettle.routing.arguments import (
    NOTHING_MATCHED,
    WEBSOCKET_MISMATCH,
    decoded_arguments,
    no_match,
    refused,
)
from kettle.routing.exceptions import NoMatch, RequestPath
from kettle.routing.shapes import Shape, ShapeEntry, shape_entries, shapes_of, walk_fails

if TYPE_CHECKING:
    from kettle.routing.rules import Rule, RulePart

__all__ = ["StateMachine", "StaticTable", "WEBSOCKET_MISMATCH"]


# Edge kinds. A part that is exactly one default string converter matches any
# non-empty segment, one unsigned int converter a run of ASCII digits: neither
# needs its regex.
_ANY: Final = 0
_DIGITS: Final = 1
_REGEX: Final = 2  # one segment through the part's regex
_FINAL: Final = 3  # the rest of the path through the part's regex (a path converter)
# In a shape each step is followed by "/" or the end, which neither class takes: a
# shorter match could never do, so the repeats are possessive (no backtracking).
_STEPS: Final = {_ANY: "[^/]++", _DIGITS: "[0-9]++"}
_ANY_SEGMENT = frozenset({r"(?P<_k0>[^/]+)\Z", r"(?P<_k0>[^/]{1,})\Z"})
_DIGITS_SEGMENT = r"(?P<_k0>[0-9]+)\Z"

# Captured text, decoded in place to the view arguments (so not list[str]:
# compiled code would check each item).
Values = list[Any]
Search = Callable[[str], "re.Match[str] | None"]


class _SlashRequired(Exception):
    """The path matches a strict-slashes rule once a slash is appended."""


_TRAILING_SLASH = ("",)


_NO_RULES: dict[str, Rule] = {}


def _by_method(candidates: Sequence[Rule], websocket: bool) -> dict[str, Rule]:
    """The first of ``candidates`` of the protocol for each method they name.

    ``"*"`` holds the first that takes any method (``methods`` None), which
    is also the first for a method named only after it.
    """
    by_method: dict[str, Rule] = {}
    anything: Rule | None = None
    for rule in candidates:
        if rule.websocket != websocket:
            continue
        if rule.methods is None:
            if anything is None:
                anything = rule
            continue
        for method in rule.methods:
            if method not in by_method:
                by_method[method] = rule if anything is None else anything
    if anything is not None:
        by_method.setdefault("*", anything)
    return by_method


class _Edge:
    """A dynamic transition: how it tests the segment, and the state it leads to."""

    __slots__ = ("indices", "kind", "plain", "search", "step", "suffixed", "target")

    def __init__(
        self,
        kind: int,
        search: Search,
        suffixed: bool,
        plain: bool,
        indices: tuple[int, ...],
        target: _State,
    ) -> None:
        self.kind = kind
        self.search = search
        self.suffixed = suffixed
        # Without groups of the converters' own, groups() is the values.
        self.plain = plain
        self.indices = indices
        self.target = target
        #: The regex of the one segment it takes, in a shape (``shapes.py``).
        self.step = _STEPS.get(kind)


class _State:
    __slots__ = (
        "dynamic",
        "edges",
        "first",
        "http",
        "lone",
        "rules",
        "shapes",
        "static",
        "websocket",
    )

    def __init__(self) -> None:
        self.static: dict[str, _State] = {}
        self.dynamic: list[tuple[RulePart, _State]] = []
        self.edges: tuple[_Edge, ...] = ()
        #: The only edge, when there is one and it takes a single segment.
        self.lone: _Edge | None = None
        self.rules: list[Rule] = []
        #: The first of ``rules``, and the rules by method (``_by_method``) for
        #: HTTP and for WebSocket: made by ``StateMachine.finish``.
        self.first: Rule | None = None
        self.http: dict[str, Rule] = _NO_RULES
        self.websocket: dict[str, Rule] = _NO_RULES
        #: Where single steps lead from here (``shapes_of``): made on first use.
        self.shapes: tuple[Shape, ...] | None = None


def _capture(edge: _Edge, match: re.Match[str], values: Values) -> None:
    if edge.plain:
        values.extend(match.groups())
    else:
        # group(i, 0) is always a tuple, even for one index; drop the 0th.
        values.extend(match.group(*edge.indices, 0)[:-1])


def _walk(
    state: _State,
    parts: Sequence[str],
    index: int,
    values: Values,
    method: str,
    websocket: bool,
    misses: set[str],
    edge: _Edge | None = None,
) -> Rule | None:
    """Match ``parts[index:]`` from ``state``; None if no branch has a rule for the method.

    ``edge``: take this (non-final) edge for the first segment, as ``_branch``
    does for each edge it tries; this loop is the one place an edge tests a
    segment.
    """
    count = len(parts)
    # Go forward in place while there is nothing to come back to: one edge
    # for the segment, no trailing-slash rule to try at this state.
    while index < count:
        part = parts[index]
        if edge is None:
            if not part and state.rules:
                break
            following = state.static.get(part)
            if following is not None:
                if state.edges:
                    break
                state = following
                index += 1
                continue
            edge = state.lone
            if edge is None:
                if state.edges:
                    break
                return None
        kind = edge.kind
        if kind == _REGEX:
            match = edge.search(part)
            if match is None:
                return None
            _capture(edge, match, values)
        # Any non-empty segment, or ASCII digits (str.isdigit alone takes
        # other scripts' digits too).
        elif part and (kind == _ANY or (part.isdigit() and part.isascii())):
            values.append(part)
        else:
            return None
        state = edge.target
        edge = None
        index += 1
    else:
        # All segments are consumed. The state's table answers when its first
        # rule takes the method (nothing refused on the way, as _allowed would
        # find); otherwise _allowed walks the rules and records the refusals.
        table = state.websocket if websocket else state.http
        rule = table.get(method) or table.get("*")
        if rule is None or rule is not state.first:
            rule = _allowed(state.rules, method, websocket, misses)
            if rule is None and "" in state.static:
                return _slashed(state, method, websocket)
        return rule
    return _branch(state, parts, index, values, method, websocket, misses)


def _branch(
    state: _State,
    parts: Sequence[str],
    index: int,
    values: Values,
    method: str,
    websocket: bool,
    misses: set[str],
) -> Rule | None:
    """Try the static edge, then the dynamic edges in weight order, then a trailing slash."""
    part = parts[index]
    mark = len(values)
    following = state.static.get(part)
    if following is not None:
        found = _walk(following, parts, index + 1, values, method, websocket, misses)
        if found is not None:
            return found
        del values[mark:]
    for edge in state.edges:
        if edge.kind == _FINAL:
            found = _follow_final(edge, parts, index, values, method, websocket, misses)
        else:
            found = _walk(state, parts, index, values, method, websocket, misses, edge)
        if found is not None:
            return found
        del values[mark:]
    # Only a trailing slash is left: rules that do not insist on the exact
    # slash (strict_slashes=False) match here.
    if not part and index == len(parts) - 1:
        return _allowed(state.rules, method, websocket, misses, lenient_only=True)
    return None


def _follow_final(
    edge: _Edge,
    parts: Sequence[str],
    index: int,
    values: Values,
    method: str,
    websocket: bool,
    misses: set[str],
) -> Rule | None:
    """Match a path converter's part against the rest of the path, then go on."""
    match = edge.search("/".join(parts[index:]))
    if match is None:
        return None
    _capture(edge, match, values)
    if edge.suffixed and match.group(match.re.groups) == "/":
        # The path converter stopped before a trailing slash: that slash is
        # the rule's own final "/" part.
        return _walk(edge.target, _TRAILING_SLASH, 0, values, method, websocket, misses)
    return _walk(edge.target, parts, len(parts), values, method, websocket, misses)


def _allowed(
    rules: Sequence[Rule],
    method: str,
    websocket: bool,
    misses: set[str],
    lenient_only: bool = False,
) -> Rule | None:
    """The first of ``rules`` for ``method`` and the protocol; the others' methods go to ``misses``.

    ``lenient_only``: only rules that do not insist on the exact slash
    (``strict_slashes=False``) count.
    """
    for rule in rules:
        if lenient_only and rule.strict_slashes:
            continue
        if rule.methods is not None and method not in rule.methods:
            misses.update(rule.methods)
        elif rule.websocket != websocket:
            misses.add(WEBSOCKET_MISMATCH)
        else:
            return rule
    return None


def _slashed(state: _State, method: str, websocket: bool) -> Rule | None:
    """The path has no rule, the same path with a slash appended has one.

    Redirect there (raise ``_SlashRequired``), or match it directly if the
    rule does not insist on the slash.
    """
    for rule in state.static[""].rules:
        if rule.websocket == websocket and (rule.methods is None or method in rule.methods):
            if rule.strict_slashes:
                raise _SlashRequired
            return rule
    return None


# An edge less its target: what every rule holding the same part shares.
_EdgeHead = tuple[int, Search, bool, bool, tuple[int, ...]]


def _edge_head(part: RulePart, pattern: re.Pattern[str]) -> _EdgeHead:
    if part.final:
        kind = _FINAL
    elif part.content in _ANY_SEGMENT:
        kind = _ANY
    elif part.content == _DIGITS_SEGMENT:
        kind = _DIGITS
    else:
        kind = _REGEX
    plain = pattern.groups == part.count and not part.suffixed
    indices = tuple(pattern.groupindex[f"_k{n}"] for n in range(part.count))
    return kind, pattern.match, part.suffixed, plain, indices


def normalize_path(path: str) -> str:
    """The path with exactly one leading slash, as Werkzeug (``//a`` matches ``/a``); "" is "/"."""
    if path[:1] != "/" or path[1:2] == "/":
        return "/" + path.lstrip("/")
    return path


class StateMachine:
    """All matchable rules merged into one state machine."""

    def __init__(self, merge_slashes: bool) -> None:
        self.merge_slashes = merge_slashes
        self.root = _State()
        # The state after the path's leading slash, by domain; empty, and
        # ``from_root`` set, when some rule has a dynamic subdomain or host
        # (then the walk starts at the top).
        self.paths: dict[str, _State] = {}
        #: ``paths.get("")``: the usual domain's (no subdomain, no host matching).
        self.top: _State | None = None
        self.from_root = False
        #: The shapes from ``top``'s static parts, by first segment, as the C resolver
        #: reads them (``shapes.plain_resolver``): filled as ``resolve`` makes them.
        self.shape_entries: dict[str, tuple[ShapeEntry, ...]] = {}

    def add(self, rule: Rule) -> None:
        """Add the rule's parts as a path through the states."""
        state = self.root
        for part in rule._parts:
            if part.static:
                following = state.static.get(part.content)
                if following is None:
                    following = state.static[part.content] = _State()
                state = following
                continue
            for known, following in state.dynamic:
                if known is part or known.key == part.key:
                    state = following
                    break
            else:
                following = _State()
                state.dynamic.append((part, following))
                state = following
        state.rules.append(rule)

    def finish(self) -> None:
        """Sort competing dynamic parts by weight and compile their regexes once."""
        # Parts are shared by the rules that hold the same segment: one edge
        # head per distinct part, one regex per distinct content.
        compiled: dict[str, re.Pattern[str]] = {}
        made: dict[RulePart, _EdgeHead] = {}
        pending = [self.root]
        while pending:
            state = pending.pop()
            pending.extend(state.static.values())
            rules = state.rules
            if rules:
                state.first = rules[0]
                state.http = _by_method(rules, False)
                state.websocket = _by_method(rules, True)
            dynamic = state.dynamic
            if not dynamic:
                continue
            if len(dynamic) > 1:
                # Stable sort: equal weights keep definition order, as Werkzeug.
                dynamic.sort(key=lambda entry: entry[0].weight)
            edges: list[_Edge] = []
            for part, following in dynamic:
                pending.append(following)
                head = made.get(part)
                if head is None:
                    pattern = compiled.get(part.content)
                    if pattern is None:
                        pattern = compiled[part.content] = re.compile(part.content)
                    head = made[part] = _edge_head(part, pattern)
                kind, search, suffixed, plain, indices = head
                edges.append(_Edge(kind, search, suffixed, plain, indices, following))
            state.edges = tuple(edges)
            if len(edges) == 1 and edges[0].kind != _FINAL:
                state.lone = edges[0]
        root = self.root
        if root.edges:
            self.paths, self.from_root = {}, True
        else:
            # Every rule starts with a slash: the empty part after the domain.
            self.paths = {
                domain: top.static[""] for domain, top in root.static.items() if "" in top.static
            }
        self.top = self.paths.get("")

    def resolve(
        self,
        path: str,
        method: str,
        domain: str = "",
        websocket: bool = False,
        redirect_defaults: bool = False,
        misses: set[str] | None = None,
        merged: bool = False,
    ) -> tuple[Rule, dict[str, Any]] | NoMatch:
        """Return the rule and its view arguments, or a NoMatch.

        The defaults are the app's common request (no subdomain, HTTP); a map
        of plain rules (``Map.plain_resolve``) asks with ``path`` and
        ``method`` only.

        ``path`` is normalized here (``normalize_path``) when it is walked.
        Raises ``RequestPath`` with the path to redirect to (a slash
        appended, or slashes merged), and ``RequestAliasRedirect`` for an
        alias rule under ``redirect_defaults``.
        The NoMatch is returned, not raised: a miss (a 404) is common, and the
        caller raises its own error once instead of catching this one first.
        ``misses`` gathers the refusals across the match of a path and of its
        ``merged`` form (slashes merged: a match there is a redirect).
        """
        top = self.top if domain == "" else self.paths.get(domain)
        values: Sequence[Any] | None = None
        if misses is None and top is not None and not websocket:
            # The common shape: a static first segment, then single steps to a
            # rule, matched by one regex over the whole path (``shapes.py``).
            try:
                segment = path.split("/", 2)[1]
            except IndexError:  # No slash: a path to normalize, walked ("/" is no segment).
                segment = "/"
            state = top.static.get(segment)
            if state is not None:
                shapes = state.shapes
                if shapes is None:
                    shapes = self._make_shapes(state, segment, domain)
                for fullmatch, methods, found, _, _ in shapes:
                    match = fullmatch(path)
                    if match is not None:
                        if methods is None or method in methods:
                            rule, values = found, match.groups()
                        break
                else:
                    if walk_fails(top, path, shapes):
                        return NOTHING_MATCHED
        if values is None:
            walked = self._walk_path(top, domain, path, method, websocket, misses, merged)
            if walked.__class__ is NoMatch:
                return walked
            rule, values, misses = walked  # type: ignore[misc]
        # The view arguments, each value through its decoder (None: the text
        # itself), keyed by the rule's interned names (a view called with
        # them binds its parameters by identity). One or two values and no
        # defaults (``rule._arity``, the usual) without a loop.
        arity = rule._arity
        try:  # (``decode`` is bound before any call that may raise.)
            if arity == 2:
                first, second = values
                decode, decode_second = rule._decoders
                first = first if decode is None else decode(first)
                decode = decode_second
                second = second if decode is None else decode(second)
                names = rule._names
                return rule, {names[0]: first, names[1]: second}
            if arity == 1:
                decode = rule._decoders[0]
                first = values[0]
                return rule, {rule._names[0]: first if decode is None else decode(first)}
        except ValueError as error:
            return refused(error, decode, misses)
        return decoded_arguments(rule, values, misses, redirect_defaults)

    def _make_shapes(self, state: _State, segment: str, domain: str) -> tuple[Shape, ...]:
        """``state.shapes``, made; for the usual domain, also what the C resolver reads."""
        shapes = state.shapes = shapes_of(state, segment)
        if domain == "":
            self.shape_entries[segment] = shape_entries(shapes)
        return shapes

    def _walk_path(
        self,
        top: _State | None,
        domain: str,
        path: str,
        method: str,
        websocket: bool,
        misses: set[str] | None,
        merged: bool,
    ) -> tuple[Rule, Values, set[str]] | NoMatch:
        """``resolve`` by the walk: the rule and its captured text in order, and the refusals."""
        if misses is None:
            misses = set()
            path = normalize_path(path)
        values: Values = []
        try:
            if self.from_root:
                # Some rule has a dynamic subdomain or host: walk from the top.
                parts = [domain, *path.split("/")]
                rule = _walk(self.root, parts, 0, values, method, websocket, misses)
            elif top is not None:
                rule = _walk(top, path.split("/"), 1, values, method, websocket, misses)
            else:
                rule = None
        except _SlashRequired:
            raise RequestPath(f"{path}/") from None
        if rule is None:
            if self.merge_slashes and not merged and "//" in path:
                merged_path = re.sub("/{2,}", "/", path)
                # A match there is a redirect, so this returns a NoMatch or raises.
                return self.resolve(  # type: ignore[return-value]
                    merged_path, method, domain, websocket, False, misses, True
                )
            return no_match(misses)
        if merged:
            if rule.merge_slashes:
                raise RequestPath(path)
            return no_match(misses)
        return rule, values, misses


class StaticTable:
    """Rules without converters by ``[websocket][domain][path][method]``.

    The method key holds the first rule (in definition order) that accepts
    the method; ``"*"`` holds the first rule that accepts every method.
    Every path starts with exactly one slash, so the map looks a request's
    path up before it normalizes it: a hit needed no normalizing. (A rule
    that keeps a leading ``//``, with ``merge_slashes=False``, is left to
    the walk, which only ever sees normalized paths, as before.)
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        grouped: dict[tuple[bool, str, str], list[Rule]] = {}
        for rule in rules:
            if rule.build_only or not all(part.static for part in rule._parts):
                continue
            domain = rule._parts[0].content
            path = "/".join(part.content for part in rule._parts[1:])
            if path[1:2] == "/":
                continue
            grouped.setdefault((rule.websocket, domain, path), []).append(rule)
        self.http: dict[str, dict[str, dict[str, Rule]]] = {}
        self.websocket: dict[str, dict[str, dict[str, Rule]]] = {}
        for (websocket, domain, path), candidates in grouped.items():
            table = self.websocket if websocket else self.http
            table.setdefault(domain, {})[path] = _by_method(candidates, websocket)
