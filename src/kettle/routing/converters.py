"""URL converters: how a ``<converter(args):name>`` part matches, converts and builds.

A converter class is a small table row: ``regex`` (what it matches in the
path), ``weight`` (lower sorts first when two dynamic parts compete),
``part_isolating`` (False if it can match slashes), ``to_python`` and
``to_url``. ``parse_converter_args`` reads the ``(args)`` of a rule the way
Werkzeug does: Python literals, keyword arguments, bare words as strings.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from kettle.routing.exceptions import ValidationError

if TYPE_CHECKING:
    from kettle.routing.map import Map

__all__ = [
    "BaseConverter",
    "UnicodeConverter",
    "AnyConverter",
    "PathConverter",
    "NumberConverter",
    "IntegerConverter",
    "FloatConverter",
    "UUIDConverter",
    "DEFAULT_CONVERTERS",
    "PATH_SAFE",
    "ValidationError",
    "parse_converter_args",
    "python_decoder",
]

#: Characters kept as they are in a built path: the WHATWG URL
#: "url-path-segment-string" may hold these unescaped (plus unreserved ones).
PATH_SAFE = "!$&'()*+,/:;=@"


class BaseConverter:
    """Base class of converters: override ``regex``, ``to_python`` and ``to_url``.

    ``__init__(self, map, *args, **kwargs)`` receives the rule's arguments,
    e.g. ``<re('[a-z]+'):name>`` calls ``Converter(map, '[a-z]+')``.
    """

    regex: str = "[^/]+"
    weight: int = 100
    part_isolating: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A class regex that can match a slash cannot be confined to one path
        # segment, unless the subclass says otherwise (as Werkzeug 2.3+).
        if "regex" in cls.__dict__ and "part_isolating" not in cls.__dict__:
            cls.part_isolating = "/" not in cls.regex

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        self.map = map

    def to_python(self, value: str) -> Any:
        """Convert the matched text to the view argument (raise ValidationError to refuse)."""
        return value

    def to_url(self, value: Any) -> str:
        """Convert a value to its percent-encoded URL text."""
        return quote(str(value), safe=PATH_SAFE)


class UnicodeConverter(BaseConverter):
    """The default converter: one path segment, with optional length limits."""

    def __init__(
        self,
        map: Map,
        minlength: int = 1,
        maxlength: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(map)
        if length is not None:
            bounds = f"{{{int(length)}}}"
        else:
            upper = "" if maxlength is None else str(int(maxlength))
            bounds = f"{{{int(minlength)},{upper}}}"
        self.regex = f"[^/]{bounds}"


class AnyConverter(BaseConverter):
    """Match one of the items given: ``<any(about, help, "foo,bar"):page>``."""

    def __init__(self, map: Map, *items: Any) -> None:
        super().__init__(map)
        names = [str(item) for item in items]
        if not names:
            raise ValueError("the 'any' converter needs at least one item")
        self.items = set(names)
        self.regex = "(?:" + "|".join(re.escape(name) for name in names) + ")"

    def to_url(self, value: Any) -> str:
        """Return the value if it is one of the items, else raise ValueError."""
        if str(value) in self.items:
            return str(value)
        valid = ", ".join(f"'{item}'" for item in sorted(self.items))
        raise ValueError(f"'{value}' is not one of {valid}")


class PathConverter(BaseConverter):
    """Like the default converter, but matches slashes too: ``<path:filename>``."""

    part_isolating = False
    regex = "[^/].*?"
    weight = 200


class NumberConverter(BaseConverter):
    """Base class of ``int`` and ``float``: bounds, fixed digits and sign."""

    weight = 50
    num_convert: Callable[[str], Any] = int

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        if signed:
            self.regex = self.signed_regex
        super().__init__(map)
        self.fixed_digits = fixed_digits
        self.min = min
        self.max = max
        self.signed = signed

    def to_python(self, value: str) -> Any:
        """Convert to a number; refuse it if outside the bounds or the digit count."""
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise ValidationError()
        try:
            # int() refuses over 4300 digits (CPython's limit): that is a 404 too.
            number = type(self).num_convert(value)
        except ValueError:
            raise ValidationError() from None
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        """Format the number, zero-padded to ``fixed_digits``."""
        text = str(type(self).num_convert(value))
        if self.fixed_digits:
            text = text.zfill(self.fixed_digits)
        return text

    @property
    def signed_regex(self) -> str:
        """The regex with an optional leading minus sign."""
        return f"-?{self.regex}"


class IntegerConverter(NumberConverter):
    """Match an unsigned integer (``signed=True`` allows ``-``): ``<int:page>``.

    Only ASCII digits: Werkzeug's ``\\d`` also takes other scripts' digits
    (``/page/١٢``), which makes one number reachable by many URLs.
    """

    regex = "[0-9]+"


class FloatConverter(NumberConverter):
    """Match a decimal with a dot, like ``1.5`` (not ``1`` nor ``1e5``)."""

    regex = r"[0-9]+\.[0-9]+"
    num_convert = float

    def __init__(
        self,
        map: Map,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, min=min, max=max, signed=signed)


class UUIDConverter(BaseConverter):
    """Match a UUID in its 8-4-4-4-12 hex form; the view gets a ``uuid.UUID``."""

    regex = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        """Return the ``uuid.UUID``."""
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        """Return the UUID's canonical text."""
        return str(value)


