"""``request``, ``session``, ``g`` and ``current_app``: thin typed proxies.

Each proxy looks up the current context in the one ContextVar on every use.
They exist for user code; the framework passes its context explicitly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, cast

from kettle.ctx import _cv

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.ctx import AppContext, RequestContext, _AppCtxGlobals
    from kettle.sessions import SessionMixin
    from kettle.wrappers import Request

_no_app_msg = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application. To solve this, set up an application context
with app.app_context(). See the documentation for more information.\
"""

_no_req_msg = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed
an active HTTP request. Consult the documentation on testing for
information about how to avoid this problem.\
"""


_missing: Any = object()
#: The context variable, untyped: the session proxy reads ``_opened_session`` from
#: whatever context it holds and takes an AttributeError for "no request context".
_contexts: Any = _cv


def _app() -> Any:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx.app


def _app_ctx() -> Any:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    # Inside a request pushed in an app context of the same app, that outer context
    # (Flask reuses it; Flask-SQLAlchemy keys its scoped session on it).
    return ctx._app_context()


def _request_ctx() -> Any:
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx


def _g() -> Any:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx.g


def _request() -> Any:
    ctx = _cv.get(None)
    if ctx is not None:
        request = ctx.request
        if request is not None:
            return request
    raise RuntimeError(_no_req_msg)


def _session() -> Any:
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx.session  # type: ignore[attr-defined]


def _forward(name: str) -> Any:
    def method(self: _Proxy, *args: Any, **kwargs: Any) -> Any:
        obj = object.__getattribute__(self, "_get")()
        # Special methods are looked up on the type, as Python does; a missing one is a
        # TypeError (what ``len()`` or ``list()`` expect), not an AttributeError.
        func = getattr(type(obj), name, None)
        if func is None:
            raise TypeError(f"'{type(obj).__name__}' object does not support {name}")
        return func(obj, *args, **kwargs)

    method.__name__ = name
    return method


def _forward_attributes(get: Callable[[], Any]) -> Callable[[_Proxy, str], Any]:
    """The ``__getattribute__`` of a proxy whose object ``get`` returns.

    A public name is forwarded at once (the proxy has none of its own): with
    ``__getattr__`` each read first failed on the proxy, and raising that
    AttributeError cost more than the rest of ``request.args`` put together.
    A name with an underscore (``_get``, ``__doc__``, ``__class__``) is the
    proxy's own when it has it, and the object's otherwise. ``get`` is held in
    this closure, not read from the proxy's slot on every access (that read
    was a third of the cost of ``request.args``).
    """

    if get is _request:
        return _request_attributes
    if get is _session:
        return _session_attributes

    def __getattribute__(self: _Proxy, name: str) -> Any:
        if name[:1] == "_":
            return _own_or_forwarded(self, name, get)
        return getattr(get(), name)

    return __getattribute__


def _request_attributes(self: _Proxy, name: str) -> Any:
    """The ``request`` proxy's ``__getattribute__``: ``_request``'s lookup without its frame.

    ``request.form[...]``, ``request.args.get(...)``: the most read proxy, often
    several times per view. Outside a request ``_request`` raises its error.
    """
    if name[:1] == "_":
        return _own_or_forwarded(self, name, _request)
    ctx = _cv.get(None)
    current = None if ctx is None else ctx.request
    return getattr(_request() if current is None else current, name)


def _session_attributes(self: _Proxy, name: str) -> Any:
    """The ``session`` proxy's ``__getattribute__``: ``session.get(...)`` in one frame.

    An opened session is read from the request context and marked ``accessed``
    here, as the context's ``session`` property does; otherwise (no context, an
    app context, a session not opened yet) ``_session`` goes through that
    property (which opens the session) or raises. ``_SessionProxy``'s methods
    find the session the same way.
    """
    if name[:1] == "_":
        return _own_or_forwarded(self, name, _session)
    try:
        session = _contexts.get(None)._opened_session
    except AttributeError:  # No context, or an app context: ``_session`` raises.
        session = None
    if session is None:
        return getattr(_session(), name)
    session.accessed = True
    return getattr(session, name)


def _session_operator(operation: Callable[..., Any]) -> Callable[..., Any]:
    """A dunder of the ``session`` proxy: ``operation`` on the current session.

    ``session["n"] = 1``, ``"n" in session``: the session is found as in
    ``_session_attributes`` and handed to the ``operator`` function, which
    looks the special method up on its type, as Python does.
    """

    def method(self: _Proxy, *args: Any) -> Any:
        try:
            session = _contexts.get(None)._opened_session
        except AttributeError:
            session = None
        if session is None:
            return operation(_session(), *args)
        session.accessed = True
        return operation(session, *args)

    return method


def _own_or_forwarded(self: _Proxy, name: str, get: Callable[[], Any]) -> Any:
    """A name with an underscore: the proxy's own when it has it, else the object's."""
    try:
        return object.__getattribute__(self, name)
    except AttributeError:
        pass  # Not the proxy's: forwarded below, outside this handler (no chained error).
    return getattr(get(), name)


class _Proxy:
    """Forwards attribute access, item access and operators to the current object."""

    __slots__ = ("_get",)

    def __new__(cls, get: Callable[[], Any]) -> Self:
        # Each proxy is the one instance of its own subclass, whose ``__getattribute__``
        # holds ``get`` (Python looks special methods up on the type).
        namespace = {"__slots__": (), "__getattribute__": _forward_attributes(get)}
        namespace |= {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        bound: type[Self] = type(cls.__name__, (cls,), namespace)
        return object.__new__(bound)

    def __init__(self, get: Callable[[], Any]) -> None:
        object.__setattr__(self, "_get", get)

    def _get_current_object(self) -> Any:
        """Return the object behind the proxy."""
        return object.__getattribute__(self, "_get")()

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_get")(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(object.__getattribute__(self, "_get")(), name)

    def __repr__(self) -> str:
        try:
            return repr(self._get_current_object())
        except RuntimeError:
            return "<LocalProxy unbound>"  # Werkzeug's words, which tests compare

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        """The current object's class, so ``isinstance(session, RedisSession)`` holds."""
        try:
            return type(self._get_current_object())
        except RuntimeError:
            return _Proxy

    def __bool__(self) -> bool:
        try:
            return bool(self._get_current_object())
        except RuntimeError:
            return False

    def __dir__(self) -> list[str]:
        return dir(self._get_current_object())

    def __eq__(self, other: object) -> bool:
        return bool(self._get_current_object() == other)

    def __ne__(self, other: object) -> bool:
        return bool(self._get_current_object() != other)

    __hash__ = None  # type: ignore[assignment]

    __enter__ = _forward("__enter__")
    __exit__ = _forward("__exit__")
    __getitem__ = _forward("__getitem__")
    __setitem__ = _forward("__setitem__")
    __delitem__ = _forward("__delitem__")
    __contains__ = _forward("__contains__")
    __iter__ = _forward("__iter__")
    __len__ = _forward("__len__")
    __call__ = _forward("__call__")
    __str__ = _forward("__str__")


