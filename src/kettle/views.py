"""Class-based views: ``View`` and ``MethodView``, as in Flask.

``as_view`` turns a class into a view function once, at registration. Its
``is_async`` attribute tells the pipeline to run it on the event loop under
ASGI when the class dispatches to coroutines.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar

from kettle.globals import request
from kettle.runner import is_async_callable, is_awaitable

#: The method names a ``MethodView`` answers by (Flask's ``flask.views.http_method_funcs``).
http_method_funcs = frozenset(["get", "post", "head", "options", "delete", "put", "trace", "patch"])


class View:
    """Subclass and implement ``dispatch_request``; register with ``as_view(name)``."""

    #: The methods this view is registered for (GET only when None).
    methods: ClassVar[Collection[str] | None] = None
    #: Whether the app answers OPTIONS automatically (the app decides when None).
    provide_automatic_options: ClassVar[bool | None] = None
    #: Decorators applied, in order, to the generated view function.
    decorators: ClassVar[list[Callable[..., Any]]] = []
    #: Make a new instance for every request (True) or one for all (False).
    init_every_request: ClassVar[bool] = True
    #: Under ASGI, run sync verbs on the event loop (True), in the thread pool
    #: (False), or as ASGI_INLINE_SYNC_VIEWS says (None); see ``add_url_rule(inline=)``.
    inline: ClassVar[bool | None] = None

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Handle the request; the URL values are the keyword arguments."""
        raise NotImplementedError()

    @classmethod
    def _is_async(cls) -> bool:
        return is_async_callable(cls.dispatch_request)

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> Callable[..., Any]:
        """Return a view function named ``name`` that dispatches to an instance of ``cls``."""
        view: Callable[..., Any]
        is_async = cls._is_async()
        if cls.init_every_request:

            def instance() -> View:
                # Read at call time, as Flask: a patched ``view.view_class`` is used.
                return outer.view_class(*class_args, **class_kwargs)  # type: ignore[no-any-return]

        else:
            shared = cls(*class_args, **class_kwargs)

            def instance() -> View:
                return shared

        if is_async:

            async def view(**kwargs: Any) -> Any:
                rv = instance().dispatch_request(**kwargs)
                if is_awaitable(rv):
                    rv = await rv  # A MethodView may mix sync and async verbs.
                return rv

        else:

            def view(**kwargs: Any) -> Any:
                return instance().dispatch_request(**kwargs)

        if cls.decorators:
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)
        # Attributes are set on the outermost function: that is what the app sees.
        outer: Any = view
        outer.view_class = cls
        outer.__name__ = name
        outer.__doc__ = cls.__doc__
        outer.__module__ = cls.__module__
        outer.methods = cls.methods
        outer.provide_automatic_options = cls.provide_automatic_options
        outer.inline = cls.inline
        outer.is_async = is_async
        return view


class MethodView(View):
    """Dispatch to the method named after the HTTP verb (``get``, ``post``, ...).

    ``methods`` is derived from the verbs the class (or its bases) defines;
    HEAD falls back to ``get``. Verbs may be ``async def``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" not in cls.__dict__:
            methods: set[str] = set()
            for base in cls.__bases__:
                if getattr(base, "methods", None):
                    methods.update(base.methods)  # type: ignore[attr-defined]
            for key in http_method_funcs:
                if hasattr(cls, key):
                    methods.add(key.upper())
            if methods:
                cls.methods = methods

    @classmethod
    def _is_async(cls) -> bool:
        return any(is_async_callable(getattr(cls, key, None)) for key in http_method_funcs)

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Call the method for ``request.method``; its result may be a coroutine."""
        meth = getattr(self, request.method.lower(), None)
        if meth is None and request.method == "HEAD":
            meth = getattr(self, "get", None)
        if meth is None:
            raise AssertionError(f"Unimplemented method {request.method!r}")
        return meth(**kwargs)