def python_decoder(converter: BaseConverter) -> Callable[[str], Any] | None:
    """Return what a match calls to convert this converter's text; None for the identity.

    A plain ``int`` (no bounds, no fixed digits, unsigned or not) decodes with
    ``int`` itself: its regex admits only digits, so ``int`` can refuse only
    an overlong number, with a ``ValueError`` the caller treats as the
    ``ValidationError`` ``to_python`` would raise.
    """
    kind = type(converter)
    if kind.to_python is BaseConverter.to_python:
        return None
    if kind is IntegerConverter:
        number = cast(IntegerConverter, converter)
        if not number.fixed_digits and number.min is None and number.max is None:
            return int
    return converter.to_python


#: The converters every map starts with, by the name used in rules.
DEFAULT_CONVERTERS: Mapping[str, type[BaseConverter]] = MappingProxyType(
    {
        "default": UnicodeConverter,
        "string": UnicodeConverter,
        "any": AnyConverter,
        "path": PathConverter,
        "int": IntegerConverter,
        "float": FloatConverter,
        "uuid": UUIDConverter,
    }
)

# One argument: an optional ``name=``, then a quoted string (an optional
# u/r prefix is accepted and ignored) or a bare token, then a comma or the end.
_ARGUMENT_RE = re.compile(
    r"""
    \s*
    (?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?
    (?:
        [uUrR]?(?P<quoted>"[^"]*"|'[^']*')
      | (?P<bare>[^\s,'"=]+)
    )
    \s*(?:,|\Z)
    """,
    re.VERBOSE,
)

_CONSTANTS: Mapping[str, Any] = {"None": None, "True": True, "False": False}


def _literal(token: str) -> Any:
    """Read a bare token: a constant, an int, a float, or else the word itself."""
    if token in _CONSTANTS:
        return _CONSTANTS[token]
    for convert in (int, float):
        try:
            return convert(token)
        except ValueError:
            pass
    return token


def parse_converter_args(argstr: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Parse ``"1, 'a', max=5"`` into ``((1, 'a'), {'max': 5})``; ValueError if malformed."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    position = 0
    end = len(argstr.rstrip())
    while position < end:
        match = _ARGUMENT_RE.match(argstr, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot parse converter argument {argstr[position:]!r}")
        quoted = match.group("quoted")
        value = quoted[1:-1] if quoted is not None else _literal(match.group("bare"))
        name = match.group("name")
        if name is None:
            args.append(value)
        else:
            kwargs[name] = value
        position = match.end()
    return tuple(args), kwargs
