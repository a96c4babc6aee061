"""The Host: parsed into name and port by the URI grammar before anything trusts it.

Grammar (RFC 9110 7.2 and RFC 3986 3.2.2-3.2.3)::

    Host       = uri-host [ ":" port ]
    uri-host   = IP-literal / IPv4address / reg-name
    IP-literal = "[" ( IPv6address / IPvFuture ) "]"
    reg-name   = *( unreserved / pct-encoded / sub-delims )
    port       = *DIGIT

RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request) status code to
any HTTP/1.1 request message that lacks a Host header field and to any request
message that contains more than one Host header field line or a Host header
field with an invalid field value." Kettle reads a reg-name as a DNS name:
letters, digits, ``-``, ``.``, ``_`` and ``~`` only, after a Unicode name is
IDNA-encoded (``ąś.com`` is ``xn--...``; sub-delims and
percent-escapes such as ``good.test:@evil.test`` or ``evil.test/.corp.test``
name no real host and are refused), no empty label; an IP-literal must be an
IPv6 address (no zone id, no IPvFuture); a port is 1 to 65535 written in ASCII
digits without a leading zero, as Werkzeug requires.

Parsing is a few string operations; results are cached per raw value (a
server sees a handful of distinct Host values), so the common request pays a
dict lookup.
"""

from __future__ import annotations

import functools
import ipaddress
import string
from collections.abc import Iterable

_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

#: Distinct raw Host values remembered; past it the cache starts again (a
#: client sending random hosts costs a parse each, never unbounded memory).
_CACHE_LIMIT = 512
#: ``(raw Host, scheme)`` -> ``normalize_host``'s answer, for the hosts already
#: checked (the request reads it directly: the common case is one lookup).
checked_hosts: dict[tuple[str, str], str | None] = {}
#: Only values this short are remembered (a DNS name has at most 253
#: characters), so the cache holds at most a few hundred KB.
_CACHED_LENGTH = 300


def split_host(host: str) -> tuple[str, int | None] | None:
    """Split ``host[:port]`` into ``(lower-cased name, port)``; None when outside the grammar.

    IPv6 literals keep their brackets (``("[::1]", 8080)``).
    """
    if host[:1] == "[":
        close = host.find("]")
        literal = host[1:close]
        if close < 0 or "%" in literal:
            return None
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return None
        name, rest = host[: close + 1].lower(), host[close + 1 :]
    else:
        name, colon, port_text = host.partition(":")
        rest = colon + port_text
        if not name.isascii():
            name = _a_label(name)
        if not name or not _NAME_CHARS.issuperset(name) or name[0] == "." or ".." in name:
            return None
        name = name.lower()
    if not rest:
        return name, None
    port_text = rest[1:]
    if (
        rest[0] != ":"
        or not 1 <= len(port_text) <= 5
        or not port_text.isascii()
        or not port_text.isdigit()
        or port_text[0] == "0"
    ):
        return None
    port = int(port_text)
    return (name, port) if port <= 65535 else None


def _a_label(name: str) -> str:
    """An internationalised name as its ASCII (IDNA) form, ``""`` when it has none.

    ``ąśź.com`` is a valid host (Werkzeug and Flask accept it); it is checked
    and used as ``xn--...``, so a URL built from it is plain ASCII. The IDNA
    codec refuses no ASCII character, so the result still goes through the
    grammar check.
    """
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def normalize_host(host: str, scheme: str) -> str | None:
    """Return ``host`` checked, lower-cased, without the default port; None when invalid."""
    key = (host, scheme)
    try:
        return checked_hosts[key]
    except KeyError:
        pass
    parts = split_host(host)
    if parts is None:
        result = None
    else:
        name, port = parts
        result = name if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{name}:{port}"
    if len(host) <= _CACHED_LENGTH:
        if len(checked_hosts) >= _CACHE_LIMIT:
            checked_hosts.clear()
        checked_hosts[key] = result
    return result


def server_host(server: tuple[str, int | None] | None, scheme: str) -> str:
    """Return the host of the server's own address (no Host header), or ``""``.

    A Unix socket (port None) gives ``""``, as does a name outside the grammar.
    """
    if server is None or server[1] is None:
        return ""
    name, port = server
    if ":" in name and name[:1] != "[":
        name = f"[{name}]"  # an IPv6 address as the server reports it
    return normalize_host(f"{name}:{port}", scheme) or ""


def host_is_trusted(host: str, trusted_hosts: Iterable[str]) -> bool:
    """Check ``host`` against an allow-list, as Werkzeug's ``host_is_trusted``.

    The host is parsed first (a value outside the host grammar is never
    trusted); ports are ignored; an entry starting with ``.`` also allows
    every subdomain (``.example.com`` allows ``example.com`` and
    ``a.example.com``). Entries may be Unicode names (IDNA-encoded here).
    """
    parts = split_host(host) if host else None
    if parts is None:
        return False
    name = parts[0]
    for entry in trusted_hosts:
        suffix = entry[:1] == "."
        reference = _entry_name(entry[1:] if suffix else entry)
        if reference and (name == reference or (suffix and name.endswith("." + reference))):
            return True
    return False


@functools.lru_cache(maxsize=256)
def _entry_name(entry: str) -> str:
    """The name of a TRUSTED_HOSTS entry: port dropped, lower-cased, IDNA-encoded."""
    entry = entry[: entry.find("]") + 1] if entry[:1] == "[" else entry.partition(":")[0]
    try:
        return entry.lower().encode("idna").decode("ascii")
    except UnicodeError:
        return ""
