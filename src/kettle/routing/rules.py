"""URL rules: parse ``/users/<int:id>`` into matchable parts and a URL builder.

Theory of operation: a rule is cut at its slashes into *parts*. The first
part is the domain (the subdomain, or the host under host matching; ``""``
when there is none), the rest are path segments, so ``/users/<int:id>``
becomes ``["", "", "users", "[0-9]+"]`` and matches the request
``[domain, *path.split("/")]``. A part without converters is *static* (its
text); one with converters is a regex. A converter that can match slashes
(``path``) makes its part *final*: it swallows every remaining segment.
Parts are immutable: a segment's part is made once and shared by every rule
that holds the same segment with the same converters, so adding many rules
compiles few regexes.

Dynamic parts carry a *weight* that orders them where they compete, as
Werkzeug's: more static pieces first, then longer static pieces, then more
converters, then lower converter weights. The matcher (``matcher.py``) walks
parts as a state machine, so this is also what decides priority.

Building runs the rule the other way: static text (percent-encoded) and each
converter's ``to_url``, then unknown values as the query string. The steps
are prepared on a rule's first build.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from kettle.routing.converters import PATH_SAFE, parse_converter_args, python_decoder
from kettle.routing.exceptions import ValidationError

if TYPE_CHECKING:
    from kettle.routing.converters import BaseConverter
    from kettle.routing.map import Map

__all__ = ["Rule", "RulePart", "RuleFactory", "QUERY_SAFE"]

#: Characters kept as they are in a built query string (WHATWG percent-encode sets).
QUERY_SAFE = "!$'()*,/:;?@"

# One token of a rule: a slash, static text, or ``<converter(args):name>``.
_TOKEN_RE = re.compile(
    r"""
      (?P<slash>/)
    | (?P<static>[^</]+)
    | <
        (?:
            (?P<converter>[A-Za-z_][A-Za-z0-9_]*)
            (?:\((?P<args>.*?)\))?
            :
        )?
        (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      >
    """,
    re.VERBOSE,
)
_SLASHES_RE = re.compile("/{2,}")

#: The order of competing dynamic parts (smaller sorts first); see the module doc.
Weight = tuple[int, tuple[tuple[int, int], ...], int, tuple[int, ...]]
# A build step: literal text, or (value name, the converter's to_url).
BuildOp = str | tuple[str, Callable[[Any], str]]


class RulePart:
    """One segment of a rule: static text, or a regex over one (or, if final, all) segments."""

    __slots__ = ("content", "count", "final", "key", "static", "suffixed", "weight")

    def __init__(
        self, content: str, static: bool, final: bool, suffixed: bool, weight: Weight, count: int
    ) -> None:
        self.content = content
        self.static = static
        self.final = final
        self.suffixed = suffixed
        self.weight = weight
        #: How many converters the part holds (groups ``_k0``.. in ``content``).
        self.count = count
        #: Equal keys share one transition in the matcher.
        self.key = (content, static, final, suffixed, weight)

    def __repr__(self) -> str:
        return f"<RulePart {self.content!r}{' final' if self.final else ''}>"


class RuleFactory:
    """Something that yields rules for a map (``Rule`` yields itself)."""

    def get_rules(self, map: Map) -> Iterable[Rule]:
        """Return the rules to add to ``map``."""
        raise NotImplementedError


# A token: ("/", "", "", ""), ("static", text, "", "") or ("variable", name, converter, args).
Token = tuple[str, str, str, str]
_SLASH_TOKEN: Token = ("/", "", "", "")


def _scan(string: str) -> list[Token]:
    """Tokenize with the full grammar (converter arguments may hold anything)."""
    tokens: list[Token] = []
    position = 0
    while position < len(string):
        match = _TOKEN_RE.match(string, position)
        if match is None:
            raise ValueError(f"malformed url rule: {string!r}")
        position = match.end()
        slash, static, converter, args, name = match.groups()
        if slash is not None:
            tokens.append(_SLASH_TOKEN)
        elif static is not None:
            tokens.append(("static", static, "", ""))
        else:
            tokens.append(("variable", name, converter or "", args or ""))
    return tokens


@functools.lru_cache(maxsize=1024)
def _scan_segment(segment: str) -> tuple[Token, ...]:
    # Segments such as "<int:id>" recur across rules: scan each once.
    return tuple(_scan(segment))


@functools.lru_cache(maxsize=1024)
def _quote_path(text: str) -> str:
    return quote(text, safe=PATH_SAFE)


def _weight(static_weights: list[tuple[int, int]], argument_weights: list[int]) -> Weight:
    return (
        -len(static_weights),
        tuple(static_weights),
        -len(argument_weights),
        tuple(argument_weights),
    )


_NO_WEIGHT: Weight = (0, (), 0, ())


@functools.lru_cache(maxsize=4096)
def _static_part(text: str) -> RulePart:
    # Static parts are dict keys in the matcher: their weight never matters,
    # and being immutable they can be shared by every rule.
    return RulePart(text, True, False, False, _NO_WEIGHT, 0)


_EMPTY_PART = _static_part("")


def _make_part(
    pieces: list[tuple[str, str | None]],
    static_weights: list[tuple[int, int]],
    argument_weights: list[int],
    final: bool,
    suffixed: bool,
) -> RulePart:
    """Make a part from its pieces: static text, or (name, converter regex)."""
    if not argument_weights:
        return _static_part(pieces[0][0] if len(pieces) == 1 else "".join(t for t, _ in pieces))
    weight = _weight(static_weights, argument_weights)
    regex: list[str] = []
    count = 0
    for text, converter_regex in pieces:
        if converter_regex is None:
            regex.append(re.escape(text))
        else:
            regex.append(f"(?P<_k{count}>{converter_regex})")
            count += 1
    if suffixed:
        # A trailing slash after a path converter is optional in the match; a
        # missing one is then handled like any strict-slashes redirect.
        regex.append("(?<!/)(/?)")
    regex.append(r"\Z")
    return RulePart("".join(regex), False, final, suffixed, weight, count)


@functools.lru_cache(maxsize=4096)
def _segment_part(segment: str, regexes: tuple[str, ...], weights: tuple[int, ...]) -> RulePart:
    """The part of one segment with converters confined to it, shared by every rule.

    A segment such as ``<int:id>`` recurs across rules: its regex is built once
    per (segment, converter regexes, converter weights).
    """
    pieces: list[tuple[str, str | None]] = []
    static_weights: list[tuple[int, int]] = []
    index = 0
    for kind, text, _name, _args in _scan_segment(segment):
        if kind == "static":
            static_weights.append((len(static_weights), -len(text)))
            pieces.append((text, None))
        else:
            pieces.append((text, regexes[index]))
            index += 1
    return _make_part(pieces, static_weights, list(weights), False, False)


@functools.lru_cache(maxsize=4096)
def _segment_trace(segment: str) -> tuple[tuple[bool, str], ...]:
    # (is a variable, static text or variable name) for each token of a segment.
    return tuple((kind == "variable", text) for kind, text, _n, _a in _scan_segment(segment))


_SLASH_TRACE = (False, "/")
_DOMAIN_END = (False, "|")


def _render(ops: tuple[BuildOp, ...], values: Mapping[str, Any]) -> str:
    out: list[str] = []
    for op in ops:
        if isinstance(op, str):
            out.append(op)
        else:
            out.append(op[1](values[op[0]]))
    return "".join(out)


def _query_items(values: Mapping[str, Any], skip: set[str]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in values.items():
        if key in skip:
            continue
        if isinstance(value, (list, tuple, set)):
            items.extend((key, item) for item in value if item is not None)
        elif value is not None:
            items.append((key, value))
    return items


class Rule(RuleFactory):
    """One URL rule: a path pattern, an endpoint, methods, defaults and options.

    Arguments follow Werkzeug's ``Rule`` (same names, same positional order).
    ``HEAD`` is added to ``methods`` when ``GET`` is there.
    """

    #: Kettle: answer ``OPTIONS`` automatically with ``Allow`` (set by ``add_url_rule``).
    provide_automatic_options: bool = False
    #: Kettle: under ASGI, do not receive the body before the view; it reads
    #: ``request.stream`` as the client sends (set by ``add_url_rule(stream_body=True)``).
    stream_body: bool = False
    #: Kettle: under ASGI, run a ``def`` view on the event loop (True), in the thread
    #: pool (False), or as ASGI_INLINE_SYNC_VIEWS says (None; ``add_url_rule(inline=)``).
    inline: bool | None = None

    def __init__(
        self,
        string: str,
        defaults: Mapping[str, Any] | None = None,
        subdomain: str | None = None,
        methods: Iterable[str] | None = None,
        build_only: bool = False,
        endpoint: Any | None = None,
        strict_slashes: bool | None = None,
        merge_slashes: bool | None = None,
        redirect_to: str | Callable[..., str] | None = None,
        alias: bool = False,
        host: str | None = None,
        websocket: bool = False,
    ) -> None:
        if not string.startswith("/"):
            raise ValueError(f"URL rule '{string}' must start with a slash.")
        self.rule = string
        self.is_leaf = not string.endswith("/")
        self.is_branch = string.endswith("/")
        self.map: Map = None  # type: ignore[assignment]  # set by bind(), as Werkzeug
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.subdomain = subdomain
        self.host = host
        self.defaults = defaults
        self.build_only = build_only
        self.alias = alias
        self.websocket = websocket
        self.methods: set[str] | None = None
        if methods is not None:
            if isinstance(methods, str):
                raise TypeError("'methods' should be a list of strings.")
            method_set = {method.upper() for method in methods}
            if "GET" in method_set:
                method_set.add("HEAD")
            if websocket and method_set - {"GET", "HEAD", "OPTIONS"}:
                raise ValueError(
                    "WebSocket rules can only use 'GET', 'HEAD', and 'OPTIONS' methods."
                )
            self.methods = method_set
        self.endpoint: Any = endpoint
        self.redirect_to = redirect_to
        self.arguments: set[str] = set(map(str, defaults)) if defaults else set()
        self._converters: dict[str, BaseConverter] = {}
        self._trace: list[tuple[bool, str]] = []
        self._parts: list[RulePart] = []
        # The build steps of the domain and the path, made on the first build.
        self._ops: tuple[tuple[BuildOp, ...], tuple[BuildOp, ...]] | None = None
        self._split = 0  # where the domain ends in the trace
        # Arguments a build must be given (those without a default).
        self._required: tuple[str, ...] = ()
        # Filled by Map.update(): the argument names in match order (interned),
        # the decoder of each (None where its converter's to_python is the
        # identity), their count when it is 1 or 2 and the rule has neither
        # defaults nor alias (else 0: the general case), all three by
        # ``_prepare_values``; and whether a match needs no redirect check.
        self._names: tuple[str, ...] = ()
        self._decoders: tuple[Callable[[str], Any] | None, ...] = ()
        self._arity = 0
        self._plain = False
        self._redirect_sources: tuple[Rule, ...] = ()

    def empty(self) -> Rule:
        """Return an unbound copy of this rule."""
        return type(self)(self.rule, **self.get_empty_kwargs())

    def get_empty_kwargs(self) -> Mapping[str, Any]:
        """Return the keyword arguments ``empty()`` passes to the copy."""
        return {
            "defaults": dict(self.defaults) if self.defaults else None,
            "subdomain": self.subdomain,
            "methods": self.methods,
            "build_only": self.build_only,
            "endpoint": self.endpoint,
            "strict_slashes": self.strict_slashes,
            "redirect_to": self.redirect_to,
            "alias": self.alias,
            "host": self.host,
            "websocket": self.websocket,
            "merge_slashes": self.merge_slashes,
        }

    def get_rules(self, map: Map) -> Iterator[Rule]:
        """Yield this rule."""
        yield self

    def refresh(self) -> None:
        """Compile again after the rule was changed in place."""
        self.bind(self.map, rebind=True)

    def bind(self, map: Map, rebind: bool = False) -> None:
        """Attach the rule to ``map``, take the map's defaults, and compile."""
        if self.map is not None and not rebind:
            raise RuntimeError(f"url rule {self!r} already bound to map {self.map!r}")
        self.map = map
        if self.strict_slashes is None:
            self.strict_slashes = map.strict_slashes
        if self.merge_slashes is None:
            self.merge_slashes = map.merge_slashes
        if self.subdomain is None:
            self.subdomain = map.default_subdomain
        self.compile()

    def _prepare_values(self) -> None:
        """Set what a match decodes the values with: ``_names``, ``_decoders``, ``_arity``."""
        self._names = tuple(sys.intern(name) for name in self._converters)
        self._decoders = tuple(python_decoder(conv) for conv in self._converters.values())
        count = len(self._names)
        self._arity = 0 if self.defaults or self.alias or count > 2 else count

    def get_converter(
        self,
        variable_name: str,
        converter_name: str,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
    ) -> BaseConverter:
        """Instantiate the converter named in the rule, with its arguments."""
        if converter_name not in self.map.converters:
            raise LookupError(f"the converter {converter_name!r} does not exist")
        return self.map.converters[converter_name](self.map, *args, **kwargs)

    def compile(self) -> None:
        """Cut the rule into parts; the builder is prepared on the first build."""
        if self.map is None:
            raise RuntimeError("the rule is not bound to a map")
        domain_rule = (self.host if self.map.host_matching else self.subdomain) or ""
        if "/" in domain_rule:
            raise ValueError(f"a subdomain or host cannot contain a slash: {domain_rule!r}")
        rule = self.rule
        if self.merge_slashes and "//" in rule:
            rule = _SLASHES_RE.sub("/", rule)
        # Without "(" no converter has arguments and none can span a slash: cut
        # at the slashes and share each segment's part with every other rule.
        # A converter that matches slashes (``path``) needs the full parser.
        fast = "(" not in rule and "(" not in domain_rule
        if not (fast and self._parse_rule(domain_rule, rule, self._parse_segments)):
            self._parse_rule(domain_rule, rule, self._parse)
        self._required = tuple(self.arguments.difference(self.defaults or ()))
        self._ops = None
        if self.defaults:
            # Defaults are rendered into the builder now, so a bad one fails here.
            self._build_ops()

    def _parse_rule(
        self,
        domain_rule: str,
        rule: str,
        parse: Callable[[str, list[RulePart]], bool],
    ) -> bool:
        """Fill parts, trace, converters and arguments; False if ``parse`` gave up."""
        parts: list[RulePart] = []
        trace: list[tuple[bool, str]] = []
        self._parts, self._trace = parts, trace
        self._converters = {}
        self.arguments = set(map(str, self.defaults)) if self.defaults else set()
        if domain_rule:
            if not parse(domain_rule, parts):
                return False
        else:
            parts.append(_EMPTY_PART)
        self._split = len(trace)
        trace.append(_DOMAIN_END)
        return parse(rule, parts)

    def _add_converter(self, name: str, converter_name: str, args: str) -> BaseConverter:
        if name in self._converters:
            raise ValueError(f"variable name {name!r} used twice in {self.rule!r}")
        positional, keywords = parse_converter_args(args) if args else ((), {})
        converter = self.get_converter(name, converter_name or "default", positional, keywords)
        self._converters[name] = converter
        self.arguments.add(name)
        return converter

    def _parse_segments(self, string: str, parts: list[RulePart]) -> bool:
        """Append the parts of a string without converter arguments, one per segment.

        Return False, having done part of the work, at a converter that can
        match a slash: the caller starts again with ``_parse``.
        """
        trace = self._trace
        for index, segment in enumerate(string.split("/")):
            if index:
                trace.append(_SLASH_TRACE)
            if "<" not in segment:
                if segment:
                    trace.append((False, segment))
                parts.append(_static_part(segment))
                continue
            regexes: list[str] = []
            weights: list[int] = []
            for kind, text, converter_name, _args in _scan_segment(segment):
                if kind == "variable":
                    converter = self._add_converter(text, converter_name, "")
                    if not converter.part_isolating:
                        return False
                    regexes.append(converter.regex)
                    weights.append(converter.weight)
            trace.extend(_segment_trace(segment))
            parts.append(_segment_part(segment, tuple(regexes), tuple(weights)))
        return True

    def _parse(self, string: str, parts: list[RulePart]) -> bool:
        """Append the parts of a rule (or domain) string, with the full grammar."""
        pieces: list[tuple[str, str | None]] = []
        static_weights: list[tuple[int, int]] = []
        argument_weights: list[int] = []
        final = False
        trace = self._trace
        for kind, text, converter_name, args in _scan(string):
            if kind == "/":
                trace.append(_SLASH_TRACE)
                if final:
                    # A part with a path converter runs on to the end of the rule.
                    pieces.append(("/", None))
                    continue
                parts.append(_make_part(pieces, static_weights, argument_weights, False, False))
                pieces, static_weights, argument_weights = [], [], []
            elif kind == "static":
                static_weights.append((len(static_weights), -len(text)))
                pieces.append((text, None))
                trace.append((False, text))
            else:
                converter = self._add_converter(text, converter_name, args)
                final = final or not converter.part_isolating
                argument_weights.append(converter.weight)
                pieces.append((text, converter.regex))
                trace.append((True, text))
        suffixed = final and bool(pieces) and pieces[-1] == ("/", None)
        if suffixed:
            pieces.pop()
        parts.append(_make_part(pieces, static_weights, argument_weights, final, suffixed))
        if suffixed:
            parts.append(_static_part(""))
        return True

    def _build_ops(self) -> tuple[tuple[BuildOp, ...], tuple[BuildOp, ...]]:
        """Compile (once) the steps that build the domain and the path."""
        split = self._split
        ops = (
            self._compile_ops(self._trace[:split]) if split else (),
            self._compile_ops(self._trace[split + 1 :]),
        )
        self._ops = ops
        return ops

    def _compile_ops(self, trace: list[tuple[bool, str]]) -> tuple[BuildOp, ...]:
        defaults = self.defaults or {}
        ops: list[BuildOp] = []
        for dynamic, data in trace:
            if dynamic and data in defaults:
                # The value is fixed by the defaults: render it once, now.
                op: BuildOp = self._converters[data].to_url(defaults[data])
            elif dynamic:
                op = (data, self._converters[data].to_url)
            else:
                op = _quote_path(data)
            if isinstance(op, str) and ops and isinstance(ops[-1], str):
                ops[-1] += op
            else:
                ops.append(op)
        return tuple(ops)

    def build(
        self, values: Mapping[str, Any], append_unknown: bool = True
    ) -> tuple[str, str] | None:
        """Return ``(domain, path?query)`` for the values, or None if a converter refuses."""
        try:
            domain_ops, path_ops = self._ops or self._build_ops()
            domain = _render(domain_ops, values) if domain_ops else ""
            path = _render(path_ops, values)
        except ValidationError:
            return None
        if append_unknown and not self.arguments.issuperset(values):
            query = self._encode_query(values)
            if query:
                path = f"{path}?{query}"
        return domain, path

    def _encode_query(self, values: Mapping[str, Any]) -> str:
        items = _query_items(values, self.arguments)
        if self.map.sort_parameters:
            items.sort(key=self.map.sort_key)
        return urlencode(items, safe=QUERY_SAFE)

    def provides_defaults_for(self, rule: Rule) -> bool:
        """Tell if this rule is the canonical, defaults-providing form of ``rule``."""
        return bool(
            not self.build_only
            and self.defaults
            and self.endpoint == rule.endpoint
            and self != rule
            and self.arguments == rule.arguments
        )

    def suitable_for(self, values: Mapping[str, Any], method: str | None = None) -> bool:
        """Tell if the values (and method) are enough to build this rule."""
        if method is not None and self.methods is not None and method not in self.methods:
            return False
        for key in self._required:
            if key not in values:
                return False
        if self.defaults:
            # A value given for a defaulted argument must equal the default.
            for key, value in self.defaults.items():
                if key in values and values[key] != value:
                    return False
        return True

    def build_compare_key(self) -> tuple[int, int, int]:
        """Sort key for building: non-aliases, more arguments, more defaults first."""
        return (1 if self.alias else 0, -len(self.arguments), -len(self.defaults or ()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self._trace == other._trace

    # Equal rules (same pattern) may differ in endpoint: like Werkzeug, unhashable.
    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.rule

    def __repr__(self) -> str:
        if self.map is None:
            return f"<{type(self).__name__} (unbound)>"
        pattern = "".join(f"<{data}>" if dynamic else data for dynamic, data in self._trace)
        pattern = pattern.lstrip("|")
        methods = f" ({', '.join(sorted(self.methods))})" if self.methods is not None else ""
        return f"<{type(self).__name__} {pattern!r}{methods} -> {self.endpoint}>"
