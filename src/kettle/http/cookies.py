"""Cookie header parsing (RFC 6265 with the quirks browsers and Werkzeug accept).

``parse_cookie`` never raises: pairs without ``=`` are skipped, quoted values
are unquoted (``\\"`` and octal escapes as Python's http.cookies writes them),
``=`` inside a value is kept, and duplicate names keep every value.
"""

from __future__ import annotations

import re

from kettle.http.datastructures import ImmutableMultiDict

_OCTAL = re.compile(r"\\([0-3][0-7]{2}|.)")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
        if "\\" in value:

            def replace(match: re.Match[str]) -> str:
                text = match.group(1)
                if len(text) == 3:
                    return chr(int(text, 8))
                return text

            value = _OCTAL.sub(replace, value)
    return value


def parse_cookie_pairs(header: str) -> list[tuple[str, str]]:
    """Split a Cookie header into (name, value) pairs, in order, never raising."""
    pairs: list[tuple[str, str]] = []
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        pairs.append((name, _unquote(value.strip())))
    return pairs


def parse_cookie(header: str | bytes | None) -> ImmutableMultiDict[str, str]:
    """Parse a Cookie header into an ImmutableMultiDict.

    Bytes are decoded as UTF-8 with replacement; nothing here raises.
    """
    if not header:
        return ImmutableMultiDict()
    if isinstance(header, bytes):
        header = header.decode("utf-8", "replace")
    elif not header.isascii():
        # WSGI hands headers over as latin-1; browsers send UTF-8.
        header = header.encode("latin-1", "replace").decode("utf-8", "replace")
    return ImmutableMultiDict(parse_cookie_pairs(header))
