"""Origins (RFC 6454): parse ``Origin`` and ``Referer`` values and compare them.

A serialized origin is ``scheme "://" host [ ":" port ]`` (RFC 6454 §6.2).
Two origins are the same when scheme, host and port are equal, the default
port of the scheme counted when it is left out (§5). The WebSocket Origin
check and the CSRF Origin/Referer check both use ``origin_allowed``.
Everything here is linear in its input: ``str.partition`` and ``str.isdigit``
on ASCII, no regular expressions.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Origin", "origin_allowed", "origin_of_url", "parse_origin"]

#: An origin as a tuple: scheme, lower-case host, port.
Origin = tuple[str, str, int]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
#: Characters that never appear in a host (RFC 3986 reg-name, IP-literal brackets aside).
_NOT_IN_HOST = frozenset("/?#@\\ \t\r\n\x00%")


def parse_origin(value: str) -> Origin | None:
    """Return ``(scheme, host, port)`` for ``"scheme://host[:port]"``; None otherwise.

    ``null`` (an opaque origin), a path, user info or a port that is not
    ASCII digits in range give None: such a value matches nothing.
    """
    scheme, sep, rest = value.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS or not rest:
        return None
    if rest.endswith("/"):
        rest = rest[:-1]  # Tolerated: some clients send "https://host/".
    if any(char in _NOT_IN_HOST for char in rest):
        return None
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            return None
        host, port_text = rest[: end + 1], rest[end + 1 :]
        if port_text and port_text[:1] != ":":
            return None
        port_text = port_text[1:]
    else:
        host, _, port_text = rest.partition(":")
    if not host:
        return None
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5:
            return None
        port = int(port_text)
        if port > 65535:
            return None
    else:
        port = _DEFAULT_PORTS[scheme]
    return scheme, host.lower(), port


def origin_of_url(url: str) -> Origin | None:
    """Return the origin of an absolute URL (a ``Referer``); None when it has none."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    end = len(rest)
    for char in "/?#":
        found = rest.find(char)
        if found >= 0:
            end = min(end, found)
    return parse_origin(f"{scheme}://{rest[:end]}")


def origin_allowed(
    origin: Origin, scheme: str, host: str, allowed: Iterable[str] | None = None
) -> bool:
    """Return True when ``origin`` is the request's own or one of ``allowed``.

    ``scheme`` and ``host`` are the request's (``request.scheme``,
    ``request.host``). ``allowed`` holds serialized origins
    (``"https://example.com"``), ``"https://*.example.com"`` for every
    subdomain of a host, or ``"*"`` for any origin.
    """
    own = parse_origin(f"{scheme}://{host}")
    if own is not None and origin == own:
        return True
    for entry in allowed or ():
        if entry == "*":
            return True
        wildcard = "://*." in entry
        parsed = parse_origin(entry.replace("://*.", "://", 1) if wildcard else entry)
        if parsed is None:
            continue
        if origin == parsed:
            return True
        if (
            wildcard
            and origin[0] == parsed[0]
            and origin[2] == parsed[2]
            and origin[1].endswith("." + parsed[1])
        ):
            return True
    return False
