"""The response: status, headers and a body that is bytes or an iterable.

A body given as ``str`` or ``bytes`` is stored as a one-item list with its
Content-Length set; any other iterable (a generator, say) streams and gets no
Content-Length. The adapters send ``status``, ``headers.to_wsgi_list()`` and
iterate ``response``.
"""

from __future__ import annotations

import hashlib
import json as _json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Self

from kettle.http._watched import WatchedClass
from kettle.http.cookies import dump_cookie
from kettle.http.dates import http_date, parse_date
from kettle.http.exceptions import RequestedRangeNotSatisfiable
from kettle.http.headers import LENGTH_VALUES, Headers, check_header_value, length_value
from kettle.http.headervalues import CacheControl, HeaderSet
from kettle.http.preconditions import (
    ascii_int,
    parse_etags,
    parse_if_range,
    parse_range,
    quote_etag,
    unquote_etag,
)
from kettle.http.status import parse_status, status_line

if TYPE_CHECKING:
    from kettle.http.request import Request

# Werkzeug adds "; charset=utf-8" to these besides text/* and *+xml.
_CHARSET_MIMETYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/sql",
        "application/xml",
        "application/xml-dtd",
        "application/xml-external-parsed-entity",
    }
)


def get_content_type(mimetype: str, charset: str = "utf-8") -> str:
    """Return ``mimetype`` with ``; charset=`` added when it is a text type."""
    if "charset=" not in mimetype and (
        mimetype.startswith("text/") or mimetype in _CHARSET_MIMETYPES or mimetype.endswith("+xml")
    ):
        return f"{mimetype}; charset={charset}"
    return mimetype


_DEFAULT_CONTENT_TYPE = "text/html; charset=utf-8"
_DEFAULT_TYPE_PAIR = ("Content-Type", _DEFAULT_CONTENT_TYPE)  # One tuple, shared (immutable).


def _header_property(name: str, doc: str) -> Any:
    """Return a property reading header ``name``; setting None removes it."""

    def fget(self: Response) -> str | None:
        return self.headers.get(name)

    def fset(self: Response, value: str | None) -> None:
        if value is None:
            self.headers.remove(name)
        else:
            self.headers.set(name, value)

    return property(fget, fset, doc=doc)


def _header_pairs(value: Any) -> Any:
    """The (name, value) pairs of a multidict (every value), a mapping or a pair list."""
    items = getattr(value, "items", None)
    if items is not None:
        try:
            return items(multi=True)
        except TypeError:
            pass
    return value


def own_headers(response: Response) -> Headers:
    """Return ``response.headers`` as Kettle ``Headers``, converting a foreign multidict once.

    An extension may replace the headers with another multidict (Flask-Cors does
    when they are not Werkzeug's ``Headers``); the pipeline (after each
    after_request function) and ``prepare_send`` call this, so the attribute
    itself stays a plain one and reading it costs nothing.
    """
    headers = response.headers
    if headers.__class__ is not Headers and not isinstance(headers, Headers):
        headers = response.headers = Headers(_header_pairs(headers))
    return headers


_new_headers = object.__new__


def _set_status_code(response: Response, code: int) -> None:
    if code.__class__ is not int:  # ``status_code = "422"``: read as ``status``, as Werkzeug's.
        return _set_status(response, code)
    response._status_code, response._status = code, status_line(code)


def _set_status(response: Response, value: int | str) -> None:
    if isinstance(value, int | str):
        response._status_code, response._status = parse_status(value)
    else:
        raise TypeError("Invalid status argument: an int or a str is needed.")


def _encoded(body: Iterable[bytes | str], charset: str) -> Iterator[bytes]:
    for chunk in body:
        yield chunk.encode(charset) if isinstance(chunk, str) else chunk


