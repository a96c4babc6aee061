"""Cookie headers: parsing ``Cookie`` and building ``Set-Cookie`` (RFC 6265).

``parse_cookie`` never raises: pairs without ``=`` are skipped, quoted values
are unquoted (``\\"`` and octal escapes as Python's http.cookies writes them),
``=`` inside a value is kept, and duplicate names keep every value.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

from kettle.http.datastructures import ImmutableMultiDict
from kettle.http.dates import http_date

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
            if not value.isascii():
                # Octal escapes stand for the bytes of UTF-8 text (http.cookies
                # writes them so): decode those bytes, not each byte as a char.
                try:
                    value = value.encode("latin-1").decode("utf-8", "replace")
                except UnicodeEncodeError:
                    pass  # Real non-latin-1 text around the escapes: keep it.
    return value


def _cookie_pair(chunk: str) -> tuple[str, str] | None:
    """Return one ``name=value`` chunk of a Cookie header as a pair (None: dropped)."""
    name, sep, value = chunk.partition("=")
    name = name.strip()
    value = value.strip()
    if not sep or not name or (value[:1] == '"' and (len(value) < 2 or value[-1] != '"')):
        return None  # No "=", no name, or an unterminated quote: dropped, as Werkzeug does.
    return name, _unquote(value) if value[:1] == '"' else value


def _iter_cookie_pairs(header: str) -> Iterator[tuple[str, str]]:
    for chunk in header.split(";"):
        pair = _cookie_pair(chunk)
        if pair is not None:
            yield pair


def parse_cookie_pairs(header: str) -> list[tuple[str, str]]:
    """Split a Cookie header into (name, value) pairs, in order, never raising."""
    return list(_iter_cookie_pairs(header))


def _as_text(header: str | bytes) -> str:
    if isinstance(header, bytes):
        return header.decode("utf-8", "replace")
    if not header.isascii():
        # WSGI hands headers over as latin-1; browsers send UTF-8.
        return header.encode("latin-1", "replace").decode("utf-8", "replace")
    return header


def parse_cookie(header: str | bytes | None) -> ImmutableMultiDict[str, str]:
    """Parse a Cookie header into an ImmutableMultiDict.

    Bytes are decoded as UTF-8 with replacement; nothing here raises.
    """
    if not header:
        return ImmutableMultiDict()
    return ImmutableMultiDict(parse_cookie_pairs(_as_text(header)))


def cookie_value(header: str | bytes | None, name: str) -> str | None:
    """Return the first value of cookie ``name``: ``parse_cookie(header).get(name)``.

    Reads the pairs up to the first ``name`` and builds no dict: the session
    needs one cookie of the header.
    """
    if not header:
        return None
    text = header if header.__class__ is str and header.isascii() else _as_text(header)
    if name not in text:
        return None  # names are never unquoted: absent from the text, absent from the pairs
    if ";" not in text:  # one pair (the common header of an app with one cookie): no split
        pair = _cookie_pair(text)
        return pair[1] if pair is not None and pair[0] == name else None
    for chunk in text.split(";"):
        if name in chunk:  # the same test, per pair: only those can hold the name
            pair = _cookie_pair(chunk)
            if pair is not None and pair[0] == name:
                return pair[1]
    return None


#: ``cookie_value`` for a header seen before (a client sends the same Cookie
#: header request after request): a pure function of its arguments, kept for
#: up to 256 headers. Callers pass only headers of at most ``KEPT_HEADER``
#: characters, so what it holds stays small.
kept_cookie_value = lru_cache(maxsize=256)(cookie_value)
KEPT_HEADER = 4096


# -- the dump side (Set-Cookie) ---------------------------------------------

# RFC 6265 4.1.1 cookie-octet plus the characters Werkzeug 3 leaves bare; any
# other value is double-quoted with the unsafe bytes written as octal escapes,
# the form Python's http.cookies and browsers read back.
_NO_QUOTE = re.compile(r"[\w!#$%&'()*+\-./:<=>?@\[\]^`{|}~]*", re.ASCII)
_NEEDS_ESCAPE = re.compile(rb'[\x00-\x19",;\\\x7f-\xff]')
_PATH_SAFE = "%!$&'()*+,/:=@"
_SAMESITE = frozenset({"Strict", "Lax", "None"})


def _escape_byte(match: re.Match[bytes]) -> bytes:
    byte = match.group()
    if byte in (b'"', b"\\"):
        return b"\\" + byte
    return f"\\{byte[0]:03o}".encode("ascii")


def quote_cookie_value(value: str) -> str:
    """Return ``value`` as it goes in a Set-Cookie header (quoted when needed).

    CR, LF, ``;`` and ``,`` are octal-escaped inside quotes, so no value can
    end the cookie early or start a new header.
    """
    if _NO_QUOTE.fullmatch(value):
        return value
    escaped = _NEEDS_ESCAPE.sub(_escape_byte, value.encode("utf-8")).decode("ascii")
    return f'"{escaped}"'


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise TypeError("The cookie key must be a non-empty string.")
    if not all(c.isprintable() and c not in ' ;,="\\' for c in key):
        raise ValueError(f"Invalid cookie key {key!r}.")


def _clean_domain(domain: str) -> str:
    # A port or a leading dot is dropped, as Werkzeug; anything but a host name is refused.
    domain = domain.partition(":")[0].lstrip(".")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    if not all(c.isalnum() or c in ".-_" for c in domain):
        raise ValueError(f"Invalid cookie domain {domain!r}.")
    return domain


@lru_cache(maxsize=256, typed=True)
def cookie_attributes(
    key: str,
    domain: str | None,
    max_age: int | None,
    secure: bool,
    httponly: bool,
    path: str | None,
    samesite: str | None,
    partitioned: bool,
) -> tuple[str, str, str]:
    """Return what surrounds the value and Expires: ``("key=", "; Domain=...", "; Max-Age=...")``.

    Checked and formatted once per set of options (an app sets the same few
    cookies over and over), in Werkzeug 3's attribute order.
    """
    _check_key(key)
    if path is not None:
        path = quote(path, safe=_PATH_SAFE)
    if domain:
        domain = _clean_domain(domain)
    if samesite is not None:
        samesite = samesite.title()
        if samesite not in _SAMESITE:
            raise ValueError("SameSite must be 'Strict', 'Lax', or 'None'.")
    if partitioned:
        secure = True
    tail = []
    for name, item in (
        ("Max-Age", max_age),
        ("Secure", secure),
        ("HttpOnly", httponly),
        ("Path", path),
        ("SameSite", samesite),
        ("Partitioned", partitioned),
    ):
        if item is None or item is False or item == "":
            continue
        tail.append(f"; {name}" if item is True else f"; {name}={item}")
    domain_part = f"; Domain={domain}" if domain else ""
    return f"{key.encode('utf-8').decode('latin-1')}=", domain_part, "".join(tail)


def format_cookie(attributes: tuple[str, str, str], value: str, expires: str | None) -> str:
    """Join ``cookie_attributes`` parts, a quoted value and an HTTP date into a Set-Cookie value."""
    start, domain_part, tail = attributes
    if expires:
        return f"{start}{value}{domain_part}; Expires={expires}{tail}"
    return f"{start}{value}{domain_part}{tail}"


def dump_cookie(
    key: str,
    value: str = "",
    max_age: timedelta | int | None = None,
    expires: str | datetime | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    sync_expires: bool = True,
    max_size: int = 4093,
    samesite: str | None = None,
    partitioned: bool = False,
) -> str:
    """Build a Set-Cookie header value, in Werkzeug 3's format.

    ``max_age`` may be seconds or a timedelta; ``expires`` a datetime, a
    timestamp or a ready string; with only ``max_age``, Expires is derived
    from it. ``Partitioned`` implies ``Secure``. A header longer than
    ``max_size`` (0 disables) gives a UserWarning, as browsers drop it.
    """
    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    attributes = cookie_attributes(
        key, domain, max_age, secure, httponly, path, samesite, partitioned
    )
    if expires is not None:
        if not isinstance(expires, str):
            expires = http_date(expires)
        elif ";" in expires:
            # An attribute separator would add attributes; control characters
            # are refused by the header validator when the header is set.
            raise ValueError(f"Invalid cookie expires {expires!r}: an HTTP date is expected.")
    elif max_age is not None and sync_expires:
        expires = http_date(time.time() + max_age)
    value = quote_cookie_value(value)
    header = format_cookie(attributes, value, expires)
    if max_size and len(header) > max_size:
        extra = len(header) - len(value)
        warnings.warn(
            f"The {key!r} cookie is too large: the value was {len(value)} bytes but the header"
            f" required {extra} extra bytes. The final size was {len(header)} bytes but the"
            f" limit is {max_size} bytes. Browsers may silently ignore cookies larger than this.",
            stacklevel=3,
        )
    return header
