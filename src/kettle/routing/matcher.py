"""The compiled matcher: a state machine over rule parts, and a table of static paths.

Theory of operation: every rule is a list of parts (``rules.py``); the request
is ``[domain, *path.split("/")]``. Rules are merged into a tree of states,
one edge per part: static parts are dict keys, dynamic parts a list of regexes
sorted by weight. Matching walks the request's segments depth first: at each
state it tries the static edge, then each dynamic edge in order, and
backtracks when a branch ends without a rule for the method. The cost depends
on the depth of the path and the few edges that compete at each state, not on
how many rules there are. This is the order Werkzeug's ``StateMachineMatcher``
defines, so priorities are the same as Flask's.

Most requests hit a rule without converters; ``StaticTable`` answers those with
two dict lookups, ahead of the walk, and gives the same rule the walk would
(the walk tries the all-static branch first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kettle.routing.exceptions import NoMatch, RequestPath

if TYPE_CHECKING:
    from kettle.routing.rules import Rule, RulePart

__all__ = ["StateMachine", "StaticTable", "WEBSOCKET_MISMATCH", "split_misses"]

#: Recorded among the refused methods when a rule of the other protocol matched;
#: the space keeps it apart from any real method name.
WEBSOCKET_MISMATCH = " websocket"

# A part that is exactly one default string converter matches any non-empty
# segment: no need to run its regex.
_ANY_SEGMENT = frozenset({r"(?P<_k0>[^/]+)\Z", r"(?P<_k0>[^/]{1,})\Z"})

Values = tuple[str, ...]
Found = tuple["Rule", Values]
# (any_segment, regex match, final, suffixed, plain groups, group indices, next state)
Edge = tuple[
    bool, Callable[[str], "re.Match[str] | None"], bool, bool, bool, tuple[int, ...], "_State"
]

# An edge less its target: what every rule holding the same part shares.
_EdgeHead = tuple[bool, Callable[[str], "re.Match[str] | None"], bool, bool, bool, tuple[int, ...]]


class _SlashRequired(Exception):
    """The path matches a strict-slashes rule once a slash is appended."""


_TRAILING_SLASH = ("",)


class _State:
    __slots__ = ("dynamic", "edges", "rules", "static")

    def __init__(self) -> None:
        self.static: dict[str, _State] = {}
        self.dynamic: list[tuple[RulePart, _State]] = []
        self.edges: tuple[Edge, ...] = ()
        self.rules: list[Rule] = []


def _walk(
    state: _State,
    parts: Sequence[str],
    index: int,
    values: Values,
    method: str,
    websocket: bool,
    misses: set[str],
) -> Found | None:
    """Match ``parts[index:]`` from ``state``; None if no branch has a rule for the method."""
    count = len(parts)
    # Follow static edges without recursing while there is nothing to come
    # back to: no dynamic edge, no trailing-slash rule to try at this state.
    while index < count:
        part = parts[index]
        if state.edges or (not part and state.rules):
            break
        following = state.static.get(part)
        if following is None:
            return None
        state = following
        index += 1
    else:
        return _at_end(state, values, method, websocket, misses)
    following = state.static.get(part)
    if following is not None:
        found = _walk(following, parts, index + 1, values, method, websocket, misses)
        if found is not None:
            return found
    if state.edges:
        found = _follow_edges(state, parts, index, values, method, websocket, misses)
        if found is not None:
            return found
    # Only a trailing slash is left: rules that do not insist on the exact
    # slash (strict_slashes=False) match here.
    if not part and index == count - 1:
        for rule in state.rules:
            if rule.strict_slashes:
                continue
            if rule.methods is not None and method not in rule.methods:
                misses.update(rule.methods)
            elif rule.websocket != websocket:
                misses.add(WEBSOCKET_MISMATCH)
            else:
                return rule, values
    return None


def _at_end(
    state: _State, values: Values, method: str, websocket: bool, misses: set[str]
) -> Found | None:
    """All segments are consumed: a rule of this state, or a slash redirect."""
    for rule in state.rules:
        if rule.methods is not None and method not in rule.methods:
            misses.update(rule.methods)
        elif rule.websocket != websocket:
            misses.add(WEBSOCKET_MISMATCH)
        else:
            return rule, values
    # The same path with a slash appended has a rule: redirect there, or
    # match it directly if it does not insist on the slash.
    slashed = state.static.get("")
    if slashed is not None:
        for rule in slashed.rules:
            if rule.websocket == websocket and (rule.methods is None or method in rule.methods):
                if rule.strict_slashes:
                    raise _SlashRequired
                return rule, values
    return None


def _follow_edges(
    state: _State,
    parts: Sequence[str],
    index: int,
    values: Values,
    method: str,
    websocket: bool,
    misses: set[str],
) -> Found | None:
    """Try the dynamic edges of ``state`` in weight order."""
    part = parts[index]
    rest: str | None = None
    for any_segment, search, final, suffixed, plain, indices, target in state.edges:
        if any_segment:
            if part:
                found = _walk(target, parts, index + 1, (*values, part), method, websocket, misses)
                if found is not None:
                    return found
            continue
        if final:
            if rest is None:
                rest = "/".join(parts[index:])
            match = search(rest)
        else:
            match = search(part)
        if match is None:
            continue
        # group(i, 0) is always a tuple, even for one index; drop the 0th.
        captured: Values = match.groups() if plain else match.group(*indices, 0)[:-1]
        next_parts: Sequence[str] = parts
        next_index = len(parts) if final else index + 1
        if suffixed and match.group(match.re.groups) == "/":
            # The path converter stopped before a trailing slash: that slash is
            # the rule's own final "/" part.
            next_parts, next_index = _TRAILING_SLASH, 0
        found = _walk(target, next_parts, next_index, values + captured, method, websocket, misses)
        if found is not None:
            return found
    return None


class StateMachine:
    """All matchable rules merged into one state machine."""

    def __init__(self, merge_slashes: bool) -> None:
        self.merge_slashes = merge_slashes
        self.root = _State()

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
        # (less its target) per distinct part, one regex per distinct content.
        compiled: dict[str, re.Pattern[str]] = {}
        made: dict[RulePart, _EdgeHead] = {}
        pending = [self.root]
        while pending:
            state = pending.pop()
            pending.extend(state.static.values())
            dynamic = state.dynamic
            if not dynamic:
                continue
            if len(dynamic) > 1:
                # Stable sort: equal weights keep definition order, as Werkzeug.
                dynamic.sort(key=lambda entry: entry[0].weight)
            edges: list[Edge] = []
            for part, following in dynamic:
                pending.append(following)
                edge = made.get(part)
                if edge is None:
                    pattern = compiled.get(part.content)
                    if pattern is None:
                        pattern = compiled[part.content] = re.compile(part.content)
                    # Without groups of the converters' own, groups() is the values.
                    plain = pattern.groups == part.count and not part.suffixed
                    indices = tuple(pattern.groupindex[f"_k{n}"] for n in range(part.count))
                    any_segment = part.content in _ANY_SEGMENT and not part.final
                    edge = made[part] = (
                        any_segment,
                        pattern.match,
                        part.final,
                        part.suffixed,
                        plain,
                        indices,
                    )
                edges.append((*edge, following))
            state.edges = tuple(edges)

    def _search(
        self, domain: str, path: str, method: str, websocket: bool, misses: set[str]
    ) -> Found | None:
        root = self.root
        if root.edges:
            # Some rule has a dynamic subdomain or host: walk from the top.
            return _walk(root, [domain, *path.split("/")], 0, (), method, websocket, misses)
        # Otherwise the domain is one static edge, and so is the empty part
        # before the path's leading slash (every rule starts with a slash).
        state = root.static.get(domain)
        if state is not None:
            state = state.static.get("")
        if state is None:
            return None
        return _walk(state, path.split("/"), 1, (), method, websocket, misses)

    def match(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, Values, set[str]] | NoMatch:
        """Return the rule, its raw values and the refusals, or a NoMatch; raise RequestPath.

        ``path`` starts with one slash. ``RequestPath`` carries the path to
        redirect to (a slash appended, or slashes merged). The NoMatch is
        returned, not raised: a miss (a 404) is common, and the caller raises
        its own error once instead of catching this one first.
        """
        misses: set[str] = set()
        try:
            found = self._search(domain, path, method, websocket, misses)
        except _SlashRequired:
            raise RequestPath(f"{path}/") from None
        if found is not None:
            return found[0], found[1], misses
        if self.merge_slashes and "//" in path:
            merged = re.sub("/{2,}", "/", path)
            try:
                found = self._search(domain, merged, method, websocket, misses)
            except _SlashRequired:
                raise RequestPath(f"{merged}/") from None
            if found is not None and found[0].merge_slashes:
                raise RequestPath(merged)
        return NoMatch(*split_misses(misses))


def split_misses(misses: set[str]) -> tuple[set[str], bool]:
    """Return the refused methods and whether a rule of the other protocol matched."""
    if not misses:
        return misses, False  # Nothing matched at all (a 404): no new sets.
    return misses - {WEBSOCKET_MISMATCH}, WEBSOCKET_MISMATCH in misses


class StaticTable:
    """Rules without converters by ``[websocket][domain][path][method]``.

    The method key holds the first rule (in definition order) that accepts
    the method; ``"*"`` holds the first rule that accepts every method.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        grouped: dict[tuple[bool, str, str], list[Rule]] = {}
        for rule in rules:
            if rule.build_only or not all(part.static for part in rule._parts):
                continue
            domain = rule._parts[0].content
            path = "/".join(part.content for part in rule._parts[1:])
            grouped.setdefault((rule.websocket, domain, path), []).append(rule)
        self.http: dict[str, dict[str, dict[str, Rule]]] = {}
        self.websocket: dict[str, dict[str, dict[str, Rule]]] = {}
        for (websocket, domain, path), candidates in grouped.items():
            table = self.websocket if websocket else self.http
            table.setdefault(domain, {})[path] = self._by_method(candidates)

    @staticmethod
    def _by_method(candidates: list[Rule]) -> dict[str, Rule]:
        named = {method for rule in candidates for method in rule.methods or ()}
        by_method: dict[str, Rule] = {}
        for method in (*sorted(named), "*"):
            for rule in candidates:
                if rule.methods is None or method in rule.methods:
                    by_method[method] = rule
                    break
        return by_method
