"""THE lifecycle, written once: HTTP requests and WebSocket handshakes side by side.

Theory of operation: an adapter turns the server's input into a request and
a ``RequestContext`` and hands the context here. Both lifecycles share every
step that they have in common:

- ``match`` (``kettle.request_match``): host validation, TRUSTED_HOSTS,
  subdomains, strict-slash redirects, the before_body checks (the ASGI
  adapter calls it before it receives the body);
- the hooks: URL value preprocessors and ``before_request`` for both,
  ``before_websocket`` / ``after_websocket`` for a WebSocket (as Quart orders
  them), ``after_request`` and the session save for HTTP;
- ``teardown`` (``kettle.teardown``): the teardown functions, then the request
  is closed (its uploaded files, a spooled body), the context popped;
  ``RequestContext.pop`` runs the same function;
- the answer to an unhandled error (``unhandled_error_response``: the debug
  page, or the error goes on to the server) and the background tasks.

The HTTP lifecycle is one coroutine (``run``). User code is called through
the context's runner (``kettle.runner``): under WSGI nothing suspends and the
coroutine is driven without an event loop; under ASGI it is awaited on the
loop for an async view, or driven in a worker thread for a sync one. A step
with nothing to await (``finish``, ``end_request``) is a plain function.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from itertools import chain
from typing import TYPE_CHECKING, Any

from kettle import _loops
from kettle.error_handling import (
    call_handler,
    find_error_handler,
    handle_user_exception,
    replaced,
    user_exception,
)
from kettle.http.exceptions import Forbidden, HTTPException, InternalServerError
from kettle.http.response import own_headers
from kettle.lifecycle_plan import match_is_unobserved, unobserved_routing_answer, view_is_first
from kettle.request_match import match as match
from kettle.request_match import subdomain_of as subdomain_of
from kettle.runner import (
    COROUTINE,
    IN_THREAD,
    NEVER_AWAITABLE,
    ON_LOOP,
    Runner,
    is_awaitable,
    view_runs_on_loop,
)
from kettle.signals import (
    got_request_exception,
    request_finished,
    request_started,
)
from kettle.teardown import close_request, teardown
from kettle.websocket import WebSocket, WebSocketDisconnect, check_origin
from kettle.wrappers import Response

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.ctx import RequestContext, Task
    from kettle.routing import Rule
    from kettle.wrappers import Request


# -- the adapters' entry points ------------------------------------------------
def respond_sync(app: Kettle, ctx: RequestContext) -> Response:
    """Answer an HTTP request in this thread, without an event loop (WSGI).

    The background tasks run when the server closes the response body.
    """
    if not app._got_first_request:
        first_request_sync(app, ctx)
    request = ctx.request
    if request.url_rule is None and request.routing_exception is None and match_is_unobserved(app):
        try:  # Before the push, as under ASGI: nothing can tell the difference.
            match(app, ctx)
        except Exception:  # ``run`` matches again, in the context, and answers the error.
            request.routing_exception = None
    if request.routing_exception is not None:
        answer = unobserved_routing_answer(app, ctx)
        if answer is not None:
            return answer
    try:
        if request.url_rule is not None and request.routing_exception is None:
            response = run_plain(app, ctx)  # (Matched before the push.)
        else:
            response = _loops.drive(run(app, ctx))
    except Exception as e:
        response = unhandled_error_response(app, ctx.request, e)
    if ctx.background_tasks is None and response.response.__class__ is list:
        return response  # No task, and none can be added later (the body is not streamed).
    tasks = background_tasks_of(ctx, response)
    if tasks is not None:

        def run_tasks() -> None:
            if tasks:
                _loops.drive(run_background_tasks(app, tasks, IN_THREAD))

        response.call_on_close(run_tasks)
    return response


def background_tasks_of(ctx: RequestContext, response: Response) -> list[Task] | None:
    """The request's background tasks, run after its response is sent.

    For a streamed body the list is made now, even when empty: the body may
    still add tasks (``stream_with_context`` pushes this context again) after
    the adapter has let go of the context, and they land in this list.
    """
    tasks = ctx.background_tasks
    if tasks is None and response.response.__class__ is not list:
        tasks = ctx.background_tasks = []
    return tasks


async def respond_async(
    app: Kettle, ctx: RequestContext, offload: Callable[[Callable[[], Any]], Any]
) -> Response:
    """Answer an HTTP request on the loop (ASGI): an async view there, a sync one in ``offload``.

    The adapter has called ``match`` and received the body already.
    """
    request = ctx.request
    try:
        if not app._got_first_request:
            await first_request_async(app, ctx)
        if request.routing_exception is not None:  # (Matched by the adapter.)
            answer = unobserved_routing_answer(app, ctx)
            if answer is not None:
                return answer
        elif request.url_rule is None:
            match(app, ctx)  # (The ASGI adapter matches before it receives the body.)
        if view_runs_on_loop(app, request.url_rule):
            ctx.runner = ON_LOOP
            return await run(app, ctx)
        # A sync view holds one worker thread for the whole pipeline; awaitables its
        # hooks return are handed back to this loop.
        ctx.runner = Runner(asyncio.get_running_loop())
        response: Response = await offload(lambda: _loops.drive(run(app, ctx)))
        return response
    except Exception as e:
        return unhandled_error_response(app, request, e)


def unhandled_error_response(app: Kettle, request: Request, error: Exception) -> Response:
    """Answer an error that escaped the pipeline: the debug page, or re-raise it.

    The page is opt-in (``use_debugger`` in debug mode, not when testing);
    otherwise the error goes to the server or the test client, as Flask's.
    """
    if not (app.debug and app.use_debugger) or app.testing:
        raise error
    from kettle.debug import debug_response

    return debug_response(app, request, error)


async def run_background_tasks(app: Kettle, tasks: list[Task], runner: Runner) -> None:
    """Run the tasks after the response is sent, in an app context; a failure is logged."""
    with app.app_context():
        for func, args, kwargs in tasks:
            try:
                await runner.call(func, *args, **kwargs)
            except Exception:
                app.logger.exception("Background task %r failed", func)


def first_request_sync(app: Kettle, ctx: RequestContext) -> None:
    """Run the before_first_request functions once, from sync code."""
    with app._first_request_lock:
        if app._got_first_request:
            return
        ctx._enter_quietly()
        try:
            for func in app.before_first_request_funcs:
                ctx.runner.call_sync(func)
        finally:
            ctx._leave_quietly()
        app._got_first_request = True


async def first_request_async(app: Kettle, ctx: RequestContext) -> None:
    """Run the before_first_request functions once, on the loop."""
    if app._first_request_alock is None:
        app._first_request_alock = asyncio.Lock()
    async with app._first_request_alock:
        if app._got_first_request:
            return
        ctx._enter_quietly()
        try:
            for func in app.before_first_request_funcs:
                await ON_LOOP.call(func)
        finally:
            ctx._leave_quietly()
        app._got_first_request = True


# -- THE HTTP lifecycle --------------------------------------------------------
async def run(app: Kettle, ctx: RequestContext) -> Response:
    """Push, dispatch, finalize, tear down: the whole life of one request."""
    ctx.push()
    error: BaseException | None = None
    try:
        try:
            request = ctx.request
            if request.url_rule is None and request.routing_exception is None:
                match(app, ctx)
            return await full_dispatch(app, ctx)
        except Exception as e:
            error = e
            return await answer_exception(app, ctx, e)
    except BaseException as e:
        error = e
        raise
    finally:
        pending = close_request(app, ctx, error)
        if pending is not None:
            await pending


def run_plain(app: Kettle, ctx: RequestContext) -> Response:
    """``run`` as plain calls, for a request matched before the push (WSGI: ``respond_sync``).

    The steps are ``run``'s, in its order, each condition tested where it
    tests it. Once the context is pushed, when the view is the request's
    first user code (``lifecycle_plan.view_is_first``: no request_started
    receiver, URL value preprocessor or before_request function),
    ``full_dispatch`` is written out as plain calls too; otherwise it is
    driven as it is. A step that may call async user code (an error
    handler, the after-request and teardown functions) is the same
    coroutine, driven here; an awaitable the view returns is run to the end
    by the context's runner, as ``full_dispatch`` does off the loop.
    """
    ctx.push()
    error: BaseException | None = None
    try:
        try:
            if not view_is_first(app):
                dispatched: Response = _loops.drive(full_dispatch(app, ctx))
                return dispatched
            try:
                rv = call_view(app, ctx)
                if rv.__class__ not in NEVER_AWAITABLE and is_awaitable(rv):
                    rv = ctx.runner.run(rv)
            except Exception as e:
                rv = _loops.drive(user_exception(app, ctx, e))
            value = finalize_value(app, ctx, rv)
            done: Response = _loops.drive(value) if value.__class__ is COROUTINE else value
            return done
        except Exception as e:
            error = e
            answer: Response = _loops.drive(answer_exception(app, ctx, e))
            return answer
    except BaseException as e:
        error = e
        raise
    finally:
        pending = close_request(app, ctx, error)
        if pending is not None:
            _loops.drive(pending)


async def answer_exception(app: Kettle, ctx: RequestContext, e: Exception) -> Response:
    """Answer an error that escaped dispatch: ``app.handle_exception`` if replaced, else ours."""
    if replaced(app, "handle_exception"):
        rv = app.handle_exception(e)
        if is_awaitable(rv):
            rv = await ctx.runner.wait(rv)
        if isinstance(rv, Response):
            return rv
        return await finalize(app, ctx, rv, from_error_handler=True)
    return await handle_exception(app, ctx, e)


async def full_dispatch(app: Kettle, ctx: RequestContext) -> Response:
    """request_started, before_request hooks, the view, error handlers, finalize."""
    if request_started.receivers:
        request_started.send(app, _async_wrapper=app.ensure_sync)
    unhandled: HTTPException | None = None
    try:
        rv = None
        if app.url_value_preprocessors or app.before_request_funcs:
            rv = await preprocess(app, ctx)
        if rv is None:
            unhandled = ctx.request.routing_exception
            # A routing error goes through dispatch when handlers or debug checks apply.
            if unhandled is None or app.error_handler_spec or app.debug:
                unhandled = None
                rv = call_view(app, ctx)  # ``dispatch`` without a coroutine for a plain value:
                cls = rv.__class__
                if cls is COROUTINE or (cls not in NEVER_AWAITABLE and is_awaitable(rv)):
                    runner = ctx.runner  # ``runner.wait`` written out (an async view is hot).
                    rv = await rv if runner.on_loop else runner.run(rv)
    except Exception as e:
        rv = await user_exception(app, ctx, e)
    if unhandled is not None:
        # A routing error (404, 405) with no handler registered anywhere: answered
        # without raising it, the most common error path. The error is the answer
        # (what handle_user_exception returns without handlers) unless it is trapped
        # or handle_user_exception was replaced.
        if replaced(app, "handle_user_exception") or app.trap_http_exception(unhandled):
            rv = await user_exception(app, ctx, unhandled)
        else:
            rv = unhandled
    value = finalize_value(app, ctx, rv)
    done: Response = await value if value.__class__ is COROUTINE else value
    return done


def finalize_value(app: Kettle, ctx: RequestContext, rv: Any) -> Any:
    """``finalize``: the Response when no hook is there to await, else the coroutine to await.

    As there, the hooks are looked for after make_response (user code: it may
    call after_this_request). ``full_dispatch`` awaits the coroutine, ``run_plain``
    drives it.
    """
    response = app.make_response(rv)
    if ctx._after_functions or app.after_request_funcs:
        return finalize_response(app, ctx, response)
    return finish(app, ctx, response)


async def preprocess(app: Kettle, ctx: RequestContext) -> Any:
    """The URL value preprocessors, then the before_request functions; a non-None return wins."""
    request = ctx.request
    runner = ctx.runner
    names = (None, *reversed(request.blueprints))
    for name in names:
        for func in app.url_value_preprocessors.get(name, ()):
            rv = func(request.endpoint, request.view_args)
            if is_awaitable(rv):
                await runner.wait(rv)
    for name in names:
        for func in app.before_request_funcs.get(name, ()):
            rv = func()
            if is_awaitable(rv):
                rv = await runner.wait(rv)
            if rv is not None:
                return rv
    return None


async def dispatch(app: Kettle, ctx: RequestContext) -> Any:
    """Call the view (a routing error is raised) and return its value, awaited if need be."""
    rv = call_view(app, ctx)
    if is_awaitable(rv):
        rv = await ctx.runner.wait(rv)
    return rv


def call_view(app: Kettle, ctx: RequestContext) -> Any:
    """Call the view (a routing error is raised) and return what it returned (maybe awaitable)."""
    request = ctx.request
    if request.routing_exception is not None:
        app.raise_routing_exception(request)
    rule: Rule = request.url_rule  # type: ignore[assignment]
    if request.method == "OPTIONS" and rule.provide_automatic_options:
        return app.make_default_options_response(ctx)
    return app.view_functions[rule.endpoint](**request.view_args)  # type: ignore[arg-type]


def default_options_response(app: Kettle, request: Request) -> Response:
    """The automatic OPTIONS response: empty, with the ``Allow`` header of the URL."""
    methods = app.url_map.allowed_methods(
        request.path, host=request.host, subdomain=subdomain_of(app, request)
    )
    response = app.response_class()
    response.headers.set("Allow", ", ".join(sorted(methods)))
    return response


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
    ``save_session`` has nothing to do.
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
    session = ctx.session_to_save()
    if session is not None and not app.session_interface.is_null_session(session):
        app.session_interface.save_session(app, session, response)


# -- the answer to an error (the handlers: kettle.error_handling) ---------
async def handle_exception(app: Kettle, ctx: RequestContext, e: Exception) -> Response:
    """Turn an unhandled error into a 500 (or re-raise it in testing and debug)."""
    if got_request_exception.receivers:
        got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=e)
    propagate = app.config["PROPAGATE_EXCEPTIONS"]
    if propagate is None:
        propagate = app.testing or app.debug
    if propagate:
        raise e
    app.log_exception((type(e), e, e.__traceback__))
    server_error = InternalServerError(original_exception=e)
    handler = find_error_handler(app, server_error, ctx.request.blueprints)
    rv: Any = server_error
    if handler is not None:
        rv = await call_handler(ctx, handler, server_error)
    return await finalize(app, ctx, rv, from_error_handler=True)


# -- THE WebSocket lifecycle, beside the HTTP one -----------------------------
async def run_websocket(app: Kettle, ctx: RequestContext) -> None:
    """Run one WebSocket connection through the same match, checks, hooks and teardown.

    In order: the match (TRUSTED_HOSTS, subdomains, strict slashes, as for
    HTTP), the Origin check (WEBSOCKET_ALLOWED_ORIGINS), the URL value
    preprocessors, ``before_request`` then ``before_websocket`` functions
    (a non-None return refuses the handshake with that response), the
    handler, the ``after_websocket`` functions, the teardown functions.
    No ``after_request`` function runs and the session is not saved: a
    WebSocket has no HTTP response to carry a cookie. Everything runs on
    the loop. A refusal before accept goes through ``WebSocket.refuse``.
    """
    ws = ctx.websocket
    if ws is None:
        raise TypeError("run_websocket() needs a context whose 'websocket' is set.")
    ctx.runner = ON_LOOP
    if not app._got_first_request:
        await first_request_async(app, ctx)
    ctx.push()
    error: BaseException | None = None
    try:
        refusal = await _websocket_refusal(app, ctx, ws)
        if refusal is not None:
            await ws.refuse(app.make_response(refusal))
            return
        # The handler, then the after_websocket functions (it returned normally),
        # inline: an idle connection's chain of waiting frames is one shorter.
        request = ctx.request
        rule: Rule = request.url_rule  # type: ignore[assignment]
        await ON_LOOP.call(app.view_functions[rule.endpoint], **request.view_args)  # type: ignore[arg-type]
        for func in app.after_websocket_funcs:
            await ON_LOOP.call(func)
    except WebSocketDisconnect:
        pass  # The peer left: a normal end.
    except Exception as e:
        error = await _websocket_error(app, ctx, ws, e)
    except BaseException as e:
        error = e
        raise
    finally:
        if not ws.closed:
            await ws.close(1000)
        await teardown(app, ctx, error)


async def _websocket_error(
    app: Kettle, ctx: RequestContext, ws: WebSocket, e: Exception
) -> Exception | None:
    """Answer an error of a connection; return it when teardown should see it."""
    if isinstance(e, HTTPException) and not ws.accepted:
        await ws.refuse(e.get_response())  # abort() before accept: its status.
        return None
    if not isinstance(e, HTTPException):
        app.logger.error("Exception on WebSocket %s", ctx.request.path, exc_info=e)
    if not ws.accepted:
        await ws.refuse(InternalServerError().get_response())
    elif not ws.closed:
        await ws.close(1011)  # Too late for a status: the socket is open.
    return e


async def _websocket_refusal(app: Kettle, ctx: RequestContext, ws: WebSocket) -> Any:
    """Match and check a handshake; return what refuses it, or None to go on."""
    match(app, ctx)
    request = ctx.request
    if request.routing_exception is not None:
        return await handle_user_exception(app, ctx, request.routing_exception)
    if not check_origin(app.config["WEBSOCKET_ALLOWED_ORIGINS"], ws):
        return Forbidden("The WebSocket handshake's Origin is not allowed.")
    try:
        if app.url_value_preprocessors or app.before_request_funcs:
            rv = await preprocess(app, ctx)
            if rv is not None:
                return rv
        for func in app.before_websocket_funcs:
            rv = await ON_LOOP.call(func)
            if rv is not None:
                return rv
    except HTTPException as e:  # abort(401) in a hook refuses as it answers HTTP.
        return await handle_user_exception(app, ctx, e)
    return None
