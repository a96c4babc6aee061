"""Headers: case-insensitive, multi-valued and order-preserving.

Stored as one list of ``(name, value)`` string pairs, which is exactly what
WSGI's ``start_response`` wants, so sending costs no copy. Every write goes
through ``check_header_value`` / ``check_header_name``: CR, LF, NUL, other
control characters and non-latin-1 text are refused when set, so header
injection cannot happen through this class (RFC 9110 5.5).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload
from urllib.parse import quote

from kettle.http._convert import convert_all, convert_or
from kettle.http.exceptions import BadRequestKeyError

T = TypeVar("T")
HeaderInput = "Headers | Mapping[str, Any] | Iterable[tuple[str, Any]] | None"

# RFC 9110 5.5: "field-value = *field-content", made of VCHAR, obs-text
# (%x80-FF), SP and HTAB; "a recipient of CR, LF, or NUL within a field value
# MUST either reject the message or replace each of those characters with SP".
# Every other control character (C0 but HTAB, and DEL) is outside the grammar.
_INVALID_VALUE = re.compile("[^\t\x20-\x7e\x80-\xff]")
# RFC 9110 5.1 / 5.6.2: "field-name = token", "tchar = "!" / "#" / ... / ALPHA".
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_header_value(value: Any, name: str = "") -> str:
    """Return ``value`` as header text; ValueError for characters a header cannot carry.

    The one validator of every header the app writes: CR, LF, NUL and other
    control characters are refused (no response splitting), and so is text
    outside latin-1, which the server cannot send (RFC 8187 encodes it where a
    header defines an encoding, e.g. ``filename*``; see ``encode_header_param``).
    """
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():
        return text  # the common case, checked in C
    bad = _INVALID_VALUE.search(text)
    if bad is None:
        return text
    char = bad.group()
    where = f" of {name!r}" if name else ""
    if ord(char) > 0xFF:
        raise ValueError(
            f"Header value{where} contains {char!r}, which is not latin-1: HTTP cannot carry it."
            " Percent-encode it (URLs), or use RFC 8187 encoding where the header defines one"
            " (e.g. filename*=UTF-8''...)."
        )
    raise ValueError(
        f"Header value{where} contains the control character {char!r}: header values must not"
        " contain CR, LF or NUL, nor any other control character."
    )


def check_header_name(name: str) -> str:
    """Return ``name``; ValueError unless it is an RFC 9110 token."""
    if name.__class__ is str and name in _VALID_NAMES:
        return name  # an app writes the same few names over and over
    if not isinstance(name, str) or TOKEN.fullmatch(name) is None:
        raise ValueError(f"Invalid header name {name!r}: a header name is an RFC 9110 token.")
    if len(_VALID_NAMES) < 512:
        _VALID_NAMES.add(name)
    return name


#: Names already checked (bounded: names come from the app, not from clients).
_VALID_NAMES: set[str] = set()


_check_value = check_header_value
_check_name = check_header_name


def encode_header_param(key: str, value: str) -> str:
    """Return ``key=value`` for a header parameter, ``key*=UTF-8''...`` when not ASCII.

    RFC 8187 3.2: "ext-value = charset "'" [ language ] "'" value-chars", the
    value percent-encoded UTF-8, so any text can travel in a latin-1 header.
    """
    if value.isascii():
        if not value or any(c in value for c in ' ;,"\\'):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{key}={value}"
    return f"{key.rstrip('*')}*=UTF-8''{quote(value, safe=_ATTR_CHAR)}"


# RFC 8187 3.2.1: attr-char, the characters a value-chars may carry unescaped.
_ATTR_CHAR = "!#$&+-.^_`|~"


def _with_options(value: Any, options: Mapping[str, Any]) -> Any:
    """Render ``value; key=val`` parameters, as Werkzeug's ``add(k, v, **opts)``."""
    if not options:
        return value
    parts = [str(value)]
    for key, option in options.items():
        key = key.replace("_", "-")
        if option is None:
            continue
        if option is True:
            parts.append(key)
        else:
            parts.append(encode_header_param(key, str(option)))
    return "; ".join(parts)


