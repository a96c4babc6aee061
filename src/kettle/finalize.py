"""The end of dispatch: the response made, the after-request functions, the session saved.

``finalize`` is Flask's ``finalize_request``: ``make_response``, then the
``after_this_request`` and ``after_request`` functions (innermost blueprint
first), the session save and ``request_finished``. The pipeline's plain lane
(``pipeline.view_returned``) calls its steps as plain calls when no
after-request function is there to await.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import TYPE_CHECKING, Any

from kettle.http.response import own_headers
from kettle.runner import is_awaitable
from kettle.signals import request_finished

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.ctx import RequestContext
    from kettle.wrappers import Response


async def finalize(
    app: Kettle, ctx: RequestContext, rv: Any, from_error_handler: bool = False
) -> Response:
    """Make the response, run the after-request hooks, save the session, send request_finished."""
    return await finalize_response(app, ctx, app.make_response(rv), from_error_handler)


async def finalize_response(
    app: Kettle, ctx: RequestContext, response: Response, from_error_handler: bool = False
) -> Response:
    """``finalize`` once the response is made: the after-request hooks, then ``finish``."""
    if ctx._after_functions or app.after_request_funcs:
        try:
            response = await after_request(app, ctx, response)
        except Exception:
            if not from_error_handler:
                raise
            app.logger.exception(_FINALIZE_FAILED)
            return response
    return finish(app, ctx, response, from_error_handler)


_FINALIZE_FAILED = "Request finalizing failed with an error while handling an error"


def finish(
    app: Kettle, ctx: RequestContext, response: Response, from_error_handler: bool = False
) -> Response:
    """The end of ``finalize``: save the session, send request_finished.

    The session is saved only when it was opened or the request carries a
    cookie (the session's may be among them, to refresh): with neither,
    ``save_session`` has nothing to do. The plain lane (``pipeline.view_returned``)
    calls this only when one of them or a ``request_finished`` receiver is there:
    a step added here must be added to that test.
    """
    try:
        if ctx._opened_session is not None or (ctx.cookie_sent and ctx.request.cookie_header):
            save_session(app, ctx, response)
        if request_finished.receivers:
            request_finished.send(app, _async_wrapper=app.ensure_sync, response=response)
    except Exception:
        if not from_error_handler:
            raise
        app.logger.exception(_FINALIZE_FAILED)
    return response


async def process_response(app: Kettle, ctx: RequestContext, response: Response) -> Response:
    """The after_this_request and after_request functions, then the session save."""
    response = await after_request(app, ctx, response)
    save_session(app, ctx, response)
    return response


async def after_request(app: Kettle, ctx: RequestContext, response: Response) -> Response:
    """The after_this_request functions, then the after_request ones, innermost blueprint first."""
    funcs: Iterable[Callable[..., Any]] = ctx._after_functions or ()
    if app.after_request_funcs:
        request = ctx.request
        for name in chain(request.blueprints, (None,)):
            if name in app.after_request_funcs:
                funcs = chain(funcs, reversed(app.after_request_funcs[name]))
    runner = ctx.runner
    for func in funcs:
        rv = func(response)
        if is_awaitable(rv):
            rv = await runner.wait(rv)
        response = rv
        own_headers(response)  # A hook may have replaced them (Flask-Cors): Headers again.
    return response


def save_session(app: Kettle, ctx: RequestContext, response: Response) -> None:
    """Save the session on the response (the last step of ``process_response``)."""
    session = ctx._opened_session
    if session is None:  # not opened: one to refresh, or none
        session = ctx.session_to_save()
        if session is None:
            return
    interface = app.session_interface
    if not interface.is_null_session(session):
        interface.save_session(app, session, response)
