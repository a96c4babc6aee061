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

The HTTP lifecycle is the plain lane of ``respond_sync``: plain calls from
the push to the pop when no step has user code to await; a step that has
(``dispatch_value`` when a hook runs before the view, an error handler, an
after-request or teardown function) is a coroutine it drives. ``respond_async`` spells the
same steps in its own frame for a view on the loop and awaits what
``respond_sync`` drives. User code is called
through the context's runner (``kettle.runner``): under WSGI nothing
suspends and a coroutine is driven without an event loop; under ASGI it is
awaited on the loop for an async view, or driven in a worker thread for a
sync one. The finalize steps live in ``kettle.finalize``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from functools import partial as _partial
from typing import TYPE_CHECKING, Any

from kettle import _loops
from kettle.error_handling import (
    call_handler,
    find_error_handler,
    handle_user_exception,
    replaced,
    user_exception,
)
from kettle.finalize import finalize as finalize
from kettle.finalize import finalize_response, finish
from kettle.finalize import process_response as process_response
from kettle.http.exceptions import Forbidden, HTTPException, InternalServerError
from kettle.lifecycle_plan import Unrouted, unobserved_routing_answer
from kettle.request_match import match as match
from kettle.request_match import subdomain_of as subdomain_of
from kettle.runner import (
    COROUTINE,
    IN_THREAD,
    NEVER_AWAITABLE,
    ON_LOOP,
    Offload,
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
def respond_sync(
    app: Kettle, ctx: RequestContext, unrouted: Unrouted | None = None, in_worker: bool = False
) -> Response:
    """Answer an HTTP request in this thread: its whole life as plain calls.

    The WSGI side calls it, without an event loop: before the push it runs the
    before_first_request functions once, matches when no user code runs in a match
    (``request_match.match``'s ``unobserved``), and answers a 404 or 405 that nothing
    else observes (``unobserved_routing_answer``, told ``unrouted``); an error that
    escapes becomes the debug page or goes on to the server (``unhandled_error_response``); the
    background tasks run when the server closes the response body.
    ``respond_async`` calls it in the worker pool for a ``def`` view
    (``in_worker``): it has made those steps before and makes these after.

    The lifecycle (the plain lane): push the context; a request whose view is
    its first user code (``call_view`` with ``first``, which reads the
    registries after the push: an ``appcontext_pushed`` receiver may add a
    hook) calls the view here; any other (a hook or receiver before the view,
    a routing error) runs ``dispatch_value`` (which matches first when
    nothing has). Then ``view_returned`` or, for an error, ``view_raised`` /
    ``dispatch_raised`` carry on: each returns the response when no step had
    user code to await, else the coroutine that does the rest
    (``conclude``), driven here. The checks are made where the coroutine
    lifecycle made them, so what the view or a later hook registers is seen
    by this request. An awaitable the view returns is run to the end by the
    context's runner. ``respond_async`` spells the same steps in its own
    frame for a view on the loop, awaiting what this runs.
    """
    request = ctx.request
    if not in_worker:
        if not app._got_first_request:
            first_request_sync(app, ctx)
        # Before the push, as under ASGI, when no user code runs in a match (``unobserved``):
        # nothing can tell the difference (matched once). Else ``dispatch_value`` matches.
        try:
            match(app, ctx, True)
        except Exception:  # ``dispatch_value`` matches again, in the context, and answers.
            request.routing_exception = None
        if request.routing_exception is not None:
            answer = unobserved_routing_answer(app, ctx, unrouted)
            if answer is not None:
                return answer
    done: Any  # The response, or the coroutine that finishes it.
    try:
        ctx.push()
        try:
            rv = call_view(app, ctx, True)  # (HOOKS_FIRST: not called, see ``call_view``.)
            if rv.__class__ not in NEVER_AWAITABLE and is_awaitable(rv):
                rv = ctx.runner.run(rv)
        except BaseException as e:
            done = view_raised(app, ctx, e)
        else:
            if rv is HOOKS_FIRST:
                try:
                    rv = _loops.drive(dispatch_value(app, ctx))
                except BaseException as e:
                    done = dispatch_raised(app, ctx, e)
                else:
                    done = view_returned(app, ctx, rv)
            else:
                done = view_returned(app, ctx, rv)
        response: Response = _loops.drive(done) if done.__class__ is COROUTINE else done
    except Exception as e:  # (In the worker pool: re-raised or the debug page, as there.)
        response = unhandled_error_response(app, request, e)
    if in_worker or (ctx.background_tasks is None and response.response.__class__ is list):
        return response  # No task, and none can be added later (the body is not streamed).
    return _run_tasks_on_close(app, ctx, response)


def _run_tasks_on_close(app: Kettle, ctx: RequestContext, response: Response) -> Response:
    """Have the request's background tasks run in this thread when ``response`` is closed.

    The closure is made here, not in ``respond_sync``: there it would make
    cells for its variables on every request, tasks or not.
    """
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
    app: Kettle, ctx: RequestContext, offload: Offload, unrouted: Unrouted | None = None
) -> Response:
    """Answer an HTTP request on the loop (ASGI): an async view there, a sync one in ``offload``.

    The adapter has called ``match`` and received the body already (``unrouted``: as above).
    """
    request = ctx.request
    try:
        if not app._got_first_request:
            await first_request_async(app, ctx)
        if request.routing_exception is not None:  # (Matched by the adapter.)
            answer = unobserved_routing_answer(app, ctx, unrouted)
            if answer is not None:
                return answer
        elif request.url_rule is None:
            match(app, ctx)  # (The ASGI adapter matches before it receives the body.)
        rule = request.url_rule
        # An ``async def`` view seen before (``view_runs_on_loop``'s memo): no call.
        if (rule is None or app._async_views.get(rule.endpoint) is not True) and (
            not view_runs_on_loop(app, rule)
        ):
            # A sync view holds one worker thread for the whole pipeline; awaitables its
            # hooks return are handed back to this loop.
            ctx.runner = Runner(asyncio.get_running_loop())
            # A partial, not a lambda: a closure would make cells for ``app`` and ``ctx``
            # on every request, an ``async def`` view's too.
            response: Response = await offload(_partial(respond_sync, app, ctx, None, True))
            return response
        ctx.runner = ON_LOOP
        # ``respond_sync``'s lane from this frame, the view awaited where that calls it: no
        # coroutine of the pipeline's own between the adapter and an ``async def`` view.
        done: Any
        ctx.push()
        try:
            rv = call_view(app, ctx, True)  # (HOOKS_FIRST: not called, see below.)
            cls = rv.__class__
            if cls is COROUTINE or (cls not in NEVER_AWAITABLE and is_awaitable(rv)):
                rv = await rv
        except BaseException as e:
            done = view_raised(app, ctx, e)
        else:
            if rv is HOOKS_FIRST:
                try:
                    rv = await dispatch_value(app, ctx)
                except BaseException as e:
                    done = dispatch_raised(app, ctx, e)
                else:
                    done = view_returned(app, ctx, rv)
            else:
                done = view_returned(app, ctx, rv)
        answered: Response = await done if done.__class__ is COROUTINE else done
        return answered
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