class _SessionProxy(_Proxy):
    """The ``session`` proxy: its item access, ``in``, ``len`` and iteration in one frame."""

    __slots__ = ()

    # ``session[key]`` and ``session[key] = value`` spelled out (no ``*args`` to pack:
    # a third of their cost through ``_session_operator``).
    def __getitem__(self, key: str) -> Any:
        try:
            session = _contexts.get(None)._opened_session
        except AttributeError:
            session = None
        if session is None:
            return _session()[key]
        session.accessed = True
        return session[key]

    def __setitem__(self, key: str, value: Any) -> None:
        try:
            session = _contexts.get(None)._opened_session
        except AttributeError:
            session = None
        if session is None:
            _session()[key] = value
        else:
            session.accessed = True
            session[key] = value

    __delitem__ = _session_operator(operator.delitem)
    __contains__ = _session_operator(operator.contains)
    __iter__ = _session_operator(iter)
    __len__ = _session_operator(len)


class _ContextView:
    """Read-only stand-in for Flask's ``_cv_app`` / ``_cv_request`` ContextVars.

    Kettle keeps one ContextVar for both contexts; ``get`` answers as Flask's
    variable would: the current app (or request) context, else ``default``.
    """

    def __init__(self, name: str, get: Callable[[], Any]) -> None:
        self.name = name
        self._get = get

    def get(self, default: Any = _missing) -> Any:
        """The current context, else ``default`` (LookupError without one)."""
        try:
            return self._get()
        except RuntimeError:
            if default is _missing:
                raise LookupError(self.name) from None
            return default

    def __repr__(self) -> str:
        return f"<kettle view of ContextVar {self.name!r}>"


#: Flask's ``_cv_app``: ``.get(None)`` is the current app context or None.
_cv_app = _ContextView("flask.app_ctx", _app_ctx)
#: Flask's ``_cv_request``: ``.get(None)`` is the current request context or None.
_cv_request = _ContextView("flask.request_ctx", _request_ctx)

#: The application handling the current request (or of the current app context).
current_app: Kettle = cast("Kettle", _Proxy(_app))
#: Per-context storage for the current app context or request.
g: _AppCtxGlobals = cast("_AppCtxGlobals", _Proxy(_g))
#: The current request.
request: Request = cast("Request", _Proxy(_request))
#: The current session.
session: SessionMixin = cast("SessionMixin", _SessionProxy(_session))
#: The current application context (``app_ctx.g``, ``app_ctx.app``), for extensions.
app_ctx: AppContext = cast("AppContext", _Proxy(_app_ctx))
#: The current request context (``request_ctx.request``, ``request_ctx.session``).
request_ctx: RequestContext = cast("RequestContext", _Proxy(_request_ctx))