class Response(metaclass=WatchedClass):
    """An HTTP response.

    ``Response(body, status, headers, mimetype, content_type)``: ``status`` is
    an int or a string like ``"201 CREATED"`` (any code 100-999); headers are
    a dict, a list of pairs or a Headers.
    """

    default_status = 200
    default_mimetype: str | None = "text/html"
    charset = "utf-8"
    #: Treat the body as an opaque iterable (no Content-Length computation).
    direct_passthrough = False
    #: Werkzeug's switch for an absolute Location: Kettle keeps it as set (Werkzeug 2.1+).
    autocorrect_location_header = False
    #: The body: a list of chunks, or any iterable that streams.
    response: Iterable[bytes]
    #: The headers; an extension's replacement multidict is converted by ``own_headers``.
    headers: Headers
    #: Set by ``make_response`` for ``(body, status)``; close() runs these callables.
    _on_close: list[Any] | None = None
    #: True when ``call_on_close`` registered a function (adapters must call ``close()``).
    has_close_callbacks: bool = False

    def __init__(
        self,
        response: Iterable[bytes] | Iterable[str] | bytes | str | None = None,
        status: int | str | None = None,
        headers: Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        if (  # The common case (a view returned a str), in one step.
            response.__class__ is str
            and headers is None
            and status is None
            and mimetype is None
            and content_type is None
            and self.default_mimetype == "text/html"
            and self.default_status == 200
            and self.charset == "utf-8"
        ):
            data = response.encode()
            self.headers = made = _new_headers(Headers)  # Headers._trusted, written out:
            size = len(data)  # both values are known valid (``length_value``, written out:
            length = LENGTH_VALUES[size] if size < 4096 else str(size)  # a call costs more).
            made._list = [_DEFAULT_TYPE_PAIR, ("Content-Length", length)]
            self._status_code, self._status = 200, "200 OK"
            self.direct_passthrough = direct_passthrough
            self.has_close_callbacks = False  # (Read by every adapter.)
            self.response = [data]
            return
        if headers is None:
            self.headers = Headers._trusted([])
        elif isinstance(headers, Headers):
            self.headers = headers
        else:
            self.headers = Headers(_header_pairs(headers))
        if content_type is None:
            if mimetype is None and "content-type" not in self.headers:
                mimetype = self.default_mimetype
            if mimetype is not None:
                charset = self.charset  # (Named in the Content-Type of text, as Werkzeug 2's.)
                content_type = (
                    _DEFAULT_CONTENT_TYPE
                    if mimetype == "text/html" and charset == "utf-8"
                    else get_content_type(mimetype, charset)
                )
        if content_type is not None:
            self.headers._list.append(
                ("Content-Type", check_header_value(content_type, "Content-Type"))
            )
        if status is None:
            self._status_code = self.default_status
            self._status = status_line(self.default_status)
        else:
            self.status = status
        self.direct_passthrough = direct_passthrough
        self.has_close_callbacks = False  # Stored: a class attribute is a slow read (3.11).
        if response is None:
            self.response = []
        elif isinstance(response, str | bytes | bytearray):
            self.set_data(response)
        else:
            self.response = response  # type: ignore[assignment]

    @classmethod
    def _ready(cls, data: bytes, code: int, status: str, headers: list[tuple[str, str]]) -> Self:
        """Build a response from parts already known valid (a cached error page)."""
        self = cls.__new__(cls)
        self.headers = trusted = _new_headers(Headers)  # ``Headers._trusted``, written out.
        trusted._list = headers
        self._status_code = code
        self._status = status
        self.response = [data]
        return self

    def __repr__(self) -> str:
        size = f"{sum(map(len, self.response))} bytes" if self.is_sequence else "streamed"
        return f"<{type(self).__name__} {size} [{self.status}]>"

    # -- status ------------------------------------------------------------
    # Read by every adapter: getters in C (``attrgetter``), no Python frame per read.
    if TYPE_CHECKING:

        @property
        def status_code(self) -> int:
            """The status as an int, e.g. 404."""

        @status_code.setter
        def status_code(self, code: int) -> None: ...

        @property
        def status(self) -> str:
            """The status line, e.g. ``"404 NOT FOUND"``; settable as int or string."""

        @status.setter
        def status(self, value: int | str) -> None: ...

    else:
        status_code = property(
            attrgetter("_status_code"), _set_status_code, doc="The status as an int, e.g. 404."
        )
        status = property(
            attrgetter("_status"),
            _set_status,
            doc='The status line, e.g. ``"404 NOT FOUND"``; settable as int or string.',
        )

    # -- content type --------------------------------------------------------
    content_type = _header_property("Content-Type", "The Content-Type header.")

    @property
    def mimetype(self) -> str | None:
        """The Content-Type without parameters; setting it adds the charset for text."""
        value = self.content_type
        return value.split(";", 1)[0].strip().lower() if value else None

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers.set("Content-Type", get_content_type(value, self.charset))

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The Content-Type parameters."""
        from kettle.http.request import split_mimetype

        return split_mimetype(self.content_type or "")[1]

    @property
    def location(self) -> str | None:
        """The Location header."""
        return self.headers.get("location")

    @location.setter
    def location(self, value: str) -> None:
        self.headers.set("Location", value)

    # -- body ----------------------------------------------------------------
    @property
    def is_sequence(self) -> bool:
        """True when the body is a list or tuple (not streamed)."""
        return isinstance(self.response, list | tuple)

    @property
    def is_streamed(self) -> bool:
        """True when the body is an iterable of unknown length."""
        return not self.is_sequence

    def set_data(self, value: bytes | str | bytearray) -> None:
        """Set the body to ``value`` (str is UTF-8 encoded) and its Content-Length."""
        value = value.encode(self.charset) if isinstance(value, str) else bytes(value)
        self.response = [value]
        if not self.direct_passthrough:
            length = length_value(len(value))
            items = self.headers._list
            for index, (name, _) in enumerate(items):
                if name.lower() == "content-length":
                    items[index] = ("Content-Length", length)
                    return
            items.append(("Content-Length", length))

    def _ensure_sequence(self) -> None:
        if not self.is_sequence:
            self.response = [
                chunk.encode(self.charset) if isinstance(chunk, str) else chunk
                for chunk in self.response
            ]

    def get_data(self, as_text: bool = False) -> Any:
        """Return the body as bytes (consuming a streamed body), or text with ``as_text``."""
        self._ensure_sequence()
        data = b"".join(self.iter_encoded())
        return data.decode(self.charset, "replace") if as_text else data

    @property
    def data(self) -> bytes:
        """The body as bytes; setting it replaces the body."""
        return self.get_data()  # type: ignore[no-any-return]

    @data.setter
    def data(self, value: bytes | str) -> None:
        self.set_data(value)

    def iter_encoded(self) -> Iterator[bytes]:
        """The body as bytes chunks (str chunks are encoded), from the body it has now.

        ``self.response`` is read when this is called, not when the iterator is first
        advanced, as Werkzeug's: ``response.response = wrap(response.iter_encoded())``
        (Flask-Compress streams so) wraps the old body, not itself.
        """
        return _encoded(self.response, self.charset)

    @property
    def content_length(self) -> int | None:
        """The Content-Length header as an int, if set."""
        value = self.headers.get("content-length")
        return ascii_int(value) if value is not None else None

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is None:
            self.headers.remove("content-length")
        else:
            self.headers.set("Content-Length", str(value))

    def calculate_content_length(self) -> int | None:
        """Return the body length when it is a sequence, else None."""
        if not self.is_sequence:
            return None
        return sum(len(chunk) for chunk in self.iter_encoded())

    def call_on_close(self, func: Any) -> Any:
        """Register ``func`` to run when the body has been sent."""
        if self._on_close is None:
            self._on_close = []
            self.has_close_callbacks = True
        self._on_close.append(func)
        return func

    def close(self) -> None:
        """Close the body iterable and run the ``call_on_close`` functions."""
        close = getattr(self.response, "close", None)
        if close is not None:
            close()
        for func in self._on_close or ():
            func()

    # -- cookies -----------------------------------------------------------
    @property
    def max_cookie_size(self) -> int:
        """The Set-Cookie size past which a warning is given (browsers drop bigger ones)."""
        return 4093

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: timedelta | int | None = None,
        expires: str | datetime | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a Set-Cookie header (Werkzeug's format; unsafe values are quoted)."""
        self.headers.add(
            "Set-Cookie",
            dump_cookie(
                key,
                value,
                max_age=max_age,
                expires=expires,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                max_size=self.max_cookie_size,
                samesite=samesite,
                partitioned=partitioned,
            ),
        )

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Expire cookie ``key`` in the browser (same path and domain as when set)."""
        self.set_cookie(
            key,
            expires=0,
            max_age=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    # -- structured headers ------------------------------------------------
    @property
    def vary(self) -> HeaderSet:
        """The Vary header as a set: ``response.vary.add("Cookie")``."""
        return HeaderSet(self.headers, "Vary")

    @property
    def allow(self) -> HeaderSet:
        """The Allow header as a set of methods."""
        return HeaderSet(self.headers, "Allow")

    @property
    def cache_control(self) -> CacheControl:
        """Cache-Control directives: ``response.cache_control.max_age = 60``."""
        return CacheControl(self.headers)

    def _date_header(self, name: str) -> datetime | None:
        return parse_date(self.headers.get(name))

    def _set_date_header(self, name: str, value: datetime | float | str | None) -> None:
        if value is None:
            self.headers.remove(name)
        else:
            self.headers.set(name, value if isinstance(value, str) else http_date(value))

    last_modified = property(
        lambda self: self._date_header("last-modified"),
        lambda self, value: self._set_date_header("Last-Modified", value),
        doc="The Last-Modified header as a datetime; set a datetime or timestamp.",
    )
    expires = property(
        lambda self: self._date_header("expires"),
        lambda self, value: self._set_date_header("Expires", value),
        doc="The Expires header as a datetime; set a datetime or timestamp.",
    )
    date = property(
        lambda self: self._date_header("date"),
        lambda self, value: self._set_date_header("Date", value),
        doc="The Date header as a datetime.",
    )

    accept_ranges = _header_property("Accept-Ranges", "The Accept-Ranges header.")

    # -- entity tags and conditional requests --------------------------------
    def get_etag(self) -> tuple[str | None, bool]:
        """Return ``(etag, is_weak)`` from the ETag header."""
        return unquote_etag(self.headers.get("etag"))

    def set_etag(self, etag: str, weak: bool = False) -> None:
        """Set the ETag header (quoted)."""
        self.headers.set("ETag", quote_etag(etag, weak))

    def add_etag(self, overwrite: bool = False, weak: bool = False) -> None:
        """Set an ETag from a hash of the body, unless one is set (or ``overwrite``)."""
        if overwrite or "etag" not in self.headers:
            self.set_etag(hashlib.sha1(self.get_data(), usedforsecurity=False).hexdigest(), weak)

    def make_conditional(
        self,
        request: Request,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> Response:
        """Answer a GET/HEAD conditionally: 304/412 from the validators, 206/416 for Range.

        Takes the request. Follows Werkzeug: If-None-Match wins over
        If-Modified-Since, If-Range guards the Range, a Range that cannot be
        served raises 416 with ``Content-Range: bytes */length``.
        """
        headers = getattr(request, "headers", None)
        if headers is None:
            raise TypeError("make_conditional() needs a request.")
        get = headers.get
        if (getattr(request, "method", None) or "GET") not in ("GET", "HEAD"):
            return self
        if "date" not in self.headers:
            self.headers.set("Date", http_date())
        partial = self._process_range(get, accept_ranges, complete_length)
        if not partial and not self._is_modified(get, ignore_if_range=True):
            self.status_code = 412 if get("If-Match") else 304
            # The body is not sent: release the file now rather than at garbage collection.
            self.headers.remove("content-length")
            self._close_body()
            self.response = []
        return self

    def _is_modified(self, get: Any, ignore_if_range: bool = False) -> bool:
        etag, _ = self.get_etag()
        last_modified = self.last_modified
        if not ignore_if_range and get("Range"):
            if_range = get("If-Range")
            if if_range:
                return not parse_if_range(if_range).matches(etag, last_modified)
        unmodified = False
        since = parse_date(get("If-Modified-Since"))
        if (
            since is not None
            and last_modified is not None
            and last_modified.replace(microsecond=0) <= since
        ):
            unmodified = True
        if etag is not None:
            # A header that is present counts even when none of its members can be
            # read: no listed tag matches (RFC 9110 13.1.1 / 13.1.2).
            none_match = get("If-None-Match")
            if none_match:
                unmodified = parse_etags(none_match).contains_weak(etag)
            if_match = get("If-Match")
            if if_match:
                unmodified = not parse_etags(if_match).contains(etag)
        return not unmodified

    def _process_range(self, get: Any, accept_ranges: bool | str, length: int | None) -> bool:
        if not accept_ranges or not length:
            return False
        self.headers.set("Accept-Ranges", "bytes" if accept_ranges is True else accept_ranges)
        header = get("Range")
        if not header or (get("If-Range") and self._is_modified(get)):
            return False
        parsed = parse_range(header)
        if parsed is not None and parsed.units != "bytes":
            return False  # RFC 9110 14.2: "MUST ignore a range unit it does not understand"
        span = None if parsed is None else parsed.range_for_length(length)
        if span is None:
            # Malformed, unsatisfiable, or several ranges (not served, as Werkzeug): 416.
            self._close_body()
            raise RequestedRangeNotSatisfiable(length=length)
        start, stop = span
        if (start, stop) == (0, length):
            return False
        self.status_code = 206
        self.headers.set("Content-Length", str(stop - start))
        self.headers.set("Content-Range", f"bytes {start}-{stop - 1}/{length}")
        set_range = getattr(self.response, "set_range", None)
        if set_range is not None:
            set_range(start, stop - start)
        else:
            self.response = [self.get_data()[start:stop]]
        return True

    def _close_body(self) -> None:
        close = getattr(self.response, "close", None)
        if close is not None:
            close()

    @property
    def is_json(self) -> bool:
        """True when the mimetype is ``application/json`` or ``application/*+json``."""
        mt = self.mimetype or ""
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    @property
    def json(self) -> Any:
        """The body parsed as JSON when the mimetype is JSON, else None."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """Parse the body as JSON (None when not JSON and not ``force``)."""
        mt = self.mimetype or ""
        if not force and not (mt == "application/json" or mt.endswith("+json")):
            return None
        try:
            return _json.loads(self.get_data())
        except ValueError:
            if silent:
                return None
            raise
