"""``request``, ``session``, ``g`` and ``current_app``: thin typed proxies.

Each proxy looks up the current context in the one ContextVar on every use.
They exist for user code; the framework passes its context explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, cast

from kettle._accelerators import accelerator
from kettle.ctx import _cv, _cv_get

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


def _app() -> Any:
    ctx = _cv_get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx.app


def _app_ctx() -> Any:
    ctx = _cv_get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    # Inside a request pushed in an app context of the same app, that outer context
    # (Flask reuses it; Flask-SQLAlchemy keys its scoped session on it).
    return ctx._app_context()


def _request_ctx() -> Any:
    ctx = _cv_get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx


def _g() -> Any:
    ctx = _cv_get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx.g


def _request() -> Any:
    ctx = _cv_get(None)
    if ctx is not None:
        request = ctx.request
        if request is not None:
            return request
    raise RuntimeError(_no_req_msg)


def _session() -> Any:
    """The current session, marked ``accessed`` as the context's ``session`` property does.

    An opened session is read from the request context at once (the common
    case: one attribute read); one not opened yet is opened now, as the
    context's ``session`` property opens it; without a request context this raises.
    """
    current: Any = _cv_get(None)  # Any context, or None: the AttributeError says which.
    try:
        session = current._opened_session
    except AttributeError:  # No context, or an app context (no ``_opened_session``).
        session = None
    if session is None:
        ctx = _cv_get(None)
        if ctx is None or ctx.request is None:
            raise RuntimeError(_no_req_msg)
        # Not opened yet: opened now, what the context's ``session`` property does.
        session = ctx._open_session()  # type: ignore[attr-defined]
    session.accessed = True
    return session


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


def _forward_attributes(
    get: Callable[[], Any], names: frozenset[str]
) -> Callable[[_Proxy, str], Any]:
    """The ``__getattribute__`` of a proxy whose object ``get`` returns.

    ``names`` are the names the proxy's class has (``_get``, ``__doc__``,
    ``__class__``, ``_get_current_object``): those are the proxy's own. Any
    other name (every public one: the proxy has none) is forwarded at once:
    with ``__getattr__`` each read first failed on the proxy, and raising that
    AttributeError cost more than the rest of ``request.args`` put together.
    One set lookup decides (``name[:1] == "_"`` cost three times as much).
    ``get`` is held in this closure, not read from the proxy's slot on every
    access (that read was a third of the cost of ``request.args``).
    """

    if get is _request:

        def request_attributes(self: _Proxy, name: str) -> Any:
            # ``_request``'s lookup without its frame: ``request.form[...]`` and
            # ``request.args.get(...)`` read the most read proxy, often several times.
            if name in names:
                return _own_or_forwarded(self, name, _request)
            try:
                current = _cv_get().request
            except (LookupError, AttributeError):  # No context (unset, or reset to None):
                # ``_request`` raises its error below.
                current = None
            return getattr(_request() if current is None else current, name)

        return request_attributes

    def __getattribute__(self: _Proxy, name: str) -> Any:
        if name in names:
            return _own_or_forwarded(self, name, get)
        return getattr(get(), name)

    return __getattribute__


#: The C ``__getattribute__`` of the proxies when it is built (an optional extension module).
_Forwarder: type[Any] | None = accelerator("kettle._proxies", "Forwarder")


def _own_or_forwarded(self: _Proxy, name: str, get: Callable[[], Any]) -> Any:
    """A name the proxy's class has: the proxy's own (the object's if reading it fails)."""
    try:
        return object.__getattribute__(self, name)
    except AttributeError:
        pass  # Forwarded below, outside this handler (no chained error).
    return getattr(get(), name)


class _Proxy:
    """Forwards attribute access, item access and operators to the current object."""

    __slots__ = ("_get",)

    def __new__(cls, get: Callable[[], Any]) -> Self:
        # Each proxy is the one instance of its own subclass, whose ``__getattribute__``
        # holds ``get`` (Python looks special methods up on the type).
        names = frozenset(dir(cls)).union(("__slots__", "__getattribute__"))
        namespace = {"__slots__": (), "__module__": cls.__module__}
        namespace["__qualname__"] = cls.__qualname__
        bound: type[Self] = type(cls.__name__, (cls,), namespace)
        proxy = object.__new__(bound)
        # Set once the proxy exists: the C reads (``kettle._proxies``, the request proxy's
        # from the context variable itself) answer the proxy's own names through it.
        getattribute: Any = (
            _forward_attributes(get, names)
            if _Forwarder is None
            else _Forwarder(
                names,
                lambda name: _own_or_forwarded(proxy, name, get),
                get,
                _cv if get is _request else None,
            )
        )
        bound.__getattribute__ = getattribute  # type: ignore[method-assign]
        return proxy

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
    """The ``session`` proxy: item access, ``in``, ``len`` and iteration through ``_session``."""

    __slots__ = ()

    # Spelled out: ``_Proxy``'s forwarding packs ``*args`` and looks the method up
    # on the type, a third of the cost of ``session[key] = value``.
    def __getitem__(self, key: str) -> Any:
        return _session()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        _session()[key] = value

    def __delitem__(self, key: str) -> None:
        del _session()[key]

    def __contains__(self, key: object) -> bool:
        return key in _session()

    def __iter__(self) -> Any:
        return iter(_session())

    def __len__(self) -> int:
        return len(_session())


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
