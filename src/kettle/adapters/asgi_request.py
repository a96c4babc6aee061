"""ASGI: a scope made into the request (``scope_request``), before any body is read.

The ASGI adapter (``kettle.adapters.asgi``) calls ``scope_request`` once per
request, through ``_scope_request``: the C builder of ``kettle.adapters._builders``
when it is built, the function itself otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from kettle._accelerators import accelerator
from kettle.http.headers import Headers
from kettle.http.request import INIT_CONSTANTS
from kettle.http.request import Request as _HTTPRequest

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.typing import Scope
    from kettle.wrappers import Request

_partial = functools.partial
_new = object.__new__
_init = _HTTPRequest.__init__


def headers_from_scope(scope: Scope) -> Headers:
    """Build Headers from the scope's byte pairs, names in Title-Case as under WSGI."""
    return Headers._trusted(
        [
            (name.decode("latin-1").title(), value.decode("latin-1"))
            for name, value in scope["headers"]
        ]
    )


# The request object speaks HTTP schemes; a websocket scope keeps the ws ones.
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


#: The headers ``scope_request`` reads; any other is passed over by one set lookup.
_SCANNED = frozenset({b"host", b"content-length", b"transfer-encoding", b"cookie", b"content-type"})


def _joined(
    length: str | None, cookie: str | None, more: list[tuple[bytes, str]]
) -> tuple[str | None, str | None]:
    """The Content-Length fields joined by ", ", the Cookie fields by "; " (RFC 9110 5.3,
    RFC 6265 5.4), the first of each given alone and the rest in ``more``: one join each."""
    lengths = [length, *(text for name, text in more if name == b"content-length")]
    cookies = [cookie, *(text for name, text in more if name == b"cookie")]
    return (
        ", ".join(lengths) if len(lengths) > 1 else length,  # type: ignore[arg-type]
        "; ".join(cookies) if len(cookies) > 1 else cookie,  # type: ignore[arg-type]
    )


def _scan_headers(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[str | None, str | None, bool, str | None, bytes | None]:
    """``scope_request``'s one pass over the headers: the Host (a NUL when repeated), the
    Content-Length and Cookie fields (joined when repeated), chunked or not, the first
    Content-Type. Repeated fields are gathered and joined once: linear in the headers."""
    host: str | None = None
    length: str | None = None
    chunked = False
    cookie: str | None = None
    kind: bytes | None = None
    more: list[tuple[bytes, str]] | None = None  # Repeated fields: joined once, below.
    for name, value in headers:
        if name not in _SCANNED:
            continue
        if name == b"host":
            host = "\x00" if host is not None else value.decode("latin-1")
        elif name == b"transfer-encoding":
            chunked = True
        elif name == b"content-type":  # The first, as ``request.content_type`` reads it.
            kind = value if kind is None else kind
        elif name == b"cookie" and cookie is None:
            cookie = value.decode("latin-1")
        elif name == b"content-length" and length is None:
            length = value.decode("latin-1")
        else:  # A Cookie or Content-Length field again.
            more = [] if more is None else more
            more.append((name, value.decode("latin-1")))
    if more is not None:
        length, cookie = _joined(length, cookie, more)
    return host, length, chunked, cookie, kind


def scope_request(
    app: Kettle, scope: Scope, method: str, path: str
) -> tuple[Request, str | None, bool, str | None]:
    """Translate an ASGI http or websocket scope into the app's request class (no body yet).

    ``method`` and ``path`` are the scope's, read by the caller.

    With it, what one pass over the scope's headers found besides the Host (the
    headers themselves are not built): the Content-Length field(s), joined when
    repeated (``parse_content_length`` reads them), whether the body is chunked,
    and the Cookie field(s), joined by ``"; "`` when repeated (None when none
    came), which the request keeps as ``scope_cookie_header`` when some came, as it
    keeps the first Content-Type as ``scope_content_type``. RFC 9112 3.2:
    more than one Host field is a 400, which a NUL in the host makes sure of.
    """
    host, length, chunked, cookie, kind = _scan_headers(scope["headers"])
    # ``scope.get(...)`` each time: a ``get`` bound once is an object made per request
    # (3.11), dearer than the lookups it saves.
    root_path = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    scheme: str = scope.get("scheme", "http")
    if scheme != "http":
        scheme = _HTTP_SCHEMES.get(scheme, scheme)
    query_string = scope.get("query_string", b"")
    request_class = app.request_class
    # A class that reads the scope it keeps (``reads_kept_source``, an app's request) is
    # given neither a headers factory (none is made per request) nor the client address;
    # it reads them, and ``request.server``, from the scope on first use.
    headers: Callable[[], Headers] | None = None
    remote_addr: str | None = None
    if not request_class.reads_kept_source:
        headers = _partial(headers_from_scope, scope)  # Built on first use.
        client = scope.get("client")
        remote_addr = client[0] if client else None
    # The body the adapter receives (in memory or spooled) is the request's to close.
    if request_class.init_directly:  # As ``request_class(...)`` does, without its cost.
        request = _new(request_class)
        _init(
            request, method, path or "/", scheme, None, root_path, query_string, host, headers,
            remote_addr, None, True, True,
        )  # fmt: skip
    elif request_class.fields_by_position:  # The same fields, without keyword matching.
        request = request_class(
            method, path or "/", scheme, None, root_path, query_string, host, headers,
            remote_addr, None, True, True,
        )  # fmt: skip
    else:
        request = request_class(
            method,
            path or "/",
            scheme=scheme,
            root_path=root_path,
            query_string=query_string,
            host_header=host,
            headers=headers,
            remote_addr=remote_addr,
            owns_stream=True,
        )
    request.scope = scope
    if cookie is not None:  # ``request.cookie_header`` without a second scan.
        request.scope_cookie_header = cookie
    if kind is not None:  # ``request.content_type`` (and a form's) without a second scan.
        request.scope_content_type = kind
    # Stored, not left to the class's defaults: the pipeline reads both several times
    # per request, and on Python 3.11 a class attribute read through the instance is
    # a generic lookup each time (see ``RequestContext.__init__``).
    request.url_rule = request.routing_exception = None
    return request, length, chunked, cookie


#: ``scope_request`` as ``__call__`` calls it: in C when built (``kettle.adapters._builders``).
_Builder = accelerator("kettle.adapters._builders", "Builder")
_factory = _partial(_partial, headers_from_scope)
_scope_request: Callable[..., tuple[Request, str | None, bool, str | None]] = (
    _Builder("asgi", scope_request, *INIT_CONSTANTS, _factory, _HTTP_SCHEMES)
    if _Builder
    else scope_request
)


def request_from_scope(app: Kettle, scope: Scope, method: str) -> Request:
    """Translate an ASGI http or websocket scope into the app's request class (no body yet)."""
    return scope_request(app, scope, method, scope["path"])[0]