# -- THE HTTP lifecycle (``respond_sync`` runs it as plain calls) ---------------
def view_returned(app: Kettle, ctx: RequestContext, rv: Any) -> Any:
    """After the view (or ``dispatch_value``) returned ``rv``: finalize, end the request.

    ``finalize`` as plain calls: the response is made, then, with no
    after-request function to call (looked for after ``make_response``,
    user code that may call ``after_this_request``), the session is saved
    and ``request_finished`` sent (``finish``), and the request ended. Returns
    the response, or the coroutine that finishes (after-request functions,
    an error in finalize to answer, a teardown function to await).
    """
    try:
        response = app.make_response(rv)
        if ctx._after_functions or app.after_request_funcs:
            return conclude(app, ctx, finalize_response(app, ctx, response))
        # ``finish`` has nothing to do without an opened session, a Cookie header (the
        # session's may be among them) or a ``request_finished`` receiver: no call then.
        # (A step added to ``finish`` must be added to this test.)
        if ctx._opened_session is not None or ctx.cookie_sent or request_finished.receivers:
            response = finish(app, ctx, response)
    except BaseException as e:
        return dispatch_raised(app, ctx, e)
    pending = close_request(app, ctx, None)
    return response if pending is None else _torn_down(pending, response)


async def view_raised(app: Kettle, ctx: RequestContext, error: BaseException) -> Response:
    """After the view raised ``error``: its handler (``user_exception``), then ``view_returned``.

    Anything but an ``Exception``, or an error no handler answers, goes on
    as one escaping dispatch (``dispatch_raised``).
    """
    try:
        if not isinstance(error, Exception):
            raise error
        rv = await user_exception(app, ctx, error)
    except BaseException as e:
        return await dispatch_raised(app, ctx, e)
    done = view_returned(app, ctx, rv)
    response: Response = await done if done.__class__ is COROUTINE else done
    return response


