"""The application and request contexts, held in one ContextVar.

Theory of operation: ``_cv`` holds the innermost context, an ``AppContext``
or a ``RequestContext`` (a subclass that adds the request and the session).
Pushing sets the var and keeps the token; popping resets it, so contexts nest
and are isolated per thread and per asyncio task by construction. A request
context reuses the app context underneath it when that is for the same app
(so ``g`` is shared, as in Flask), else it owns a fresh ``g`` and runs the
app-context teardown itself.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextvars import ContextVar, Token
from functools import update_wrapper
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from kettle import _loops
from kettle.runner import IN_THREAD, Runner
from kettle.signals import appcontext_popped, appcontext_pushed

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.sessions import SessionMixin
    from kettle.websocket import WebSocket
    from kettle.wrappers import Request

F = TypeVar("F", bound=Callable[..., Any])
#: A background task: ``(func, args, kwargs)``, called after the response is sent.
Task = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

_cv: ContextVar[AppContext] = ContextVar("kettle.context")
#: ``_cv.get`` and ``_cv.reset``, bound once. Python 3.11 compiles ``name.method(...)`` on
#: a name that a module imported as a generic attribute read (a new bound method on every
#: call, about 440 machine instructions); other modules call these instead.
_cv_get = _cv.get
_cv_reset = _cv.reset
#: The environ/scope key under which the test client passes ``RequestContext.preserve``.
PRESERVE_CONTEXT = "kettle.preserve_context"
_sentinel: Any = object()


#: The package named by ``repr(g)``; Flask compatibility mode sets it to "flask".
G_REPR_MODULE = "kettle"


class _AppCtxGlobals:
    """The ``g`` namespace: attributes plus get, pop, setdefault, ``in`` and iteration."""

    def get(self, name: str, default: Any = None) -> Any:
        """Return attribute ``name`` or ``default``."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: Any = _sentinel) -> Any:
        """Remove attribute ``name`` and return it (or ``default``)."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        """Return attribute ``name``, setting it to ``default`` first if absent."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> Any:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv.get(None)
        if ctx is not None:
            return f"<{G_REPR_MODULE}.g of '{ctx.app.name}'>"
        return object.__repr__(self)


class AppContext:
    """The application context: ``current_app`` and ``g``.

    Use it as ``with app.app_context(): ...`` or with ``push()`` / ``pop()``.
    """

    request: Request | None = None
    #: How user code run in this context is called (see ``kettle.runner``).
    runner: Runner = IN_THREAD

    def __init__(self, app: Kettle) -> None:
        self.app = app
        self.g: Any = app.app_ctx_globals_class()
        self._tokens: list[Token[AppContext]] = []
        self._owns_app = True

    def push(self) -> None:
        """Make this context current."""
        self._tokens.append(_cv.set(self))
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Run the app-context teardown functions and restore the previous context."""
        try:
            if len(self._tokens) == 1:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                self.app.do_teardown_appcontext(exc)
        finally:
            _cv.reset(self._tokens.pop())
        if appcontext_popped.receivers:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def _app_context(self) -> AppContext:
        """The app context in effect: this one (a request context may say another)."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc)


