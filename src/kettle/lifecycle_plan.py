"""Which steps of a request's lifecycle anything besides the client can observe.

The pipeline (``kettle.pipeline``) asks here before it takes a shortcut.
Each answer reads the app's registries and the signals' receivers on every
request (truthiness tests, no cache to go stale), so a hook, handler or
receiver added at any time, through a decorator or straight into a
registry as extensions do, is seen by the next request.

- whether matching before the context is pushed can be told apart from
  matching after (it cannot when no user code runs in a match: no
  before_body function, no custom converter) is asked by
  ``request_match.match`` itself (``unobserved=True``, the WSGI side's
  early match; the ASGI side always matches first).
- whether the view is the request's first user code (it was matched and
  nothing runs between the push and the view) is asked by
  ``pipeline.call_view`` itself (``first=True``), in the frame that then
  calls the view: the lanes (``pipeline.respond_sync``, ``respond_async``)
  call it right after the push, and run ``dispatch_value`` when it says no.
- ``unobserved_routing_error`` / ``unobserved_routing_answer``: a 404 or
  405 that no hook, handler, signal receiver or session refresh would see is
  answered with its error page without pushing the context or running the
  lifecycle around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kettle.error_handling import replaced, traps_http_exception
from kettle.http.exceptions import HTTPException, MethodNotAllowed, NotFound
from kettle.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.ctx import RequestContext
    from kettle.wrappers import Response

#: The routing errors a shortcut may answer: their page depends on the error alone.
_PLAIN_ROUTING_ERRORS = frozenset({NotFound, MethodNotAllowed})


def unobserved_routing_error(app: Kettle, ctx: RequestContext) -> HTTPException | None:
    """The request's 404 or 405 when only the client can observe how it is answered, else None.

    The full lifecycle would push the context, send ``request_started``, run
    the URL value preprocessors and ``before_request`` functions, look for an
    error handler, make the response, run the ``after_request`` functions,
    refresh the session cookie, send ``request_finished``, run the teardown
    functions and pop the context. When none of these has anything to do and
    the test client does not keep the context, the answer is the error's own
    page, exactly what that lifecycle would have sent.
    """
    error = ctx.request.routing_exception
    if error is None or error.__class__ not in _PLAIN_ROUTING_ERRORS:
        return None
    if (
        ctx.preserve is not None
        or not lifecycle_unobserved(app)
        or traps_http_exception(app, error)  # (``app.trap_http_exception``, not replaced.)
        # A session to save is one opened already, or one a cookie asks to refresh.
        or (
            (ctx._opened_session is not None or (ctx.cookie_sent and ctx.request.cookie_header))
            and ctx.session_to_save() is not None
        )
    ):
        return None
    return error


def lifecycle_unobserved(app: Kettle) -> bool:
    """True when no hook, handler, signal receiver or DEBUG would see a routing error answered.

    What ``unobserved_routing_error`` asks of the app (not of the request):
    read on every call, so what was registered since is seen. The memo of
    404s (``kettle.unrouted``) asks it too, before it answers from memory.
    """
    if (
        app.error_handler_spec
        or app.before_request_funcs
        or app.url_value_preprocessors
        or app.after_request_funcs
        or app.teardown_request_funcs
        or app.teardown_appcontext_funcs
        or request_started.receivers
        or request_finished.receivers
        or request_tearing_down.receivers
        or appcontext_pushed.receivers
        or appcontext_popped.receivers
        or appcontext_tearing_down.receivers
        or got_request_exception.receivers
        or app.config["DEBUG"]
    ):
        return False
    # The methods that turn a routing error into a response, as the lifecycle calls them:
    # neither the app's class (``_class_keeps_error_methods``, once per class) nor the app
    # itself (Flask-RESTful assigns its wrapper to the instance: looked up every time)
    # replaced one.
    keeps = _CLASS_KEEPS.get(app.__class__)
    if keeps is None:
        keeps = _class_keeps_error_methods(app)
    instance = app.__dict__
    return (
        keeps
        and "handle_user_exception" not in instance
        and "make_response" not in instance
        and "trap_http_exception" not in instance
    )


#: The methods that turn a routing error into a response, as the lifecycle calls them.
_ERROR_METHODS = ("handle_user_exception", "make_response", "trap_http_exception")
#: Per app class: True when it keeps Kettle's ``_ERROR_METHODS`` (a class does not change).
_CLASS_KEEPS: dict[type, bool] = {}


def _class_keeps_error_methods(app: Kettle) -> bool:
    """True when the app's class replaced none of ``_ERROR_METHODS`` (noted in ``_CLASS_KEEPS``)."""
    keeps = _CLASS_KEEPS[app.__class__] = not any(replaced(app, name) for name in _ERROR_METHODS)
    return keeps


#: What an adapter gives ``unobserved_routing_answer`` to be told of the page it answers.
Unrouted = Callable[["RequestContext", "Response"], None]


def unobserved_routing_answer(
    app: Kettle, ctx: RequestContext, unrouted: Unrouted | None = None
) -> Response | None:
    """The page of the request's routing error when nothing else observes it (see above).

    The request is closed first, as the teardown would have; None means the
    lifecycle must answer. ``unrouted``, when given, is called with the
    context and the page first (an adapter remembers a 404: ``kettle.unrouted``).
    """
    error = unobserved_routing_error(app, ctx)
    if error is None:
        return None
    ctx.request.close()
    # An annotated local, not a typing.cast call: this path is hot.
    response: Response = error.get_response()  # type: ignore[assignment]
    if unrouted is not None:
        unrouted(ctx, response)
    return response