def dispatch_raised(
    app: Kettle, ctx: RequestContext, error: BaseException
) -> Coroutine[Any, Any, Response]:
    """The coroutine that answers an error escaping dispatch (``answer_exception``) and ends."""
    return conclude(app, ctx, _raising(error))


async def _raising(error: BaseException) -> Response:
    raise error


async def _torn_down(pending: Coroutine[Any, Any, None], response: Response) -> Response:
    await pending
    return response


async def conclude(
    app: Kettle, ctx: RequestContext, step: Coroutine[Any, Any, Response]
) -> Response:
    """Await ``step``, the rest of dispatch; answer an error escaping it; end the request.

    The error is answered by ``answer_exception``; the teardown sees the
    error that escaped (None when an error handler answered it).
    """
    error: BaseException | None = None
    try:
        try:
            return await step
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
    """``dispatch_value``, finalized (``app.full_dispatch_request``)."""
    return await finalize(app, ctx, await dispatch_value(app, ctx))


async def dispatch_value(app: Kettle, ctx: RequestContext) -> Any:
    """The match if none was made, request_started, the before_request hooks, the view,
    its error handlers: the value to finalize (``view_returned``)."""
    request = ctx.request
    if request.url_rule is None and request.routing_exception is None:
        match(app, ctx)
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
    return rv


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


#: What ``call_view(app, ctx, first=True)`` returns, without calling the view, when
#: the request meets user code before its view.
HOOKS_FIRST: Any = object()


def call_view(app: Kettle, ctx: RequestContext, first: bool = False) -> Any:
    """Call the view (a routing error is raised) and return what it returned (maybe awaitable).

    With ``first`` (the lanes, right after the push), the view is called only
    when it is the request's first user code: the request was matched without
    a routing error, and there is no ``request_started`` receiver, URL value
    preprocessor or ``before_request`` function (read here, after the push: an
    ``appcontext_pushed`` receiver may add one). Otherwise nothing is called
    and ``HOOKS_FIRST`` is returned: the lane runs ``dispatch_value``.
    """
    request = ctx.request
    if request.routing_exception is not None:
        if first:
            return HOOKS_FIRST
        app.raise_routing_exception(request)
    rule: Rule = request.url_rule  # type: ignore[assignment]  # (Set: matched, no error.)
    if first and (
        rule is None
        or request_started.receivers
        or app.url_value_preprocessors
        or app.before_request_funcs
    ):
        return HOOKS_FIRST
    if request.method == "OPTIONS" and rule.provide_automatic_options:
        return app.make_default_options_response(ctx)
    view = app.view_functions[rule.endpoint]
    args = request.view_args
    # A view without URL values (most) is called without the ``**`` unpacking.
    return view(**args) if args else view()


def default_options_response(app: Kettle, request: Request) -> Response:
    """The automatic OPTIONS response: empty, with the ``Allow`` header of the URL."""
    methods = app.url_map.allowed_methods(
        request.path, host=request.host, subdomain=subdomain_of(app, request)
    )
    response = app.response_class()
    response.headers.set("Allow", ", ".join(sorted(methods)))
    return response


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

    In order: the match (TRUSTED_HOSTS, subdomains, strict slashes, as for HTTP), the
    Origin check (WEBSOCKET_ALLOWED_ORIGINS), the URL value preprocessors,
    ``before_request`` then ``before_websocket`` functions (a non-None return refuses
    the handshake with that response, through ``WebSocket.refuse``), the handler, the
    ``after_websocket`` and teardown functions, on the loop (no session save, no HTTP).
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
        try:
            await teardown(app, ctx, error)
        finally:
            error = None  # Its traceback holds this frame: a cycle for the collector.


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
