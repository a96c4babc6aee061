"""What Kettle and Blueprint share: routes, hooks, error handlers, processors.

Every registry is a dict keyed by blueprint name (None for the app itself),
as in Flask, so a blueprint's registrations merge into the app's dicts and
the pipeline looks them up per request by the request's blueprints.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Callable
from functools import update_wrapper
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

from kettle.http.exceptions import HTTPException, default_exceptions
from kettle.interop import kettle_exception_class

if TYPE_CHECKING:
    from kettle.wrappers import Response

F = TypeVar("F", bound=Callable[..., Any])
ErrorHandlerSpec = dict[str | None, dict[int | None, dict[type[BaseException], Callable[..., Any]]]]


def setupmethod(f: F) -> F:
    """Mark a registration method: calling it once setup is over is an AssertionError.

    As Flask: an app that has handled a request, or a blueprint already
    registered, would apply the change inconsistently or not at all.
    """
    name = f.__name__

    def wrapper(self: Scaffold, *args: Any, **kwargs: Any) -> Any:
        self._check_setup_finished(name)
        return f(self, *args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]


def _endpoint_from_view_func(view_func: Callable[..., Any]) -> str:
    if view_func is None:
        raise TypeError("expected view func if endpoint is not provided.")
    return view_func.__name__


def get_root_path(import_name: str) -> str:
    """Return the folder of the module ``import_name`` (the cwd when unknown)."""
    module = sys.modules.get(import_name)
    filename: str | None = getattr(module, "__file__", None)
    if filename:
        return os.path.dirname(os.path.abspath(filename))
    import importlib.util

    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None or spec.origin in ("namespace", "built-in"):
        return os.getcwd()
    return os.path.dirname(os.path.abspath(spec.origin))


def _import_location(import_name: str) -> str:
    """Return the ``sys.path`` entry that ``import_name``'s top-level package is imported from.

    For a module that is its folder; for a package, the folder above it; for a
    namespace package, the folder above the portion that holds ``import_name``.
    """
    import importlib.util

    top = import_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):  # unknown, invalid, or ``__main__``
        spec = None
    if spec is None or spec.origin == "built-in":
        return os.getcwd()
    portions = spec.submodule_search_locations
    if not portions:  # a plain module
        return os.path.dirname(cast(str, spec.origin))
    if spec.origin not in (None, "namespace"):  # a package with __init__.py
        return os.path.dirname(os.path.dirname(spec.origin))
    chosen = portions[0]
    if import_name != top:
        sub = importlib.util.find_spec(import_name)
        where = sub.origin if sub is not None else None
        if where is not None and where != "namespace":
            where = os.path.abspath(where)
            chosen = next((p for p in portions if where.startswith(os.path.join(p, ""))), chosen)
    return os.path.dirname(chosen)


def find_package(import_name: str) -> tuple[str | None, str]:
    """Return ``(install prefix or None, import location)`` of ``import_name``.

    The prefix is the folder holding ``lib``/``bin`` when the code is installed
    (under ``sys.prefix`` or in a ``site-packages`` folder); None when it is not.
    """
    location = _import_location(import_name)
    prefix = os.path.abspath(sys.prefix)
    try:
        installed = os.path.commonpath([prefix, os.path.abspath(location)]) == prefix
    except ValueError:  # different drives (Windows)
        installed = False
    if installed:
        return prefix, location
    parent, folder = os.path.split(location)
    if folder.lower() != "site-packages":
        return None, location
    # prefix/lib/site-packages (Windows), prefix/lib/pythonX.Y/site-packages, or other.
    if os.path.basename(parent).lower() == "lib":
        return os.path.dirname(parent), location
    grandparent = os.path.dirname(parent)
    if os.path.basename(grandparent).lower() == "lib":
        return os.path.dirname(grandparent), location
    return parent, location


class Scaffold:
    """Registration API shared by the app and blueprints."""

    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        self.template_folder = template_folder
        self.root_path = root_path if root_path is not None else get_root_path(import_name)
        self.view_functions: dict[str, Callable[..., Any]] = {}
        self.error_handler_spec: ErrorHandlerSpec = defaultdict(lambda: defaultdict(dict))
        self.before_request_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.after_request_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.teardown_request_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.template_context_processors: dict[str | None, list[Callable[..., Any]]] = defaultdict(
            list
        )
        self.url_value_preprocessors: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.url_default_functions: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)

    # -- static files ------------------------------------------------------
    @property
    def static_folder(self) -> str | None:
        """The absolute static folder, or None."""
        if self._static_folder is not None:
            return os.path.join(self.root_path, self._static_folder)
        return None

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        """True when a static folder is configured."""
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix of static files (``/static`` by default)."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self._static_folder is not None:
            basename = os.path.basename(self._static_folder)
            return f"/{basename}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    def _check_setup_finished(self, f_name: str) -> None:
        """Raise AssertionError if setup method ``f_name`` comes too late (see setupmethod)."""

    # -- routes --------------------------------------------------------------
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Return the cache max age for a sent file: ``SEND_FILE_MAX_AGE_DEFAULT`` by default.

        Override it to choose per file; None means conditional requests, no timed cache.
        """
        from kettle.globals import current_app
        from kettle.sending import _default_max_age

        return _default_max_age(current_app.config["SEND_FILE_MAX_AGE_DEFAULT"])

    def send_static_file(self, filename: str) -> Response:
        """Serve ``filename`` from the static folder (the ``static`` endpoint's view)."""
        from kettle.sending import send_from_directory

        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        # send_file asks the app for the max age; ask this app or blueprint instead.
        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(cast(str, self.static_folder), filename, max_age=max_age)

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> IO[Any]:
        """Open ``resource`` (relative to ``root_path``) for reading: mode "rb", "r" or "rt"."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    @staticmethod
    def _pop_route_options(
        options: dict[str, Any], view_func: Callable[..., Any] | None
    ) -> tuple[bool, bool | None]:
        """Take Kettle's own route options off ``options``: ``(stream_body, inline)``.

        Each is read from the keyword, else from the view function's attribute of
        that name (a class-based view's class attribute). Under ASGI,
        ``stream_body=True`` leaves the body unread before the view (it reads
        ``request.stream``); ``inline=True`` runs a ``def`` view on the event
        loop instead of the thread pool, ``inline=False`` keeps it in the pool
        whatever ASGI_INLINE_SYNC_VIEWS says, None follows that setting. A
        streamed body is read from the loop, so such a view cannot run on it.
        """
        stream_body = bool(options.pop("stream_body", getattr(view_func, "stream_body", False)))
        inline = options.pop("inline", None)
        if inline is None:
            inline = getattr(view_func, "inline", None)
            if not isinstance(inline, bool):  # Only a real flag (not a mock's attribute).
                inline = None
        else:
            inline = bool(inline)
        if inline and stream_body:
            raise ValueError(
                "A stream_body=True route cannot be inline=True: its view waits for the body"
                " on the event loop, so it must run in the thread pool."
            )
        return stream_body, inline

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Register a rule; implemented by the app and by blueprints."""
        raise NotImplementedError

    @setupmethod
    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Decorate a view function to register it for ``rule`` (see add_url_rule)."""

        def decorator(f: F) -> F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    def _method_route(self, method: str, rule: str, options: dict[str, Any]) -> Callable[[F], F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    def get(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for ``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    def post(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for ``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    def put(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for ``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    def delete(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for ``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    def patch(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for ``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def endpoint(self, endpoint: str) -> Callable[[F], F]:
        """Decorate a function to be the view of ``endpoint``."""

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- hooks ---------------------------------------------------------------
    @setupmethod
    def before_request(self, f: F) -> F:
        """Run ``f`` before each request; a non-None return value is the response."""
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: F) -> F:
        """Run ``f(response)`` after each request; it returns the response to send."""
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: F) -> F:
        """Run ``f(exc)`` when the request context is popped, error or not."""
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def context_processor(self, f: F) -> F:
        """Register a function whose dict is added to the template context."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: F) -> F:
        """Run ``f(endpoint, values)`` after matching, before the before_request hooks."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: F) -> F:
        """Run ``f(endpoint, values)`` when building URLs, to fill in values."""
        self.url_default_functions[None].append(f)
        return f

    # -- errors --------------------------------------------------------------
    def errorhandler(self, code_or_exception: type[Exception] | int) -> Callable[[F], F]:
        """Register a handler for a status code or an exception class."""

        def decorator(f: F) -> F:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: Callable[..., Any]
    ) -> None:
        """Register ``f`` for a status code or exception class (non-decorator form)."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        exc_class: type[Exception]
        if isinstance(exc_class_or_code, int):
            try:
                exc_class = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code. Use a subclass"
                    " of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code
        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only be registered for"
                " Exception classes or HTTP error codes."
            )
        if not isinstance(exc_class, type) or not issubclass(exc_class, Exception):
            raise ValueError(
                f"'{exc_class.__name__}' is not a subclass of Exception. Handlers can only be"
                " registered for Exception classes or HTTP error codes."
            )
        exc_class = kettle_exception_class(exc_class)  # werkzeug.exceptions.NotFound works too.
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None
