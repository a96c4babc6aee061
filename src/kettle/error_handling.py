"""How the lifecycle answers an error: the handler lookup and the user-exception rules.

``find_error_handler`` looks a handler up by code, then by class along the
error's MRO, innermost blueprint first, then the app. ``handle_user_exception``
is Flask's rule for an error a hook or the view raised: an HTTP error
without a handler is its own answer, anything else without one propagates
(to ``pipeline.handle_exception``, the 500). Werkzeug errors a ported app
raises are answered as Kettle's (``kettle.interop``). An app or extension
that replaces ``handle_user_exception`` / ``handle_exception`` (as
Flask-RESTful does) is called instead (``replaced``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kettle.http.exceptions import BadRequest, BadRequestKeyError, ClientDisconnected, HTTPException
from kettle.interop import as_kettle_exception
from kettle.routing import RequestRedirect
from kettle.runner import is_awaitable

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.ctx import RequestContext
    from kettle.wrappers import Request


def find_error_handler(
    app: Kettle, e: BaseException, blueprints: list[str]
) -> Callable[..., Any] | None:
    """The handler for ``e``: by code then by class, innermost blueprint first, then the app."""
    code = e.code if isinstance(e, HTTPException) else None
    spec = app.error_handler_spec
    if not spec:
        return None
    for c in (code, None) if code is not None else (None,):
        for name in (*blueprints, None):
            handler_map = spec.get(name, {}).get(c)
            if not handler_map:
                continue
            for cls in type(e).__mro__:
                handler = handler_map.get(cls)
                if handler is not None:
                    return handler
    return None


async def call_handler(ctx: RequestContext, handler: Callable[..., Any], e: BaseException) -> Any:
    rv = handler(e)
    if is_awaitable(rv):
        rv = await ctx.runner.wait(rv)
    return rv


def routing_error(app: Kettle, request: Request) -> Exception:
    """The error to raise for the request's routing error, as Flask's.

    In debug mode a 301/302 routing redirect of a request that may carry a
    form body becomes ``kettle.debughelpers.FormDataRoutingRedirect``: the
    browser would drop the body.
    """
    error = request.routing_exception
    if error is None:
        raise TypeError("The request has no routing error.")
    if (
        app.debug
        and isinstance(error, RequestRedirect)
        and error.code not in (307, 308)
        and request.method not in ("GET", "HEAD", "OPTIONS")
    ):
        from kettle.debughelpers import FormDataRoutingRedirect

        return FormDataRoutingRedirect(request)
    return error


def replaced(app: Kettle, name: str) -> bool:
    """True when the app's ``handle_exception``/``handle_user_exception`` was replaced.

    Checked on the error path only: Flask-RESTful assigns its wrapper to the instance.
    """
    if name in app.__dict__:
        return True
    original = _ORIGINALS.get(name)
    if original is None:
        from kettle.app import Kettle

        original = _ORIGINALS[name] = getattr(Kettle, name)
    return getattr(type(app), name) is not original


#: Kettle's own ``handle_exception`` / ``handle_user_exception``, looked up once.
_ORIGINALS: dict[str, Any] = {}


async def user_exception(app: Kettle, ctx: RequestContext, e: Exception) -> Any:
    """What the error's handler answers: ``app.handle_user_exception`` if replaced, else ours.

    Once answered (an error that escapes keeps it), the error's traceback is let go
    when it would make a reference cycle that keeps the request (and its body) for the
    cyclic collector, one per bad request a client sends: for a routing error, raised
    from the request that holds it (``routing_exception``), and for an HTTP error that
    is its own answer (no handler: the frames of its traceback hold it as ``rv``).
    """
    if replaced(app, "handle_user_exception"):
        rv = app.handle_user_exception(e)
        if is_awaitable(rv):
            rv = await ctx.runner.wait(rv)
    else:
        rv = await handle_user_exception(app, ctx, e)
    if rv is e:
        _let_go(e)
    elif e is ctx.request.routing_exception:
        e.__traceback__ = None
    return rv


def _let_go(error: BaseException) -> None:
    """Drop the tracebacks of ``error`` and of the errors it was raised from (a bounded chain)."""
    seen = 0
    while error is not None and seen < 16:
        error.__traceback__ = None
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
        seen += 1


async def handle_user_exception(app: Kettle, ctx: RequestContext, e: Exception) -> Any:
    """Answer an error raised by a hook or the view with its handler; re-raise when none."""
    request = ctx.request
    if not isinstance(e, HTTPException) and (kettle_e := as_kettle_exception(e)) is not None:
        # werkzeug.exceptions.NotFound and the like; a handler registered for a class
        # derived from one elsewhere (Flask-WTF's CSRFError) gets the error itself.
        own_handler = find_error_handler(app, e, request.blueprints)
        if own_handler is not None:
            return await call_handler(ctx, own_handler, e)
        e = kettle_e
    elif isinstance(e, ClientDisconnected):
        # Not the app's fault and not worth a traceback: one line per client.
        app.logger.info("Client disconnected during %s %s", request.method, request.path)
    if isinstance(e, BadRequestKeyError) and (app.debug or app.config["TRAP_BAD_REQUEST_ERRORS"]):
        e.show_exception = True
    if isinstance(e, HTTPException) and not app.trap_http_exception(e):
        if e.code is None or isinstance(e, RequestRedirect):
            return e
        handler = find_error_handler(app, e, request.blueprints)
        return e if handler is None else await call_handler(ctx, handler, e)
    handler = find_error_handler(app, e, request.blueprints)
    if handler is None:
        raise e
    return await call_handler(ctx, handler, e)


def traps_http_exception(app: Kettle, e: Exception) -> bool:
    """Whether an HTTP error should propagate like any other error (Flask's rules)."""
    if app.config["TRAP_HTTP_EXCEPTIONS"]:
        return True
    trap_bad_request = app.config["TRAP_BAD_REQUEST_ERRORS"]
    # The type first: ``app.debug`` is a property, read only for a BadRequestKeyError.
    if trap_bad_request is None and isinstance(e, BadRequestKeyError) and app.debug:
        return True
    if trap_bad_request:
        return isinstance(e, BadRequest)
    return False
