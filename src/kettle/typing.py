"""Type aliases for the protocols Kettle speaks and for what views return.

The WSGI names follow PEP 3333, the ASGI names the ASGI 3 specification;
``ResponseReturnValue`` and its parts are the values a view may return, as
``flask.typing`` names them. Annotations only: nothing here runs per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from kettle.http.headers import Headers
    from kettle.wrappers import Response

# -- WSGI (PEP 3333) -------------------------------------------------------
#: The WSGI environ: CGI-style keys plus ``wsgi.*`` ones.
WSGIEnvironment: TypeAlias = dict[str, Any]
#: ``exc_info`` as passed to ``start_response``.
ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]
#: The server's ``start_response(status, headers, exc_info=None)``; returns ``write``.
StartResponse: TypeAlias = Callable[..., Callable[[bytes], object]]
#: A WSGI application: ``app(environ, start_response)`` returns the body's bytes.
WSGIApplication: TypeAlias = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]

# -- ASGI 3 -----------------------------------------------------------------
#: The connection scope (``type`` is "http", "websocket" or "lifespan").
Scope: TypeAlias = dict[str, Any]
#: One event received from or sent to the server.
Message: TypeAlias = dict[str, Any]
#: Await the next event from the server.
Receive: TypeAlias = Callable[[], Awaitable[Message]]
#: Send one event to the server.
Send: TypeAlias = Callable[[Message], Awaitable[None]]
#: An ASGI 3 application.
ASGIApplication: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

# -- What a view returns (as flask.typing) -------------------------------------
#: A response body a view may return.
ResponseValue: TypeAlias = (
    "Response | str | bytes | list[Any] | Mapping[str, Any]"
    " | Iterable[str] | Iterable[bytes] | AsyncIterable[str] | AsyncIterable[bytes]"
)
#: One header value.
HeaderValue: TypeAlias = str | list[str] | tuple[str, ...]
#: Headers a view may return beside its body.
HeadersValue: TypeAlias = "Headers | Mapping[str, HeaderValue] | Sequence[tuple[str, HeaderValue]]"
#: Everything a view may return: a body, optionally with a status and/or headers.
ResponseReturnValue: TypeAlias = (
    "ResponseValue | tuple[ResponseValue, HeadersValue]"
    " | tuple[ResponseValue, int] | tuple[ResponseValue, int, HeadersValue]"
    " | WSGIApplication"
)
#: A view function (sync or async).
RouteCallable: TypeAlias = Callable[..., "ResponseReturnValue | Awaitable[ResponseReturnValue]"]
