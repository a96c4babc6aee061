"""The request, built from plain values: no environ, no scope, no I/O.

Theory of operation: an adapter extracts a handful of plain values (method,
path, scheme, server, query bytes, Host header, remote address, a file-like
body) and a zero-argument callable that builds the Headers on demand. Every
other attribute is computed the first time it is read and then cached, so a
request that only needs its path costs one small object.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import FunctionType
from typing import IO, Any
from urllib.parse import quote

from kettle.http import _request_params as _params
from kettle.http._layout import settle_layout
from kettle.http._lazy import cached_property, store
from kettle.http._request_json import JSONBody
from kettle.http._request_params import Form, default_form_hooks
from kettle.http.accept import CharsetAccept, LanguageAccept, MIMEAccept
from kettle.http.auth import Authorization
from kettle.http.cookies import parse_cookie
from kettle.http.datastructures import CombinedMultiDict, ImmutableMultiDict
from kettle.http.dates import parse_date
from kettle.http.exceptions import ClientDisconnected
from kettle.http.files import FileStorage
from kettle.http.formparser import FormDataParser
from kettle.http.headers import Headers
from kettle.http.headervalues import join_content_length
from kettle.http.headervalues import parse_content_length as parse_content_length
from kettle.http.headervalues import split_mimetype as split_mimetype
from kettle.http.hosts import checked_hosts, normalize_host, server_host
from kettle.http.hosts import host_is_trusted as host_is_trusted
from kettle.http.preconditions import (
    ETags,
    IfRange,
    Range,
    parse_etags,
    parse_if_range,
    parse_range,
)
from kettle.http.stream import (
    CHUNK_SIZE,
    SHORT_BODY,
    BoundedStream,
    BytesIO,
    bound_stream,
    check_length,
    read_raw,
)
from kettle.http.urls import query_multidict
from kettle.http.useragent import UserAgent

_URL_SAFE = "!$&'()*+,/:;=@%"
_QUERY_SAFE = ":&%=+$!*'(),/?;@"
_URLENCODED = "application/x-www-form-urlencoded"
_FORM_MIMETYPES = frozenset({_URLENCODED, "multipart/form-data"})
_FUNCTION = FunctionType
#: ``type.__subclasscheck__``: the real MRO's answer in one specialized C call.
_is_subclass = type.__subclasscheck__
#: The methods servers send: one set lookup instead of ``str.isupper`` (a scan).
_UPPER_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})

#: ``checked_hosts.get``, bound once: on 3.11 ``module.name.get(...)`` makes a bound
#: method per call (the cache is only ever changed in place).
_checked_host_of = checked_hosts.get

#: ``Request._checked_host`` before the Host was checked.
_UNCHECKED: Any = object()
#: What a C twin of ``Request.__init__`` is given (``kettle.adapters._builders``).
INIT_CONSTANTS = (_UPPER_METHODS, checked_hosts, _UNCHECKED)
#: What ``stream`` holds once a form read the body whole: it reads empty (an empty BytesIO
#: made only if ``stream`` is read, which few views do after a form).
_READ_WHOLE: Any = object()


class Request(JSONBody):
    """An HTTP request: URL, method, headers and body, parsed lazily."""

    #: The class of ``args`` and ``form``.
    parameter_storage_class: type[ImmutableMultiDict[str, Any]] = ImmutableMultiDict
    #: Body limit in bytes; past it reading the body is a 413 (None: no limit).
    max_content_length: int | None = None
    #: Limit for each non-file form field (the whole body when urlencoded).
    max_form_memory_size: int | None = None
    #: Limit on multipart parts and urlencoded fields.
    max_form_parts: int | None = None
    #: The class that parses form bodies.
    form_data_parser_class: type[FormDataParser] = FormDataParser

    # Defaults of the fields below: a request that has the default stores nothing.
    scheme = "http"
    root_path = ""
    query_string = b""
    remote_addr: str | None = None
    #: True when ``stream`` belongs to this request (``close()`` closes it), False when
    #: the server owns it (a WSGI server's ``wsgi.input``).
    owns_stream = False
    _server: tuple[str, int | None] | None = None
    _stream: IO[bytes] | None = None
    _input_terminated = True
    #: True once ``_load_form_data`` ran (``files`` may hold files to close).
    _form_loaded = False
    #: True while the class keeps this ``__init__``: an adapter may then pass the fields by
    #: position (keyword matching is a measurable part of a small request's cost).
    fields_by_position = True
    #: True while, besides this ``__init__``, the class keeps ``object.__new__`` and a
    #: plain metaclass: an adapter may then make the request as ``type.__call__`` does,
    #: ``object.__new__`` then this ``__init__`` called directly (the class call
    #: cost about 400 instructions more on 3.11; see docs/performance.md).
    init_directly = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The objects the class resolves, not its own names: a mixin's ``__init__`` counts.
        cls.fields_by_position = cls.__init__ is _REQUEST_INIT
        cls.init_directly = (
            cls.fields_by_position
            and cls.__new__ is object.__new__
            and type(cls).__call__ is type.__call__
        )
        if cls.__dict__.get("_keeps_form_hooks"):  # Its own form hooks keep their meaning.
            _params.KEPT_FORM_HOOKS.insert(0, _params.form_hooks(cls))
        settle_layout(cls)  # (Before any instance: see ``_layout``.)

    def __init__(
        self,
        method: str,
        path: str,
        scheme: str = "http",
        server: tuple[str, int | None] | None = None,
        root_path: str = "",
        query_string: bytes = b"",
        host_header: str | None = None,
        headers: Headers | Callable[[], Headers] | None = None,
        remote_addr: str | None = None,
        stream: IO[bytes] | None = None,
        input_terminated: bool = True,
        owns_stream: bool = False,
    ) -> None:
        """Build the request from plain values (pass all but ``method`` and ``path`` by keyword).

        An adapter may pass them by position, in this order, when the request
        class keeps this ``__init__`` (``fields_by_position``). ``headers``: Headers,
        a callable that builds them on first read, or None (``_build_headers``).
        """
        self.method = method if method in _UPPER_METHODS else method.upper()
        # Indexes, not slices (``path[1:2]`` builds a slice object: it cost twice ``path[1]``
        # with ``len``; ``str.startswith`` parses a tuple of arguments, dearer still).
        self.path = (
            path
            if path and path[0] == "/" and (len(path) == 1 or path[1] != "/")
            else "/" + path.lstrip("/")
        )
        # A field at its default (a class attribute) is not stored: most are, most of the time.
        if scheme != "http":
            self.scheme = scheme
        if server is not None:
            self._server = server
        if root_path:
            self.root_path = root_path.rstrip("/")
        if query_string:
            self.query_string = query_string
        self._host_header = host_header
        self._form_loaded = False  # Stored: ``close`` reads it (a class attribute reads slower).
        # A Host seen before is checked here by one lookup (the common case), and
        # ``host_is_valid`` stored (no call where it is read); any other Host is
        # parsed when first read (``_check_host``).
        checked = _UNCHECKED
        if host_header:
            checked = _checked_host_of((host_header, scheme), _UNCHECKED)
        self._checked_host: str | None = checked
        if checked is not _UNCHECKED:
            self.host_is_valid = checked is not None
        if headers is not None:  # None: made on first read (``_build_headers``).
            if headers.__class__ is not _FUNCTION and isinstance(headers, Headers):
                self.__dict__["headers"] = headers
            else:  # A factory (an adapter's function: tested first, without isinstance).
                self._headers_factory = headers
        if remote_addr is not None:
            self.remote_addr = remote_addr
        self._stream = stream  # Stored even when None: ``close`` reads it (as ``owns_stream``).
        if not input_terminated:
            self._input_terminated = input_terminated
        self.owns_stream = owns_stream  # (Stored, as ``_form_loaded``.)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url!r} [{self.method}]>"

    _headers_factory: Callable[[], Headers] | None = None
    #: True when the class reads its headers (``_build_headers``) and ``remote_addr`` from
    #: what the request keeps (``kettle.wrappers``: the environ or the scope): an adapter
    #: then passes neither.
    reads_kept_source = False

    @cached_property
    def headers(self) -> Headers:
        """The request headers (built on first access)."""
        factory = self._headers_factory
        return factory() if factory is not None else self._build_headers()

    def _build_headers(self) -> Headers:
        """The headers of a request built without them (empty here)."""
        return Headers()

    @property
    def server(self) -> tuple[str, int | None] | None:
        """The address the server listens on, ``(host, port)``, or None if unknown.

        As Werkzeug's. An adapter may fill it in lazily (``kettle.wrappers.Request``
        reads a WSGI environ's ``SERVER_NAME`` / ``SERVER_PORT`` on first use).
        """
        return self._server

    @server.setter
    def server(self, value: tuple[str, int | None] | None) -> None:
        self._server = value

    def _check_host(self) -> str | None:
        """The Host validated and normalised; None when it is outside the host grammar.

        Cached in ``_checked_host`` (a plain attribute: read on every request by the
        pipeline's host check, where a cached_property's Python-level ``__get__`` shows).
        """
        host = self._host_header
        checked: str | None = None
        if host is None:
            hosts = self.headers.getlist("host")
            # RFC 9112 3.2: more than one Host field is a 400 (checked stays None).
            host = hosts[0] if len(hosts) == 1 else "" if not hosts else None
        if host == "":
            checked = server_host(self.server, self.scheme)
        elif host is not None:
            checked = normalize_host(host, self.scheme)
        self._checked_host = checked
        return checked

    @cached_property
    def host_is_valid(self) -> bool:
        """False when the Host header is outside the host grammar (the app answers 400).

        Stored by ``__init__`` when the Host was seen before (the common case).
        """
        checked = self._checked_host
        if checked is _UNCHECKED:
            checked = self._check_host()
        return checked is not None

    @property
    def host(self) -> str:
        """The host and port the client asked for, lower-cased, default ports dropped.

        Parsed by the host grammar first: a Host such as ``good.test:@evil.test``
        gives ``""`` here (and the app answers 400 before any view runs), so
        a URL is never built from it.
        """
        checked = self._checked_host
        if checked is _UNCHECKED:
            checked = self._check_host()
        return checked or ""

    @property
    def full_path(self) -> str:
        """The path and query string, e.g. ``/buy?name=apple`` (``/buy?`` with no query)."""
        return f"{self.path}?{self.query_string.decode('latin-1')}"

    @property
    def host_url(self) -> str:
        """Scheme and host only, e.g. ``http://127.0.0.1:5000/``."""
        return f"{self.scheme}://{self.host}/"

    @property
    def root_url(self) -> str:
        """Scheme, host and application root, with a trailing slash."""
        return f"{self.scheme}://{self.host}{quote(self.root_path, safe=_URL_SAFE)}/"

    url_root = root_url

    @property
    def base_url(self) -> str:
        """The URL without the query string."""
        return f"{self.scheme}://{self.host}{quote(self.root_path + self.path, safe=_URL_SAFE)}"

    @property
    def url(self) -> str:
        """The full URL, query string included when there is one."""
        if not self.query_string:
            return self.base_url
        query = quote(self.query_string.decode("latin-1"), safe=_QUERY_SAFE)
        return f"{self.base_url}?{query}"

    @property
    def is_secure(self) -> bool:
        """True for https and wss."""
        return self.scheme in ("https", "wss")

    args = _params.args_descriptor()

    # -- headers -----------------------------------------------------------
    @property
    def cookie_header(self) -> str | None:
        """The raw Cookie header, several fields joined by ``"; "`` (RFC 9113 8.2.3), or None."""
        fields = self.headers.getlist("cookie")
        return fields[0] if len(fields) == 1 else "; ".join(fields) if fields else None

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """The cookies sent by the client (every Cookie field: HTTP/2 may send several)."""
        return parse_cookie(self.cookie_header)

    @cached_property
    def user_agent(self) -> UserAgent:
        """The User-Agent header as an object with ``.string``."""
        return UserAgent(self.headers.get("user-agent", ""))

    @property
    def referrer(self) -> str | None:
        """The Referer header, if sent."""
        return self.headers.get("referer")

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, as sent."""
        return self.headers.get("content-type")

    @cached_property
    def _parsed_content_type(self) -> tuple[str, dict[str, str]]:
        return split_mimetype(self.content_type or "")

    @property
    def mimetype(self) -> str:
        """The Content-Type without parameters, lower-cased (``""`` when absent)."""
        return self._parsed_content_type[0]

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The Content-Type parameters, e.g. ``{"charset": "utf-8"}``."""
        return self._parsed_content_type[1]

    @cached_property
    def content_length(self) -> int | None:
        """The Content-Length as an int, or None when absent or invalid."""
        return parse_content_length(join_content_length(self.headers.getlist("content-length")))

    @property
    def content_encoding(self) -> str | None:
        """The Content-Encoding header, if sent."""
        return self.headers.get("content-encoding")

    @cached_property
    def accept_mimetypes(self) -> MIMEAccept:
        """The Accept header: ``best_match``, ``quality``, ``in``."""
        return MIMEAccept.parse(self.headers.get("accept"))

    @cached_property
    def accept_languages(self) -> LanguageAccept:
        """The Accept-Language header."""
        return LanguageAccept.parse(self.headers.get("accept-language"))

    @cached_property
    def accept_charsets(self) -> CharsetAccept:
        """The Accept-Charset header."""
        return CharsetAccept.parse(self.headers.get("accept-charset"))

    @cached_property
    def accept_encodings(self) -> CharsetAccept:
        """The Accept-Encoding header."""
        return CharsetAccept.parse(self.headers.get("accept-encoding"))

    @cached_property
    def authorization(self) -> Authorization | None:
        """The Authorization header: ``.type``, ``.username``/``.password`` or ``.token``."""
        return Authorization.from_header(self.headers.get("authorization"))

    @cached_property
    def if_match(self) -> ETags:
        """The If-Match ETags."""
        return parse_etags(self.headers.get("if-match"))

    @cached_property
    def if_none_match(self) -> ETags:
        """The If-None-Match ETags."""
        return parse_etags(self.headers.get("if-none-match"))

    @cached_property
    def if_modified_since(self) -> datetime | None:
        """If-Modified-Since as an aware UTC datetime (None when absent or invalid)."""
        return parse_date(self.headers.get("if-modified-since"))

    @cached_property
    def if_unmodified_since(self) -> datetime | None:
        """If-Unmodified-Since as an aware UTC datetime."""
        return parse_date(self.headers.get("if-unmodified-since"))

    @cached_property
    def date(self) -> datetime | None:
        """The Date header as an aware UTC datetime."""
        return parse_date(self.headers.get("date"))

    @cached_property
    def range(self) -> Range | None:
        """The Range header (None when absent or malformed)."""
        return parse_range(self.headers.get("range"))

    @cached_property
    def if_range(self) -> IfRange:
        """The If-Range header: ``.etag`` or ``.date`` (both None when absent or malformed)."""
        return parse_if_range(self.headers.get("if-range"))

    @cached_property
    def access_route(self) -> list[str]:
        """X-Forwarded-For addresses, else the remote address (client input: not trusted)."""
        forwarded = self.headers.get("x-forwarded-for")
        if forwarded:
            return [ip.strip() for ip in forwarded.split(",") if ip.strip()]
        return [self.remote_addr] if self.remote_addr else []

    @property
    def origin(self) -> str | None:
        """The Origin header, if sent."""
        return self.headers.get("origin")

    @property
    def pragma(self) -> str | None:
        """The Pragma header, if sent."""
        return self.headers.get("pragma")

    # -- body ---------------------------------------------------------------
    @property
    def stream(self) -> IO[bytes]:
        """The body, bounded by Content-Length and max_content_length.

        Wrapped on first access (a GET pays nothing): reading past the limit is a 413, a
        body shorter than its Content-Length a 400. After form parsing it is empty.
        """
        bounded: IO[bytes] | None = self.__dict__.get("_bounded")
        if bounded is None:
            bounded = bound_stream(
                self._stream, self.content_length, self.max_content_length, self._input_terminated
            )
            self.__dict__["_bounded"] = bounded
        elif bounded is _READ_WHOLE:  # The form read the body whole: empty from now on.
            bounded = self.__dict__["_bounded"] = BytesIO()
        return bounded

    @stream.setter
    def stream(self, value: IO[bytes]) -> None:
        self.__dict__["_bounded"] = value

    @property
    def input_stream(self) -> IO[bytes] | None:
        """The raw body stream of the server, without limits (use ``stream``): empty, not
        None, without a body (an ASGI GET), as ``wsgi.input`` is."""
        if self._stream is None:
            self._stream = BytesIO()
        return self._stream

    def set_body(self, stream: IO[bytes] | None) -> None:
        """Give the request its raw body once received (for adapters; before ``stream`` is read)."""
        self._stream = stream

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> Any:
        """Return the body as bytes (or text with ``as_text``), read once and cached.

        With ``parse_form_data`` a form body is parsed first and this returns
        ``b""`` for it, as Werkzeug does.
        """
        data = self._cached_data
        if data is None:
            if parse_form_data:
                self._load_form_data()
            data = self.stream.read()
            if cache:
                store(self, "_cached_data", data)
        if as_text:
            return data.decode("utf-8", "replace")
        return data

    @property
    def data(self) -> bytes:
        """The body as bytes (``b""`` for form bodies, which go to ``form``)."""
        return self.get_data(parse_form_data=True)  # type: ignore[no-any-return]

    def make_form_data_parser(self) -> FormDataParser:
        """Return the form parser configured with this request's limits."""
        return self.form_data_parser_class(
            max_form_memory_size=self.max_form_memory_size, max_form_parts=self.max_form_parts
        )

    def _config(self, key: str) -> Any:
        """No app here: None (an app's request reads its config; see ``_form_limits``)."""
        return None

    def _form_limits(self) -> tuple[int | None, int | None, int | None]:
        """``max_content_length``, ``max_form_memory_size`` and ``max_form_parts`` in one call."""
        return self.max_content_length, self.max_form_memory_size, self.max_form_parts

    def _load_form_data(self) -> None:
        self._form_loaded = True  # ``close`` then looks for files to close.
        cached = self.__dict__
        if "form" in cached:
            if "files" not in cached:  # ``form`` read a short urlencoded body directly.
                cached["files"] = ImmutableMultiDict()
            return
        mimetype = self.mimetype
        form: ImmutableMultiDict[str, str] | None = None
        files: ImmutableMultiDict[str, FileStorage] | None = None
        if mimetype in _FORM_MIMETYPES and "_cached_data" not in cached:
            length = self.content_length
            if mimetype == _URLENCODED and default_form_hooks(self):
                form = self._short_urlencoded_form(length)
            if form is None:
                form, files = self.make_form_data_parser().parse(
                    self.stream, mimetype, length, self.mimetype_params
                )
        cached["form"] = ImmutableMultiDict() if form is None else form
        cached["files"] = ImmutableMultiDict() if files is None else files

    def _short_urlencoded_form(self, length: int | None) -> ImmutableMultiDict[str, str] | None:
        """A short urlencoded body read in one call, decoded and stored as ``form``, or None.

        The parser reads such a body whole anyway: with a Content-Length of at
        most ``CHUNK_SIZE`` it is one read, without a parser object and without
        the ``LimitedStream`` wrapper, under the same rules (413 past
        ``max_content_length``, 400 when fewer bytes come than announced), and
        ``request.stream`` then reads empty, as it does after the parser
        consumed it. Default form hooks only. None for a body without a length
        or longer, in an adapter's own bounded stream, or after ``stream`` or
        ``get_data()`` was read.
        """
        cached = self.__dict__
        stream = self._stream
        if (
            length is None
            or length > CHUNK_SIZE
            or stream is None
            or "_bounded" in cached
            or "_cached_data" in cached
            # ``type.__subclasscheck__``, not ``isinstance``: against an ``io`` class that goes
            # through the Python-level ``ABCMeta.__instancecheck__`` (nothing registers virtual
            # subclasses); reading ``__mro__`` was a generic attribute read (about 250).
            or _is_subclass(BoundedStream, type(stream))
        ):
            return None
        max_content_length, max_memory, max_parts = self._form_limits()
        if max_content_length is not None:  # Without a limit there is nothing to check.
            check_length(length, max_content_length)
        # An ASGI body is a BytesIO, whose ``read`` raises no OSError: its ``read`` read on the
        # class (specialized; on the instance it is generic) without ``read_raw``'s frame.
        data = BytesIO.read(stream, length) if type(stream) is BytesIO else read_raw(stream, length)
        while len(data) < length:  # A raw stream may return fewer bytes than asked.
            more = read_raw(stream, length - len(data))
            if not more:
                raise ClientDisconnected(SHORT_BODY)
            data += more
        cached["_bounded"] = _READ_WHOLE  # ``stream`` makes its empty BytesIO if read.
        # Stored as ``cached_property`` stores (``STORE_ATTR`` of a name with a descriptor is
        # generic on 3.11, as reading ``type(self).__setattr__``: about 550 instructions).
        form = cached["form"] = query_multidict(data, max_parts, max_memory)
        return form

    form = Form()

    def _urlencoded_length(self) -> int | None:
        """The Content-Length of a body whose Content-Type is exactly urlencoded, else None."""
        return self.content_length if self.content_type == _URLENCODED else None

    @cached_property
    def files(self) -> ImmutableMultiDict[str, FileStorage]:
        """The uploaded files of a multipart body, as FileStorage objects."""
        self._load_form_data()
        return self.__dict__["files"]  # type: ignore[no-any-return]

    @cached_property
    def values(self) -> CombinedMultiDict[str, str]:
        """``args`` and ``form`` together; only ``args`` for GET (as Werkzeug 2.3+)."""
        if self.method == "GET":
            return CombinedMultiDict([self.args])
        return CombinedMultiDict([self.args, self.form])

    def close(self) -> None:
        """Close uploaded files (their temporary files) and a body stream the request owns."""
        if self._form_loaded:  # Most requests never parse a form: their ``__dict__`` (made
            files = self.__dict__.get("files")  # when first read, and costly) is not read.
            if files:
                for _, storage in files.items(multi=True):
                    storage.close()
        if self.owns_stream and self._stream is not None:
            self._stream.close()


_REQUEST_INIT = Request.__init__
_params.KEPT_FORM_HOOKS.append(_params.form_hooks(Request))
settle_layout(Request)
