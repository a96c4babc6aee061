"""ONE teardown, for HTTP requests, WebSocket connections and ``RequestContext.pop``.

In order: the ``teardown_request`` functions (innermost blueprint first) and
``request_tearing_down``, the ``teardown_appcontext`` functions (last
registered first) and ``appcontext_tearing_down`` when the request context
is its own app context, then the request is closed (or kept, for the test
client's ``with client:`` and a ``stream_with_context`` body) and the
context popped, with ``appcontext_popped``. ``close_request`` does that
last step alone, in its own frame and without a coroutine, when no teardown
function or receiver is registered; ``teardown`` ends with it.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING, Any

from kettle.ctx import _cv_reset
from kettle.runner import Runner, is_awaitable
from kettle.signals import appcontext_popped, appcontext_tearing_down, request_tearing_down

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from kettle.app import Kettle
    from kettle.ctx import RequestContext
    from kettle.wrappers import Request


async def teardown(app: Kettle, ctx: RequestContext, error: BaseException | None) -> None:
    """Run the teardown functions, close the request (its files), pop the context.

    The request is left open when the test client keeps the context
    (``with client:``), so the test can still read it, and for a body that
    runs ``stream_with_context`` (it closes the request when it ends). When a
    teardown function fails, the request is not closed (as Flask's), but the
    context is popped.
    """
    called = False
    try:
        if app.teardown_request_funcs or request_tearing_down.receivers:
            await teardown_request(app, ctx.request, error, ctx.runner)
        if ctx._owns_app and (app.teardown_appcontext_funcs or appcontext_tearing_down.receivers):
            await teardown_appcontext(app, error, ctx.runner)
        called = True
    finally:
        close_request(app, ctx, error, True, called)


def close_request(
    app: Kettle,
    ctx: RequestContext,
    error: BaseException | None,
    torn_down: bool = False,
    close: bool = True,
) -> Coroutine[Any, Any, None] | None:
    """End the request: ``teardown`` to await when it has a function or receiver to call,
    else its last steps (below), done here without a coroutine (None).

    The last steps, which ``teardown`` ends with (``torn_down``; ``close``
    False when a teardown function failed): keep or close the request, then
    pop the context and send ``appcontext_popped``. With nothing to tear
    down, the whole end of a request is this one frame (and the request's
    ``close``).
    """
    if not torn_down and (
        app.teardown_request_funcs
        or request_tearing_down.receivers
        or (ctx._owns_app and (app.teardown_appcontext_funcs or appcontext_tearing_down.receivers))
    ):
        return teardown(app, ctx, error)
    try:
        if close:
            preserve = ctx.preserve
            if preserve is not None:
                preserve(ctx)  # The test client's ``with client:`` keeps the context.
            elif not ctx.streaming:  # A body with stream_with_context closes it when it ends.
                ctx.request.close()
    finally:
        # ``ctx._leave_quietly()``, its common case (pushed once, no nested push) written
        # out here as ``ctx.push`` writes out ``_enter_quietly``'s: one frame fewer.
        token = ctx._token
        if token is None or ctx._inner_tokens:
            ctx._leave_quietly()
        else:
            ctx._token = None
            _cv_reset(token)
        if ctx._owns_app and appcontext_popped.receivers:
            appcontext_popped.send(app, _async_wrapper=app.ensure_sync)
    return None


async def teardown_request(
    app: Kettle, request: Request, error: BaseException | None, runner: Runner
) -> None:
    """The teardown_request functions, innermost blueprint first, then the signal."""
    for name in chain(request.blueprints, (None,)):
        for func in reversed(app.teardown_request_funcs.get(name, ())):
            rv = func(error)
            if is_awaitable(rv):
                await runner.wait(rv)
    if request_tearing_down.receivers:
        request_tearing_down.send(app, _async_wrapper=app.ensure_sync, exc=error)


async def teardown_appcontext(app: Kettle, error: BaseException | None, runner: Runner) -> None:
    """The teardown_appcontext functions, last registered first, then the signal."""
    for func in reversed(app.teardown_appcontext_funcs):
        rv = func(error)
        if is_awaitable(rv):
            await runner.wait(rv)
    if appcontext_tearing_down.receivers:
        appcontext_tearing_down.send(app, _async_wrapper=app.ensure_sync, exc=error)