class RequestContext(AppContext):
    """The request context: the request, the session and the app context under it.

    The session is opened lazily, on first access, so requests that never
    touch it pay nothing for cookie parsing and signature checks.

    The fields below form the interface between the adapters and the
    pipeline (``kettle.pipeline``); the adapter sets ``websocket`` and
    ``preserve``, the pipeline sets ``runner``.
    """

    request: Request
    #: The outer app context of the same app this request reuses (set when pushed).
    _outer: AppContext | None = None
    #: The connection when this context is a WebSocket handshake.
    websocket: WebSocket | None = None
    #: Called with the context instead of closing the request at teardown: the
    #: test client's ``with client:`` keeps the context and its request.
    preserve: Callable[[RequestContext], None] | None = None
    #: The calls ``add_background_task`` recorded, run after the response is sent.
    background_tasks: list[Task] | None = None
    #: True once ``stream_with_context`` holds the context for the response body:
    #: the body, not the teardown, closes the request when it ends.
    streaming: bool = False
    #: False when the adapter saw no Cookie header: the pipeline then knows
    #: without reading the headers again that no session cookie is there to refresh.
    cookie_sent: bool = True

    def __init__(self, app: Kettle, request: Request, session: SessionMixin | None = None) -> None:
        self.app = app
        self.request = request
        self._opened_session = session
        # The class's defaults, stored: every request reads these, and on Python 3.11
        # an instance attribute is read faster than a class attribute through the instance.
        self._token = None
        self._inner_tokens = None
        self._owns_app = True
        self.preserve = None
        self.streaming = False
        self.background_tasks = None
        self._after_functions = None
        self.websocket = None
        self.cookie_sent = True

    #: The token of the outermost push (None while not pushed); ``_inner_tokens`` holds
    #: those of pushes nested in it. One push and pop, the common case, make no list.
    _token: Token[AppContext] | None = None
    _inner_tokens: list[Token[AppContext]] | None = None
    #: The ``after_this_request`` functions, None until the first is added (most
    #: requests add none: the pipeline reads this, not the property, to know).
    _after_functions: list[Callable[[Any], Any]] | None = None

    @property
    def _after_request_functions(self) -> list[Callable[[Any], Any]]:
        """Flask's list of ``after_this_request`` functions, made on first read.

        Extensions append to it directly, as in Flask.
        """
        funcs = self._after_functions
        if funcs is None:
            funcs = self._after_functions = []
        return funcs

    @_after_request_functions.setter
    def _after_request_functions(self, value: list[Callable[[Any], Any]]) -> None:
        self._after_functions = value

    #: True when this context is its own app context (no outer one of the same app).
    _owns_app = True
    #: ``g``, made on first use (most requests never touch it) or shared with the outer context.
    _g: Any = None

    @property
    def g(self) -> Any:
        """The ``g`` of this request: the outer app context's, else its own, made on first use."""
        g = self._g
        if g is None:
            g = self._g = self.app.app_ctx_globals_class()
        return g

    @g.setter
    def g(self, value: Any) -> None:
        self._g = value

    def push(self) -> None:
        """Make this context current, reusing an app context of the same app."""
        if self._token is None and self._owns_app and _cv.get(None) is None:
            self._token = _cv.set(self)  # ``_enter_quietly`` with no outer context.
        else:
            self._enter_quietly()
        if appcontext_pushed.receivers and self._owns_app and not self._inner_tokens:
            # Flask pushes an app context per request: its signal fires here too.
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Run the teardown (as the pipeline does) and restore the previous context."""
        if self._inner_tokens or self._token is None:
            self._leave_quietly()  # A nested push: only the outermost pop tears down.
            return
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        from kettle.teardown import teardown

        _loops.drive(teardown(self.app, self, exc))

    def _enter_quietly(self) -> None:
        """Make this context current without signals (for work that is not a request)."""
        parent = _cv.get(None)
        if parent is not None and parent.app is self.app:
            if parent is not self:  # Not a re-entry (``with request_ctx:`` in the view).
                self._g = parent.g
                self._owns_app = False
                self._outer = parent._app_context()
        elif not self._owns_app:  # Pushed again, outside the context it was nested in.
            self._owns_app = True  # (Its g is kept: ``with client:`` still sees the request's.)
            self._outer = None
        token = _cv.set(self)
        if self._token is None:
            self._token = token
        elif self._inner_tokens is None:
            self._inner_tokens = [token]
        else:
            self._inner_tokens.append(token)

    def _app_context(self) -> AppContext:
        """The app context this request reuses (as Flask does), else this context."""
        return self._outer or self

    def _leave_quietly(self) -> None:
        """Undo ``_enter_quietly``: restore the previous context, no teardown."""
        inner = self._inner_tokens
        if inner:
            _cv.reset(inner.pop())
            return
        token = self._token
        if token is None:
            raise IndexError("The request context is not pushed.")  # As popping the empty list did.
        self._token = None
        _cv.reset(token)

    @property
    def session(self) -> SessionMixin:
        """The session, opened from the request on first access.

        As in Flask 3.1.3, every access marks it ``accessed`` (so the response
        gets ``Vary: Cookie``), however the session is then used.
        """
        session = self._opened_session
        if session is None:
            session = self._open_session()
        session.accessed = True
        return session

    @session.setter
    def session(self, value: SessionMixin) -> None:
        self._opened_session = value

    @property
    def _session(self) -> SessionMixin:
        """Flask's ``request_ctx._session``: the session, opened now if nothing opened it yet.

        Reading it does not mark the session accessed (Flask's tests and some
        extensions read it to inspect ``accessed`` and ``modified``).
        """
        session = self._opened_session
        return session if session is not None else self._open_session()

    @_session.setter
    def _session(self, value: SessionMixin) -> None:
        # Flask 3.1.3's attribute, which Flask-SocketIO sets to its own managed session.
        self._opened_session = value

    def _open_session(self) -> SessionMixin:
        """Open the session from the request (a null session without a secret key)."""
        app = self.app
        session = app.session_interface.open_session(app, self.request)
        if session is None:
            session = app.session_interface.make_null_session(app)
        self._opened_session = session
        return session

    def session_to_save(self) -> SessionMixin | None:
        """The session to save on the response: the one opened, or one to refresh.

        Flask opens the session on every request, and with SESSION_REFRESH_EACH_REQUEST
        re-sends a permanent session's cookie (with ``Vary: Cookie``) even when the view
        never read it. Kettle opens it lazily, so it opens it here, only when the
        request carries the session cookie at all (read without parsing the headers).
        """
        if self._opened_session is not None:
            return self._opened_session
        app = self.app
        raw = self.request.cookie_header
        if not raw or not app.config["SESSION_REFRESH_EACH_REQUEST"]:
            return None
        if app.session_interface.get_cookie_name(app) not in raw:
            return None
        return self._open_session()

    def copy(self) -> RequestContext:
        """Return a new context for the same request and session."""
        return type(self)(self.app, self.request, self._opened_session)


class _MatchingRequestContext(RequestContext):
    """A context from ``app.request_context()``: it matches the URL when pushed.

    As Flask's, so ``request.endpoint``, ``view_args`` and ``blueprint`` are set
    in ``test_request_context``. (The request pipeline matches on its own.)
    """

    def push(self) -> None:
        """Make this context current, then match the request's URL."""
        super().push()
        from kettle.pipeline import match

        match(self.app, self)


def has_request_context() -> bool:
    """Return True inside a request context."""
    ctx = _cv.get(None)
    return ctx is not None and ctx.request is not None


def has_app_context() -> bool:
    """Return True inside an application (or request) context."""
    return _cv.get(None) is not None


def after_this_request(f: F) -> F:
    """Register ``f`` to run on this request's response, after the view."""
    ctx = _cv.get(None)
    if not isinstance(ctx, RequestContext):
        raise RuntimeError(
            "'after_this_request' can only be used when a request context is active, such as in"
            " a view function."
        )
    ctx._after_request_functions.append(f)
    return f


def copy_current_request_context(f: F) -> F:
    """Decorate ``f`` so that it runs in a copy of the current request context.

    For work handed to another thread or greenlet that needs ``request``.
    """
    ctx = _cv.get(None)
    if not isinstance(ctx, RequestContext):
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a request context is"
            " active, such as in a view function."
        )
    ctx = ctx.copy()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with ctx:
            return ctx.app.ensure_sync(f)(*args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]
