"""Structured header values: Content-Type and Content-Length as a request reads
them, and what a response edits: sets (Vary, Allow) and Cache-Control.

Entity tags and ranges are parsed in ``kettle.http.preconditions``.

Each object writes its header back on every change, so ``response.headers``
is always the truth and nothing is serialized at send time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from kettle.http.exceptions import BadRequest
from kettle.http.headers import TOKEN
from kettle.http.preconditions import ascii_int

if TYPE_CHECKING:
    from kettle.http.headers import Headers


def split_mimetype(value: str) -> tuple[str, dict[str, str]]:
    """Split ``text/html; charset=UTF-8`` into ``("text/html", {"charset": "UTF-8"})``."""
    mimetype, sep, rest = value.partition(";")
    params: dict[str, str] = {}
    if not sep:  # No parameters (a urlencoded form's usual Content-Type).
        return mimetype.strip().lower(), params
    for item in rest.split(";"):
        key, sep, val = item.partition("=")
        key = key.strip().lower()
        if sep and key:
            params[key] = val.strip().strip('"')
    return mimetype.strip().lower(), params


#: Content-Length values shorter than this are converted by ``int`` directly (below the
#: 19 digits past which ``ascii_int`` clamps).
_DIRECT_DIGITS = 19
#: Content-Length values whose answer is kept: the value alone decides it (no state, so an
#: entry never goes stale), and a body's length is then one C lookup without a Python
#: frame (``int(str)`` alone cost about 1,100 instructions); bounded, so a client cycling
#: through values only evicts entries. A value that raises is not kept.
_KEPT_LENGTHS = 1024


@lru_cache(maxsize=_KEPT_LENGTHS)
def parse_content_length(value: str | None) -> int | None:
    """A Content-Length value as an int, or None when absent or invalid.

    A list (the field sent more than once, joined with commas as a server
    or ``join_content_length`` joins it) of one length repeated is that
    length (RFC 9110 8.6). Lengths that differ leave the body without a
    framing anyone can trust (RFC 9112 6.3: a 400): ``BadRequest``.
    """
    if value is None:
        return None
    # The common value, ASCII digits only (no list, no blanks): one int() (the checks of
    # ``ascii_int`` cost more than the conversion, and every body pays them).
    if value.isascii() and value.isdigit() and len(value) < _DIRECT_DIGITS:
        return int(value)
    if "," in value:
        lengths = {item.strip(" \t") for item in value.split(",")}
        if len(lengths) > 1:
            raise BadRequest("The request's Content-Length values differ.")
        value = lengths.pop()
    # ASCII digits only; more than 19 digits reads as 10**19, which no limit allows.
    return ascii_int(value.strip(" \t"), clamp=True)


def join_content_length(values: list[str]) -> str | None:
    """The Content-Length fields of a request as one value for ``parse_content_length``."""
    if not values:
        return None
    return values[0] if len(values) == 1 else ", ".join(values)


class HeaderSet:
    """A case-insensitive ordered set bound to one comma-separated header (``Vary``, ``Allow``)."""

    def __init__(self, headers: Headers, name: str) -> None:
        self._headers = headers
        self._name = name
        raw = headers.get(name) or ""
        self._items: list[str] = [item.strip() for item in raw.split(",") if item.strip()]

    def _write(self) -> None:
        if self._items:
            self._headers.set(self._name, ", ".join(self._items))
        else:
            self._headers.remove(self._name)

    def _find(self, item: str) -> int:
        lowered = item.lower()
        for index, existing in enumerate(self._items):
            if existing.lower() == lowered:
                return index
        return -1

    def add(self, item: str) -> None:
        """Add ``item`` unless present (compared case-insensitively)."""
        if self._find(item) < 0:
            self._items.append(item)
            self._write()

    def update(self, items: Iterable[str]) -> None:
        """Add several items."""
        for item in items:
            self.add(item)

    def discard(self, item: str) -> None:
        """Remove ``item`` if present."""
        index = self._find(item)
        if index >= 0:
            del self._items[index]
            self._write()

    def remove(self, item: str) -> None:
        """Remove ``item``; KeyError when absent."""
        if self._find(item) < 0:
            raise KeyError(item)
        self.discard(item)

    def clear(self) -> None:
        """Remove every item (and the header)."""
        self._items.clear()
        self._write()

    def as_set(self, preserve_casing: bool = False) -> set[str]:
        """Return the items as a plain set (lowercased unless ``preserve_casing``)."""
        return set(self._items) if preserve_casing else {item.lower() for item in self._items}

    def to_header(self) -> str:
        """Return the header value."""
        return ", ".join(self._items)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self._find(item) >= 0

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"HeaderSet({self._items!r})"


_CC_TOKEN = re.compile(r'\s*([\w-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)')


class CacheControl(dict[str, Any]):
    """Cache-Control directives with attribute access; every change rewrites the header.

    ``True`` renders a bare directive (``no-cache``), None or False removes it.
    """

    _FLAGS = (
        "no_cache",
        "no_store",
        "no_transform",
        "public",
        "private",
        "must_revalidate",
        "proxy_revalidate",
        "immutable",
        "must_understand",
    )
    _NUMBERS = ("max_age", "s_maxage", "stale_while_revalidate", "stale_if_error")

    def __init__(self, headers: Headers) -> None:
        super().__init__()
        self._headers = headers
        for match in _CC_TOKEN.finditer(headers.get("cache-control") or ""):
            if match.group(1):
                value = match.group(2)
                dict.__setitem__(
                    self, match.group(1).lower(), True if value is None else value.strip('"')
                )

    def _write(self) -> None:
        parts = [key if value is True else f"{key}={value}" for key, value in self.items()]
        if parts:
            self._headers.set("Cache-Control", ", ".join(parts))
        else:
            self._headers.remove("Cache-Control")

    def __setitem__(self, key: str, value: Any) -> None:
        if value is None or value is False:
            self.pop(key, None)
        else:
            super().__setitem__(key, value)
        self._write()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._write()

    def __getattr__(self, name: str) -> Any:
        if name in self._FLAGS or name in self._NUMBERS:
            value = self.get(name.replace("_", "-"))
            if name in self._NUMBERS:
                return ascii_int(str(value)) if value is not None else None
            if name in ("no_cache", "private"):
                return value  # True, a field list, or None (as Werkzeug)
            return value is not None
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in self._FLAGS or name in self._NUMBERS:
            if name in self._NUMBERS and value is not None and value is not False:
                value = int(value)
            self[name.replace("_", "-")] = value
        else:
            raise AttributeError(f"Unknown Cache-Control directive {name!r}.")

    def to_header(self) -> str:
        """Return the header value."""
        return self._headers.get("cache-control") or ""


# -- lists and key=value parameters (RFC 9110 5.6.1, 5.6.4, 5.6.6) -----------------
#: One piece of a list header: a quoted string (escapes kept), a run of other text, or a
#: comma. The alternatives begin with different characters, so the scan is linear.
_LIST_PIECE = re.compile(r'"(?:[^"\\]|\\.)*"|[^",]+|,', re.DOTALL)
_UNSLASH = re.compile(r"\\(.)", re.DOTALL)
#: RFC 2231 / RFC 8187 ``charset'language'percent-encoded-value`` (``key*=`` parameters).
_EXTENDED_VALUE = re.compile(
    r"([\w!#$%&*+\-.^`|~]*)'[\w!#$%&*+\-.^`|~]*'([\w!#$%&'*+\-.^`|~]+)$", re.ASCII
)
_EXTENDED_CHARSETS = frozenset({"ascii", "us-ascii", "utf-8", "iso-8859-1"})


def unquote_header_value(value: str) -> str:
    """``value`` without its surrounding double quotes and backslash escapes, if quoted."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _UNSLASH.sub(r"\1", value[1:-1])
    return value


