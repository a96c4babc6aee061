"""Headers: case-insensitive, multi-valued and order-preserving.

Stored as one list of ``(name, value)`` string pairs, which is exactly what
WSGI's ``start_response`` wants, so sending costs no copy. Values containing
CR, LF or NUL are refused when set, so header injection cannot happen
through this class (RFC 9110 5.5: field values never contain them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

from kettle.http._convert import convert_all, convert_or
from kettle.http.exceptions import BadRequestKeyError

T = TypeVar("T")
HeaderInput = "Headers | Mapping[str, Any] | Iterable[tuple[str, Any]] | None"

_FORBIDDEN = frozenset("\r\n\0")


def _check_value(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if not _FORBIDDEN.isdisjoint(text):
        raise ValueError("Header values must not contain CR, LF or NUL characters.")
    return text


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or not _FORBIDDEN.isdisjoint(name) or ":" in name:
        raise ValueError(f"Invalid header name {name!r}.")
    return name


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
            text = str(option)
            if not text or any(c in text for c in ' ;,"\\'):
                text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(f"{key}={text}")
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
        self._list.append((_check_name(key), _check_value(_with_options(value, options))))

    add_header = add

    def set(self, key: str, value: Any, **options: Any) -> None:
        """Replace every value of ``key`` with one, kept at the first one's place."""
        new = (_check_name(key), _check_value(_with_options(value, options)))
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
