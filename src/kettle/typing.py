"""Type aliases for the protocols Kettle speaks and for what views return.

The WSGI names follow PEP 3333, the ASGI names the ASGI 3 specification;
``ResponseReturnValue`` and its parts are the values a view may return, as
``flask.typing`` names them (compatibility mode's ``flask.typing`` is these
objects). Each alias is a runtime object, as Flask's are, so code that combines
them at import time (``ResponseReturnValue | None``) works; nothing here runs
per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias, Union

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
# Union, not "|": the forward references to Response and Headers keep each alias a runtime
# object that code may combine at import time, as flask.typing's.
#: A response body a view may return.
ResponseValue: TypeAlias = Union[
    "Response",
    str,
    bytes,
    list[Any],
    Mapping[str, Any],
    Iterable[str],
    Iterable[bytes],
    AsyncIterable[str],
    AsyncIterable[bytes],
]
#: A status a view may return beside its body.
StatusCode: TypeAlias = int
#: One header value.
HeaderValue: TypeAlias = str | list[str] | tuple[str, ...]
#: Headers a view may return beside its body.
HeadersValue: TypeAlias = Union[
    "Headers", Mapping[str, HeaderValue], Sequence[tuple[str, HeaderValue]]
]
#: Everything a view may return: a body, optionally with a status and/or headers.
ResponseReturnValue: TypeAlias = (
    ResponseValue
    | tuple[ResponseValue, HeadersValue]
    | tuple[ResponseValue, StatusCode]
    | tuple[ResponseValue, StatusCode, HeadersValue]
    | WSGIApplication
)
#: A response class (``app.response_class`` or a subclass).
ResponseClass: TypeAlias = type["Response"]
#: The key of app-or-blueprint registries: None for the app, else the blueprint's name.
AppOrBlueprintKey: TypeAlias = str | None

# -- What the app calls (sync or async; as flask.typing) ------------------------
#: A view function.
RouteCallable: TypeAlias = Callable[..., ResponseReturnValue | Awaitable[ResponseReturnValue]]
#: ``after_request``: takes the response, returns it (or another).
AfterRequestCallable: TypeAlias = Callable[[Any], Any]
#: ``before_first_request`` (deprecated in Flask, kept).
BeforeFirstRequestCallable: TypeAlias = Callable[[], object]
#: ``before_request``: returns None, or a response that ends the request.
BeforeRequestCallable: TypeAlias = Callable[[], ResponseReturnValue | Awaitable[Any] | None]
#: ``teardown_request`` / ``teardown_appcontext``: gets the error or None.
TeardownCallable: TypeAlias = Callable[[BaseException | None], object]
#: ``shell_context_processor``: names for ``kettle shell``.
ShellContextProcessorCallable: TypeAlias = Callable[[], dict[str, Any]]
#: ``context_processor``: names for every template.
TemplateContextProcessorCallable: TypeAlias = Callable[[], dict[str, Any]]
#: ``template_filter``.
TemplateFilterCallable: TypeAlias = Callable[..., Any]
#: ``template_global``.
TemplateGlobalCallable: TypeAlias = Callable[..., Any]
#: ``template_test``.
TemplateTestCallable: TypeAlias = Callable[..., bool]
#: ``url_defaults``: fills ``values`` for ``endpoint``.
URLDefaultCallable: TypeAlias = Callable[[str, dict[str, Any]], None]
#: ``url_value_preprocessor``: edits the matched ``values`` of ``endpoint``.
URLValuePreprocessorCallable: TypeAlias = Callable[[str | None, dict[str, Any] | None], None]
#: ``errorhandler``: takes the error, returns a response value.
ErrorHandlerCallable: TypeAlias = Callable[[Any], ResponseReturnValue | Awaitable[Any]]