class Headers:
    """An ordered, case-insensitive multi-dict of HTTP headers.

    ``headers["X"]`` gives the first value (a missing key raises
    ``BadRequestKeyError``, a KeyError that is also a 400); iteration yields
    ``(name, value)`` pairs, as Werkzeug's Headers does.
    """

    __slots__ = ("_list",)

    def __init__(self, defaults: Any = None) -> None:
        self._list: list[tuple[str, str]] = []
        if defaults is not None:
            self.extend(defaults)

    @classmethod
    def _trusted(cls, pairs: list[tuple[str, str]]) -> Headers:
        """Wrap pairs known to be valid (from the server or the framework)."""
        headers = cls.__new__(cls)
        headers._list = pairs
        return headers

    # -- reading ---------------------------------------------------------
    def __getitem__(self, key: str) -> str:
        if isinstance(key, int):
            return self._list[key]
        lower = key.lower()
        for name, value in self._list:
            if name.lower() == lower:
                return value
        raise BadRequestKeyError(key)

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...
    @overload
    def get(self, key: str, default: T) -> str | T: ...
    @overload
    def get(self, key: str, default: Any = None, *, type: Callable[[str], T]) -> T | Any: ...
    def get(self, key: str, default: Any = None, type: Callable[[str], Any] | None = None) -> Any:
        """Return the first value for ``key``, converted by ``type``, or ``default``.

        A failed conversion (ValueError or TypeError) gives ``default``.
        """
        lower = key.lower()
        for name, value in self._list:
            if name.lower() == lower:
                return convert_or(value, type, default)
        return default

    def getlist(self, key: str, type: Callable[[str], Any] | None = None) -> list[Any]:
        """Return every value for ``key``; values that ``type`` rejects are skipped."""
        lower = key.lower()
        return convert_all((value for name, value in self._list if name.lower() == lower), type)

    get_all = getlist

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        lower = key.lower()
        return any(name.lower() == lower for name, _ in self._list)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def __bool__(self) -> bool:
        return bool(self._list)

    def keys(self, lower: bool = False) -> Iterator[str]:
        """Yield each header name (lower-cased if asked), repeats included."""
        for name, _ in self._list:
            yield name.lower() if lower else name

    def values(self) -> Iterator[str]:
        """Yield each header value."""
        for _, value in self._list:
            yield value

    def items(self, lower: bool = False) -> Iterator[tuple[str, str]]:
        """Yield ``(name, value)`` pairs (names lower-cased if asked)."""
        for name, value in self._list:
            yield (name.lower() if lower else name), value

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        """Return the pairs as a list for ``start_response`` (no copy)."""
        return self._list

    def copy(self) -> Headers:
        """Return a shallow copy."""
        return Headers._trusted(list(self._list))

    def __copy__(self) -> Headers:
        return self.copy()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._list == other._list
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        lines = [f"{name}: {value}" for name, value in self._list]
        lines.append("\r\n")
        return "\r\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"

    # -- writing ---------------------------------------------------------
    def add(self, key: str, value: Any, **options: Any) -> None:
        """Add a value for ``key`` after the existing ones; options become parameters."""
        self._list.append((_check_name(key), _check_value(_with_options(value, options), key)))

    add_header = add

    def set(self, key: str, value: Any, **options: Any) -> None:
        """Replace every value of ``key`` with one, kept at the first one's place."""
        new = (_check_name(key), _check_value(_with_options(value, options), key))
        lower = key.lower()
        items = self._list
        for index, (name, _) in enumerate(items):
            if name.lower() == lower:
                items[index] = new
                items[index + 1 :] = [
                    pair for pair in items[index + 1 :] if pair[0].lower() != lower
                ]
                return
        items.append(new)

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def setlist(self, key: str, values: Iterable[Any]) -> None:
        """Replace every value of ``key`` with ``values``."""
        self.remove(key)
        for value in values:
            self.add(key, value)

    def setdefault(self, key: str, default: Any) -> str:
        """Return the first value of ``key``, adding ``default`` first if absent."""
        value = self.get(key)
        if value is not None:
            return value
        self.add(key, default)
        return self[key]

    def remove(self, key: str) -> None:
        """Remove every value of ``key`` (no error when absent)."""
        lower = key.lower()
        self._list[:] = [pair for pair in self._list if pair[0].lower() != lower]

    def __delitem__(self, key: str) -> None:
        self.remove(key)

    def pop(self, key: str, default: Any = ...) -> Any:
        """Remove ``key`` and return its first value (or ``default``)."""
        value = self.get(key)
        if value is None:
            if default is ...:
                raise BadRequestKeyError(key)
            return default
        self.remove(key)
        return value

    def clear(self) -> None:
        """Remove every header."""
        self._list.clear()

    def extend(self, *args: Any, **kwargs: Any) -> None:
        """Add the pairs of a mapping, a Headers or an iterable of pairs.

        Mapping values that are lists or tuples add one header per item.
        """
        for source in (*args, kwargs):
            if isinstance(source, Headers):
                for key, value in source._list:
                    self.add(key, value)
                continue
            pairs = source.items() if isinstance(source, Mapping) else source
            for key, value in pairs:
                if isinstance(value, list | tuple) and isinstance(source, Mapping):
                    for item in value:
                        self.add(key, item)
                else:
                    self.add(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Replace headers by name with the values given (Werkzeug semantics)."""
        incoming = Headers()
        incoming.extend(*args, **kwargs)
        seen: set[str] = set()
        for key, value in incoming._list:
            lower = key.lower()
            if lower in seen:
                self.add(key, value)
            else:
                seen.add(lower)
                self.set(key, value)


#: The Content-Length values of bodies under 4 KiB, made once (``str()`` costs a call).
LENGTH_VALUES = tuple(str(length) for length in range(4096))


def length_value(length: int) -> str:
    """The Content-Length value for a body of ``length`` bytes."""
    return LENGTH_VALUES[length] if length < 4096 else str(length)