def quote_header_value(value: Any) -> str:
    """``value`` as a header parameter value: as it is if a token, else a quoted string."""
    text = str(value)
    if TOKEN.fullmatch(text) is not None:  # (RFC 9110 5.6.2: a token goes unquoted.)
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_list_header(value: str) -> list[str]:
    """The comma-separated items of a header, as Werkzeug's ``parse_list_header``.

    Commas inside quoted strings do not split; a wholly quoted item is
    unquoted, blank items are dropped, and a value with an unclosed quoted
    string gives no items at all. Linear in the length of ``value``.
    """
    items: list[str] = []
    pieces: list[str] = []
    consumed = 0
    for match in _LIST_PIECE.finditer(value):
        if match.start() != consumed:  # A '"' no piece took: an unclosed quoted string.
            return []
        consumed = match.end()
        piece = match.group()
        if piece == ",":
            items.append("".join(pieces))
            pieces.clear()
        else:
            pieces.append(piece)
    if consumed != len(value):
        return []
    items.append("".join(pieces))
    stripped = (item.strip(" \t") for item in items)
    return [unquote_header_value(item) for item in stripped if item]


def parse_dict_header(value: str) -> dict[str, str | None]:
    """The ``key=value`` items of a list header (``realm="a, b", nc=01, stale``).

    As Werkzeug's ``parse_dict_header``: a key without ``=`` maps to None, an
    item without a key is dropped, values are unquoted, and a ``key*=``
    value in RFC 8187 form (``UTF-8''%e2%82%ac``) is decoded (ASCII, UTF-8 or
    ISO-8859-1 only; another charset's value stays percent-encoded). Keys keep
    their case.
    """
    result: dict[str, str | None] = {}
    for item in parse_list_header(value):
        key, has_value, text = item.partition("=")
        key = key.strip(" \t")
        if not key:
            continue
        if not has_value:
            result[key] = None
            continue
        text = text.strip(" \t")
        if key.endswith("*"):
            key = key[:-1]
            extended = _EXTENDED_VALUE.match(text)
            if extended is not None:  # The charset marker goes; the value is decoded if known.
                charset, text = extended.group(1).lower(), extended.group(2)
                if charset in _EXTENDED_CHARSETS:
                    text = unquote(text, encoding=charset)
        result[key] = unquote_header_value(text)
    return result


def dump_header(parameters: dict[str, Any]) -> str:
    """``key=value`` pairs joined by ``", "``, values quoted when needed (None: the key alone)."""
    items = []
    for key, value in parameters.items():
        if value is None:
            items.append(key)
        else:  # A ``key*`` value is already in RFC 8187 form: never quoted.
            items.append(f"{key}={value if key.endswith('*') else quote_header_value(value)}")
    return ", ".join(items)
