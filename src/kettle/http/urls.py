"""Percent-decoding and -encoding that never raise.

Decoding follows Werkzeug: a bad escape such as ``%zz`` is kept as it is;
invalid UTF-8 becomes U+FFFD in paths and stays ``%XX`` in query strings and
form bodies, so hostile URLs yield values, not exceptions.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import quote, unquote_to_bytes

from kettle._accelerators import accelerator
from kettle.http.datastructures import ImmutableMultiDict, MultiDict
from kettle.http.exceptions import RequestEntityTooLarge

# RFC 3986 3.3: characters a path may carry unescaped ("/" kept as separator).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# RFC 3986 3.4: the query may also carry "?" and "/".
_QUERY_SAFE = "/:@!$'()*,;-._~?"


def _requote_invalid(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: keep bytes that are not UTF-8 as ``%XX`` escapes."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(f"%{byte:02X}" for byte in bad), error.end


# Query values keep undecodable bytes as escapes (``%ff`` stays ``%FF``), as
# Werkzeug's request.args and form do, so no information is lost.
codecs.register_error("kettle.url_quote", _requote_invalid)


# One byte looked up as an int (``_PERCENT in raw``): a one-byte bytes operand
# (``b"%" in raw``) goes through the buffer protocol and cost 8x as much, about
# 150 ns, twice per query string.
# ``Final``: the compiled build (mypyc) inlines these, where a plain global is a dict lookup.
_PERCENT: Final = ord("%")
_PLUS: Final = ord("+")

#: Escapes are decoded this many bytes at a time: ``unquote_to_bytes`` splits
#: its whole input at every ``%`` (a 2 MB query of ``%41`` made 700,000 small
#: objects, 150 MiB), so a slice bounds that garbage to about 1 MiB.
_UNQUOTE_CHUNK: Final = 64 * 1024


def unquote_bytes(raw: bytes) -> bytes:
    """Percent-decode ``raw`` (bad escapes stay) with memory bounded by ``_UNQUOTE_CHUNK``."""
    size = len(raw)
    if size <= _UNQUOTE_CHUNK:
        return unquote_to_bytes(raw)
    out = bytearray()
    start = 0
    while start < size:
        stop = start + _UNQUOTE_CHUNK
        if stop < size:
            # Never cut an escape in two: end the slice before a "%" in its last two bytes.
            cut = raw.find(b"%", stop - 2, stop)
            if cut >= 0:
                stop = cut
        out += unquote_to_bytes(raw[start:stop])
        start = stop
    return bytes(out)


def url_unquote(value: str | bytes, errors: str = "replace") -> str:
    """Percent-decode ``value`` to text; bad escapes stay, bad UTF-8 is replaced."""
    raw = value.encode("latin-1", "replace") if isinstance(value, str) else value
    if _PERCENT not in raw:
        return raw.decode("utf-8", errors)
    return unquote_bytes(raw).decode("utf-8", errors)


def url_quote(value: str | bytes, safe: str = _PATH_SAFE) -> str:
    """Percent-encode ``value`` (UTF-8), leaving ``safe`` characters as they are."""
    return quote(value, safe=safe)


def decode_wsgi_path(path: str) -> str:
    """Turn a WSGI PATH_INFO (bytes decoded as latin-1) into UTF-8 text.

    Invalid UTF-8 becomes U+FFFD rather than an error.
    """
    if path.isascii():
        return path
    return path.encode("latin-1", "replace").decode("utf-8", "replace")


#: dict's own constructor and update, untyped: an ImmutableMultiDict's dict holds its
#: first values (``query_multidict`` fills that layout directly).
_new_dict: Final[Any] = dict.__new__
_update_dict: Final[Any] = dict.update
#: The class ``query_multidict`` builds (a ``Final`` name: a C static in the compiled build).
_MULTIDICT: Final = ImmutableMultiDict

_TOO_MANY_FIELDS: Final = "The form has too many fields."


#: ``query_multidict``'s C parse, when it is built (an optional extension module).
_fill_multidict: Final[Callable[[object, bytes, int], dict[str, list[str]] | None] | None] = (
    accelerator("kettle.http._urlencoded", "fill_multidict")
)

#: Inputs up to this size are split in one go (a few list items per field, at
#: most a few MB of small objects); longer ones are parsed as a stream.
_SMALL_QUERY: Final = _UNQUOTE_CHUNK


def parse_qsl(query: bytes, max_fields: int | None = None) -> list[tuple[str, str]]:
    """Split a query string or urlencoded body into decoded (key, value) pairs.

    ``&`` separates pairs (``;`` does not, as in Werkzeug >= 2.3), ``+`` is a
    space, empty keys and values are kept; bytes that are not UTF-8 stay as
    ``%XX`` escapes, as in Werkzeug. ``max_fields`` bounds the number of
    pairs; past it ValueError is raised so callers can answer 413.
    """
    if len(query) <= _SMALL_QUERY:
        return _split_small(query, max_fields)
    return list(_iter_large(query, max_fields))


def iter_qsl(query: bytes, max_fields: int | None = None) -> Iterable[tuple[str, str]]:
    """Iterate the pairs of ``parse_qsl``; a long input is parsed as a stream.

    A 2 MB query of 400,000 tiny fields would otherwise exist three times at
    once (the split pieces, the pairs, the dict); the caller's dict is the
    only copy this way. A short one (the common case) is split in one go.
    """
    if len(query) <= _SMALL_QUERY:
        return _split_small(query, max_fields)  # The list itself: a MultiDict may take it whole.
    return _iter_large(query, max_fields)


def query_multidict(
    query: bytes, max_fields: int | None = None, max_size: int | None = None
) -> ImmutableMultiDict[str, str]:
    """The ImmutableMultiDict of ``parse_qsl``'s pairs, a 413 past ``max_size`` or ``max_fields``.

    ``request.args`` (no limits: never raises) and a urlencoded body (the
    form limits: ``RequestEntityTooLarge``) both end here. The C accelerator
    (``kettle.http._urlencoded``, built with the install when a C compiler
    is there) fills the ImmutableMultiDict's layout in one pass: the dict of
    first values, and a value list only for a key that repeats
    (``?tag=a&tag=b``). Input that is not UTF-8, and every input when the
    accelerator is not built, takes ``_pure_multidict``, which gives the same
    result.
    """
    if max_size is not None and len(query) > max_size:
        raise RequestEntityTooLarge()
    if _fill_multidict is None:
        return _pure_multidict(query, max_fields)
    result: ImmutableMultiDict[str, str] = _new_dict(_MULTIDICT)
    try:
        lists = _fill_multidict(result, query, -1 if max_fields is None else max_fields)
    except UnicodeDecodeError:  # Not UTF-8: the Python parse keeps such bytes as %XX escapes.
        return _pure_multidict(query, max_fields)
    except ValueError:  # Past ``max_fields``.
        raise RequestEntityTooLarge(_TOO_MANY_FIELDS) from None
    if lists is not None:
        result._lists = lists
    return result


def _pure_multidict(query: bytes, max_fields: int | None) -> ImmutableMultiDict[str, str]:
    """``query_multidict``'s parse in Python (past ``max_size``; 413 past ``max_fields``).

    The common input is short and without a ``%`` escape. Without escapes,
    "+", "&" and "=" are ASCII and never part of a UTF-8 sequence, so
    decoding it once and then splitting gives the same pairs (and the same
    %XX for bytes that are not UTF-8) as splitting first. Its chunks go in
    one loop into the dict of first values. Any other input is grouped from
    the pairs of ``iter_qsl``.
    """
    if len(query) > _SMALL_QUERY or _PERCENT in query:
        try:
            return ImmutableMultiDict(iter_qsl(query, max_fields))
        except ValueError:  # ``iter_qsl`` past ``max_fields``.
            raise RequestEntityTooLarge(_TOO_MANY_FIELDS) from None
    # ``bytes.replace`` gives the object itself when there is no "+" (no copy).
    raw = query.replace(b"+", b" ")
    try:
        text = raw.decode()  # Strict UTF-8, no argument to parse: the common input.
    except UnicodeDecodeError:  # Bytes that are not UTF-8 stay ``%XX`` escapes.
        text = raw.decode("utf-8", "kettle.url_quote")
    chunks = text.split("&")
    if max_fields is not None and len(chunks) > max_fields and any(chunks[max_fields:]):
        raise RequestEntityTooLarge(_TOO_MANY_FIELDS)
    first: dict[str, str] = {}
    repeated: dict[str, list[str]] | None = None
    for chunk in chunks:
        key, sep, value = chunk.partition("=")
        if key not in first:
            if key or sep:  # An empty chunk ("a&&b") gives no key and no "=".
                first[key] = value
        elif key or sep:
            if repeated is None:
                repeated = {key: [first[key], value]}
            else:
                values = repeated.get(key)
                if values is None:
                    repeated[key] = [first[key], value]
                else:
                    values.append(value)
    # The ImmutableMultiDict's layout filled in place (its ``__init__`` would group
    # pairs again): dict.__new__ makes it empty without a Python ``__init__`` call.
    result: ImmutableMultiDict[str, str] = _new_dict(_MULTIDICT)
    _update_dict(result, first)
    if repeated is not None:
        result._lists = repeated
    return result


def _split_small(query: bytes, max_fields: int | None) -> list[tuple[str, str]]:
    """``parse_qsl`` for an input of at most ``_SMALL_QUERY`` bytes.

    Split first, then each key and value decoded: what any input needs (an
    escaped ``%26`` is data, not a separator). The common input without
    escapes takes the one loop of ``query_multidict``.
    """
    pairs: list[tuple[str, str]] = []
    for index, raw in enumerate(query.split(b"&")):
        if raw:
            if max_fields is not None and index >= max_fields:
                raise ValueError("too many fields")
            key_raw, _, value_raw = raw.partition(b"=")
            pairs.append((_decode_component(key_raw), _decode_component(value_raw)))
    return pairs


def _iter_large(query: bytes, max_fields: int | None) -> Iterator[tuple[str, str]]:
    """Yield the pairs of a long input one by one, without splitting it whole first."""
    size = len(query)
    start = index = 0
    while start <= size:
        stop = query.find(b"&", start)
        if stop < 0:
            stop = size
        if stop > start:
            if max_fields is not None and index >= max_fields:
                raise ValueError("too many fields")
            key, _, value = query[start:stop].partition(b"=")
            yield _decode_component(key), _decode_component(value)
        index += 1
        start = stop + 1


def _decode_component(raw: bytes) -> str:
    if _PLUS in raw:
        raw = raw.replace(b"+", b" ")
    if _PERCENT in raw:
        raw = unquote_bytes(raw)
    return raw.decode("utf-8", "kettle.url_quote")


def parse_query(query: bytes) -> ImmutableMultiDict[str, str]:
    """Parse a query string into an ImmutableMultiDict (never raises)."""
    return query_multidict(query)


def encode_query(
    values: Mapping[str, Any] | Iterable[tuple[str, Any]] | MultiDict[str, Any],
) -> str:
    """Build ``a=1&a=2&b=x`` from a mapping (lists repeat the key; None is dropped)."""
    if isinstance(values, MultiDict):
        pairs: Iterable[tuple[str, Any]] = values.items(multi=True)
    elif isinstance(values, Mapping):
        pairs = _expand(values)
    else:
        pairs = values
    parts = []
    for key, value in pairs:
        if value is None:
            continue
        parts.append(
            f"{quote(str(key), safe=_QUERY_SAFE.replace('&', ''))}="
            f"{quote(str(value), safe=_QUERY_SAFE)}"
        )
    return "&".join(parts)


def _expand(mapping: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for key, value in mapping.items():
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                yield key, item
        else:
            yield key, value


# RFC 3986 3.2: what an authority may carry unescaped (userinfo, host, port).
_NETLOC_SAFE = "@:[]!$&'()*+,;=%-._~"


def iri_to_uri(iri: str) -> str:
    """Convert an IRI (may hold non-ASCII) into an ASCII URI.

    The host is IDNA-encoded; everything else, the authority included, is
    percent-encoded (existing escapes are kept). Control characters are
    encoded too, so the result is printable ASCII and can never carry CR, LF,
    NUL or a non-latin-1 character into a header.
    """
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(iri)
    except ValueError:
        return quote(iri, safe="/:?#[]@!$&'()*+,;=%-._~")
    netloc = parts.netloc
    if netloc and not (netloc.isascii() and netloc.isprintable()):
        userinfo, at, hostport = netloc.rpartition("@")
        if hostport[:1] == "[":
            close = hostport.find("]") + 1
            host, colon, port = hostport[:close], "", hostport[close:]
        else:
            host, colon, port = hostport.partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # percent-encoded below
        netloc = quote(f"{userinfo}{at}{host}{colon}{port}", safe=_NETLOC_SAFE)
    path = quote(parts.path, safe="/:@!$&'()*+,;=%-._~")
    query = quote(parts.query, safe="/:@!$&'()*+,;=?%-._~")
    fragment = quote(parts.fragment, safe="/:@!$&'()*+,;=?#%-._~")
    return urlunsplit((parts.scheme, netloc, path, query, fragment))
