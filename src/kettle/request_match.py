"""The first step of the lifecycle: match a request against the app's rules.

``match`` validates the Host (and TRUSTED_HOSTS), finds the subdomain when
routing depends on it, matches the URL map, turns a strict-slash redirect
or a WebSocket mismatch into the routing error, and runs the before_body
checks. The pipeline (``kettle.pipeline``) calls it for HTTP and WebSocket
alike; the ASGI adapter calls it before it receives the body. No user code
runs in it but the before_body functions and custom converters: with
``unobserved``, a match in which user code would run is left undone (for
``dispatch_value`` to make, in the context).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kettle.http.exceptions import BadHost, HTTPException, SecurityError
from kettle.http.request import host_is_trusted
from kettle.routing.exceptions import (
    RequestRedirect,
    RoutingException,
    WebsocketMismatch,
)
from kettle.routing.map import no_match_error
from kettle.routing.matching import match_redirect, request_subdomain
from kettle.websocket import WebSocketUpgradeRequired, note_websocket_under_wsgi

#: The routing errors ``_redirect_or_mismatch`` makes the kept error of (one tuple, made once).
_REDIRECT_OR_MISMATCH = (RequestRedirect, WebsocketMismatch)

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.ctx import RequestContext
    from kettle.routing import Rule
    from kettle.wrappers import Request


def match(app: Kettle, ctx: RequestContext, unobserved: bool = False) -> None:
    """Match the request (once): set ``url_rule`` and ``view_args`` or ``routing_exception``.

    With ``unobserved`` (the WSGI side, before the push), only when no user
    code runs in the match: no before_body function, only Kettle's own
    converters (the registries read on every call). Else nothing is done.
    """
    request = ctx.request
    url_map = app.url_map
    if (
        request.url_rule is not None
        or request.routing_exception is not None
        or (unobserved and (app.before_body_funcs or not url_map.only_builtin_converters))
    ):
        return
    trusted = app.config["TRUSTED_HOSTS"]
    if (trusted or not request.host_is_valid) and _host_refused(request, trusted):
        return
    # The host is read only when routing depends on it (see match_redirect).
    rule: Rule | None = None
    resolve = None
    if url_map.host_matching or app.subdomain_matching:
        host = request.host
        subdomain = subdomain_of(app, request)
    else:
        host = ""
        subdomain = url_map.default_subdomain or ""
        if not subdomain and ctx.websocket is None:
            # A static path's plain rule, the common answer, without a call: ``Map.match``
            # gives the same rule and an empty ``view_args`` (see ``Map.plain_static``).
            path = request.path
            by_method = url_map.plain_static.get(path)
            if by_method is not None:
                rule = by_method.get(request.method)
            else:
                # Another path: the matcher itself when ``Map.match`` would only pass
                # its answer on (see ``Map.plain_resolve``), one frame fewer.
                resolve = url_map.plain_resolve
    args: dict[str, Any]
    if rule is not None:
        args = {}
    else:
        try:  # (A converter's error is kept as the routing error, as ``Map.match``'s.)
            found: Any = None
            if resolve is not None:
                try:
                    found = resolve(path, request.method)
                except RoutingException:
                    pass  # A redirect: ``Map.match`` below writes its URL.
            if found.__class__ is tuple:  # The matcher's answer, the common case first.
                rule, args = found
            elif found is None:
                # By position (keywords cost the call more): scheme, script_name and query_string
                # at their defaults: only a redirect reads them (``_redirect_or_mismatch``).
                websocket = ctx.websocket is not None
                rule, args = url_map.match(
                    request.path, request.method, host, "http", "", "", subdomain, websocket
                )
            else:
                raise no_match_error(found)
        except _REDIRECT_OR_MISMATCH as e:
            websocket = ctx.websocket is not None
            request.routing_exception = _redirect_or_mismatch(app, request, e, subdomain, websocket)
            return
        except HTTPException as e:
            # Each routing error is kept without its traceback: that holds this frame, whose
            # locals hold the request, a cycle only the garbage collector would free (27
            # objects per 404). Raised again in dispatch, it gets a traceback from there.
            request.routing_exception = e.with_traceback(None)
            return
    request.url_rule = rule
    request.view_args = args
    if app.before_body_funcs:
        _check_before_body(app, request)


def _host_refused(request: Request, trusted: Any) -> bool:
    """Keep the routing error of an invalid or (under ``TRUSTED_HOSTS``) untrusted Host."""
    if not request.host_is_valid:
        request.routing_exception = BadHost("The Host header is not a valid host.")
        return True
    if trusted and not host_is_trusted(request.host, trusted):
        # As Flask 3.1: a 400 raised where routing errors are, so no view runs.
        host = request.host
        request.routing_exception = SecurityError(f"Host {host!r} is not trusted.")
        return True
    return False


def _redirect_or_mismatch(
    app: Kettle,
    request: Request,
    error: RequestRedirect | WebsocketMismatch,
    subdomain: str | None,
    websocket: bool,
) -> HTTPException:
    """The routing error to keep for a redirect or a protocol mismatch (without traceback)."""
    if isinstance(error, WebsocketMismatch):
        # HTTP to a WebSocket route: 426; a handshake to an HTTP route: 400.
        if websocket:
            return error.with_traceback(None)
        note_websocket_under_wsgi(app, request)
        return WebSocketUpgradeRequired()
    try:  # The redirect is kept if the second match cannot say more.
        match_redirect(
            app.url_map,
            request.path,
            request.method,
            host=request.host,
            scheme=request.scheme,
            script_name=request.root_path,
            query_string=request.query_string.decode("latin-1"),
            subdomain=subdomain,
            websocket=websocket,
        )
    except HTTPException as e:
        return e.with_traceback(None)
    return error.with_traceback(None)


def subdomain_of(app: Kettle, request: Request) -> str | None:
    """The subdomain the app's rules are matched and built against for ``request``."""
    return request_subdomain(
        app.url_map,
        request.host,
        server_name=app.config["SERVER_NAME"],
        secure=request.is_secure,
        subdomain_matching=app.subdomain_matching,
    )


def _check_before_body(app: Kettle, request: Request) -> None:
    """Run the before_body functions; the first refusal becomes the routing error."""
    for func in app.before_body_funcs:
        try:
            func(request)
        except HTTPException as e:
            request.routing_exception = e.with_traceback(None)  # (As in ``match``.)
            return
