"""The Kettle application: configuration, registries and THE request pipeline.

Theory of operation: an adapter (WSGI or ASGI) turns the server's input into
a ``Request`` and a ``RequestContext``, then calls ``handle_sync`` or
``handle_async``. Both run the same coroutine, ``_run``: push the context,
match the URL, before-request hooks, the view, ``make_response``,
after-request hooks, session save, teardown. User functions may be sync or
async; a coroutine they return is resolved by ``RequestContext.wait``:
awaited on the event loop (ASGI, async view), or run on the loop of the
current thread without suspending the pipeline (WSGI, or a sync view in
the ASGI thread pool). So the pipeline below is the only copy.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import threading
import warnings
from collections.abc import Callable, Coroutine, Iterable, Iterator
from datetime import timedelta
from functools import cached_property, update_wrapper
from itertools import chain
from types import CoroutineType, TracebackType
from typing import IO, TYPE_CHECKING, Any, NoReturn, cast

from kettle import _loops
from kettle.adapters.wsgi import serve as _serve_wsgi
from kettle.config import DEFAULT_CONFIG, Config, ConfigAttribute
from kettle.ctx import AppContext, RequestContext, _AppCtxGlobals, _cv, _MatchingRequestContext
from kettle.helpers import get_debug_flag
from kettle.http.exceptions import (
    Aborter,
    BadHost,
    BadRequest,
    BadRequestKeyError,
    ClientDisconnected,
    Forbidden,
    HTTPException,
    InternalServerError,
    SecurityError,
)
from kettle.http.headers import Headers
from kettle.http.request import host_is_trusted
from kettle.interop import as_kettle_exception, from_wsgi_app, is_wsgi_app
from kettle.json import DefaultJSONProvider, JSONProvider
from kettle.routing import BuildError, Map, MapAdapter, RequestRedirect, Rule
from kettle.routing.exceptions import WebsocketMismatch
from kettle.scaffold import Scaffold, _endpoint_from_view_func, find_package, setupmethod
from kettle.sessions import SecureCookieSessionInterface, SessionInterface
from kettle.signals import (
    appcontext_popped,
    appcontext_tearing_down,
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)
from kettle.templating import TemplatingMixin, _default_template_ctx_processor
from kettle.websocket import (
    WebSocket,
    WebSocketDisconnect,
    WebSocketUpgradeRequired,
    check_origin,
    note_websocket_under_wsgi,
)
from kettle.wrappers import Request, Response

if TYPE_CHECKING:
    import logging

    from kettle.blueprints import Blueprint
    from kettle.cli import AppGroup, KettleCliRunner
    from kettle.testing import KettleClient


_PRESERVE = "kettle.preserve_context"
_BODY_TYPES = frozenset({str, bytes, bytearray})
_NO_SCOPE: dict[str, Any] = {}


def _is_body(rv: Any) -> bool:
    """True for a str/bytes body or an iterable that streams (not a dict, list or Response)."""
    if rv.__class__ in _BODY_TYPES:
        return True
    if isinstance(rv, Response | HTTPException | dict | list):
        return False
    return isinstance(rv, str | bytes | bytearray | Iterator) or hasattr(rv, "__aiter__")


def _run_coroutine_here(coro: Any) -> Any:
    """Run ``coro`` to the end from sync code: the context's runner, else this thread's loop."""
    ctx = _cv.get(None)
    return getattr(ctx, "run_coroutine", _loops.run_coroutine)(coro)


async def _run_here(coro: Any) -> Any:
    """``_run_coroutine_here`` for code written as a coroutine that must not suspend."""
    return _run_coroutine_here(coro)


def _as_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class Kettle(TemplatingMixin, Scaffold):
    """The application: ``app = Kettle(__name__)``.

    ``app(environ, start_response)`` is the WSGI application and ``app.asgi``
    the ASGI 3 one; both run the same pipeline.
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    app_ctx_globals_class = _AppCtxGlobals
    config_class = Config
    url_rule_class = Rule
    url_map_class = Map
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    session_interface: SessionInterface = SecureCookieSessionInterface()
    aborter_class = Aborter
    #: Answer an error that propagates in debug mode with the debug page. The
    #: development server turns it on (``kettle run --debug``, ``app.run(debug=True)``);
    #: elsewhere the error reaches the server, as with Flask behind gunicorn.
    use_debugger = False
    default_config = DEFAULT_CONFIG

    testing = ConfigAttribute("TESTING")
    secret_key = ConfigAttribute("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute("PERMANENT_SESSION_LIFETIME", _as_timedelta)

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(import_name, static_folder, static_url_path, template_folder, root_path)
        self.template_context_processors[None].append(_default_template_ctx_processor)
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute. A relative path was"
                " given instead."
            )
        self.instance_path = instance_path
        self.config = self.config_class(
            self.instance_path if instance_relative_config else self.root_path,
            self.default_config,
        )
        self.config["DEBUG"] = get_debug_flag()
        self.json: JSONProvider = self.json_provider_class(self)
        self.aborter = self.make_aborter()
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        self.url_build_error_handlers: list[Callable[[Exception, str, dict[str, Any]], str]] = []
        self.teardown_appcontext_funcs: list[Callable[..., Any]] = []
        self.before_first_request_funcs: list[Callable[..., Any]] = []
        self.before_serving_funcs: list[Callable[..., Any]] = []
        self.after_serving_funcs: list[Callable[..., Any]] = []
        #: ``f(request)`` run right after routing, before the body is read.
        self.before_body_funcs: list[Callable[[Request], None]] = []
        self.before_websocket_funcs: list[Callable[..., Any]] = []
        self.after_websocket_funcs: list[Callable[..., Any]] = []
        self.shell_context_processors: list[Callable[[], dict[str, Any]]] = []
        self.blueprints: dict[str, Blueprint] = {}
        self.extensions: dict[str, Any] = {}
        self._got_first_request = False
        self._first_request_lock = threading.Lock()
        self._first_request_alock: asyncio.Lock | None = None
        self._async_views: dict[str, bool] = {}
        from kettle.adapters.asgi import ASGIAdapter

        #: The ASGI 3 application (``uvicorn module:app.asgi``); wrap it for middleware.
        self.asgi: Callable[..., Coroutine[Any, Any, None]] = ASGIAdapter(self)
        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise ValueError(
                    "Invalid static_host/host_matching combination: static_host is needed"
                    " exactly when host_matching is on."
                )
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=self.send_static_file,
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @property
    def debug(self) -> bool:
        """Debug mode, the ``DEBUG`` config value."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        # As Flask: templates reload in debug mode unless TEMPLATES_AUTO_RELOAD says.
        if self.config["TEMPLATES_AUTO_RELOAD"] is None and "jinja_env" in self.__dict__:
            self.jinja_env.auto_reload = value

    @cached_property
    def name(self) -> str:  # type: ignore[override]
        """The app's name: the import name, or the script's name for ``__main__``."""
        if self.import_name == "__main__":
            fn: str | None = getattr(sys.modules["__main__"], "__file__", None)
            if fn is None:
                return "__main__"
            return os.path.splitext(os.path.basename(fn))[0]
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        """The ``logging`` logger named after the app."""
        from kettle.logging import create_logger

        return create_logger(self)

    @cached_property
    def cli(self) -> AppGroup:
        """The app's command group: ``@app.cli.command()`` adds ``kettle`` subcommands."""
        from kettle.cli import AppGroup

        return AppGroup(self.name)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: Any,
    ) -> None:
        """Run the development server (uvicorn); does nothing inside ``kettle run``."""
        from kettle.serving import run_app

        run_app(self, host, port, debug, load_dotenv, **options)

    def auto_find_instance_path(self) -> str:
        """Return the default instance folder.

        ``instance`` next to the module or package when it is not installed;
        ``<prefix>/var/<name>-instance`` when it is installed.
        """
        prefix, location = find_package(self.import_name)
        if prefix is None:
            return os.path.join(location, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> IO[Any]:
        """Open ``resource`` relative to ``instance_path``; unlike open_resource, any mode."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    def make_aborter(self) -> Aborter:
        """Return the ``aborter`` that ``kettle.abort`` uses: an ``aborter_class`` instance."""
        return self.aborter_class()

    def redirect(self, location: str, code: int = 302) -> Response:
        """Return a redirect response; ``kettle.redirect`` calls this, so override it here."""
        from kettle.helpers import _redirect

        return _redirect(location, code, self.response_class)

    # -- registration ------------------------------------------------------
    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the application. It"
                " has already handled its first request, any changes will not be applied"
                " consistently.\nMake sure all imports, decorators, functions, etc. needed to"
                " set up the application are done before running it."
            )

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Register ``rule`` for ``view_func`` under ``endpoint`` (default: the function's name)."""
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for example:"
                ' @app.route(..., methods=["POST"])'
            )
        methods = {item.upper() for item in methods}
        required = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            if "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]:
                provide_automatic_options = True
                required.add("OPTIONS")
            else:
                provide_automatic_options = False
        methods |= required
        # stream_body=True: under ASGI the body is not read before the view (request.stream).
        stream_body = bool(options.pop("stream_body", getattr(view_func, "stream_body", False)))
        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options  # type: ignore[attr-defined]
        rule_obj.stream_body = stream_body  # type: ignore[attr-defined]
        self.url_map.add(rule_obj)
        if view_func is not None:
            old_func = self.view_functions.get(endpoint)
            if old_func is not None and old_func != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing endpoint function:"
                    f" {endpoint}"
                )
            self.view_functions[endpoint] = view_func
            self._async_views.pop(endpoint, None)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Register ``blueprint``; options (url_prefix, name, ...) override its own."""
        blueprint.register(self, options)

    def iter_blueprints(self) -> Iterator[Blueprint]:
        """Iterate over the registered blueprints, in registration order."""
        return iter(self.blueprints.values())

    @setupmethod
    def teardown_appcontext(self, f: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``f(exc)`` when the application context is popped."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def before_first_request(self, f: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``f`` once, before the first request (kept although Flask 2.3 removed it)."""
        self.before_first_request_funcs.append(f)
        return f

    def before_serving(self, f: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``f`` when the server starts (ASGI lifespan startup)."""
        self.before_serving_funcs.append(f)
        return f

    def after_serving(self, f: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``f`` when the server stops (ASGI lifespan shutdown)."""
        self.after_serving_funcs.append(f)
        return f

    def websocket(
        self, rule: str, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register an ``async def`` WebSocket handler for ``rule`` (served under ASGI)."""

        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, websocket=True, **options)
            return f

        return decorator

    @setupmethod
    def before_body(self, f: Callable[[Request], None]) -> Callable[[Request], None]:
        """Run ``f(request)`` right after routing, before the body is read.

        For checks that need only the URL and the headers (the CSRF Origin
        check is one): ``f`` raises an ``HTTPException`` to refuse the request,
        which is then answered as a routing error is (the before_request hooks
        run, the view does not) and, under ASGI, without receiving the body.
        ``f`` runs outside the request context: use the ``request`` argument.
        """
        self.before_body_funcs.append(f)
        return f

    def before_websocket(self, f: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``f`` before each WebSocket handler; a non-None return refuses the socket."""
        self.before_websocket_funcs.append(f)
        return f

    def after_websocket(self, f: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``f`` after each WebSocket handler that returned normally."""
        self.after_websocket_funcs.append(f)
        return f

    def add_background_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``func(*args, **kwargs)`` (sync or async) after the response is sent."""
        from kettle.background import add_background_task

        add_background_task(func, *args, **kwargs)

    async def startup(self) -> None:
        """Run the before_serving functions inside an app context."""
        await self._run_serving(self.before_serving_funcs)

    async def shutdown(self) -> None:
        """Run the after_serving functions inside an app context."""
        await self._run_serving(self.after_serving_funcs)

    async def _run_serving(self, funcs: list[Callable[..., Any]]) -> None:
        with self.app_context():
            for func in funcs:
                rv = func()
                if inspect.isawaitable(rv):
                    await rv

    @setupmethod
    def shell_context_processor(
        self, f: Callable[[], dict[str, Any]]
    ) -> Callable[[], dict[str, Any]]:
        """Register a function whose dict is added to ``kettle shell``'s namespace."""
        self.shell_context_processors.append(f)
        return f

    def make_shell_context(self) -> dict[str, Any]:
        """Return ``kettle shell``'s namespace: ``app``, ``g``, then the processors' values."""
        from kettle.globals import g

        namespace: dict[str, Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            namespace.update(processor())
        return namespace

    # -- contexts ----------------------------------------------------------
    def app_context(self) -> AppContext:
        """Return an application context: ``with app.app_context(): ...``."""
        return AppContext(self)

    def request_context(self, environ: dict[str, Any]) -> RequestContext:
        """Return a request context for a WSGI environ."""
        from kettle.adapters.wsgi import request_from_environ

        return _MatchingRequestContext(self, request_from_environ(self, environ))

    def test_request_context(self, *args: Any, **kwargs: Any) -> RequestContext:
        """Return a request context for a made-up request (EnvironBuilder arguments)."""
        from kettle.testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        return self.request_context(builder.get_environ())

    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> KettleClient:
        """Return a test client; ``protocol="asgi"`` drives the ASGI side."""
        from kettle.testing import KettleClient

        cls = getattr(self, "test_client_class", None) or KettleClient
        return cast("KettleClient", cls(self, use_cookies=use_cookies, **kwargs))

    def test_cli_runner(self, **kwargs: Any) -> KettleCliRunner:
        """Return a CLI runner whose ``invoke(args)`` runs ``app.cli`` with this app."""
        from kettle.cli import KettleCliRunner

        cls = getattr(self, "test_cli_runner_class", None) or KettleCliRunner
        return cast("KettleCliRunner", cls(self, **kwargs))

    # -- the WSGI entry points ---------------------------------------------
    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """The WSGI application; wrap this attribute to add WSGI middleware."""
        return _serve_wsgi(self, environ, start_response)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    # -- running user code -------------------------------------------------
    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``func``, or for a coroutine function a sync wrapper that runs it."""
        if inspect.iscoroutinefunction(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(self, func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        """Wrap a coroutine function to run on the current thread's kept loop."""

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return _run_coroutine_here(func(*args, **kwargs))

        return update_wrapper(wrapper, func)

    def handle_sync(self, ctx: RequestContext) -> Response:
        """Run the pipeline without an event loop (WSGI, or in a worker thread)."""
        if not self._got_first_request:
            self._first_request_sync(ctx)
        return _loops.drive(self._run(ctx))  # type: ignore[no-any-return]

    async def handle_async(
        self, ctx: RequestContext, offload: Callable[[Callable[[], Response]], Any]
    ) -> Response:
        """Run the pipeline for ASGI: on the loop for async views, else in ``offload``."""
        if not self._got_first_request:
            await self._first_request_async(ctx)
        self._match(ctx)
        if self._view_is_async(ctx):
            ctx.on_loop = True
            return await self._run(ctx)
        loop = asyncio.get_running_loop()
        ctx.run_coroutine = lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result()
        return cast(Response, await offload(lambda: _loops.drive(self._run(ctx))))

    def _view_is_async(self, ctx: RequestContext) -> bool:
        rule = ctx.request.url_rule
        if rule is None:
            return True  # Errors are rendered on the loop: no thread hop for a 404.
        endpoint = rule.endpoint
        known = self._async_views.get(endpoint)
        if known is None:
            view = self.view_functions.get(endpoint)
            known = view is not None and (
                inspect.iscoroutinefunction(view) or bool(getattr(view, "is_async", False))
            )
            self._async_views[endpoint] = known
        return known

    def _first_request_sync(self, ctx: RequestContext) -> None:
        with self._first_request_lock:
            if self._got_first_request:
                return
            ctx._enter_quietly()
            try:
                for func in self.before_first_request_funcs:
                    self.ensure_sync(func)()
            finally:
                ctx._leave_quietly()
            self._got_first_request = True

    async def _first_request_async(self, ctx: RequestContext) -> None:
        if self._first_request_alock is None:
            self._first_request_alock = asyncio.Lock()
        async with self._first_request_alock:
            if self._got_first_request:
                return
            ctx._enter_quietly()
            try:
                for func in self.before_first_request_funcs:
                    rv = func()
                    if inspect.isawaitable(rv):
                        await rv
            finally:
                ctx._leave_quietly()
            self._got_first_request = True

    # -- THE pipeline ------------------------------------------------------
    async def _run(self, ctx: RequestContext) -> Response:
        """Push, dispatch, finalize, tear down: the whole life of one request."""
        ctx.push()
        error: BaseException | None = None
        try:
            try:
                self._match(ctx)
                return await self._full_dispatch(ctx)
            except Exception as e:
                error = e
                if self._overridden("handle_exception"):
                    rv: Any = self.handle_exception(e)
                    if rv.__class__ is CoroutineType:
                        rv = await ctx.wait(rv)
                    if isinstance(rv, Response):
                        return rv
                    return await self._finalize(ctx, rv, from_error_handler=True)
                return await self._handle_exception(ctx, e)
        except BaseException as e:
            error = e
            raise
        finally:
            await self._teardown(ctx, error)

    def _match(self, ctx: RequestContext) -> None:
        request = ctx.request
        if request.url_rule is not None or request.routing_exception is not None:
            return
        if not request.host_is_valid:
            request.routing_exception = BadHost("The Host header is not a valid host.")
            return
        trusted = self.config["TRUSTED_HOSTS"]
        if trusted and not host_is_trusted(request.host, trusted):
            # As Flask 3.1: a 400 raised where routing errors are, so no view runs.
            host = request.host
            request.routing_exception = SecurityError(f"Host {host!r} is not trusted.")
            return
        url_map = self.url_map
        # The host is read only when routing depends on it; a redirect (rare)
        # is matched again with everything needed to write its absolute URL.
        if url_map.host_matching or self.subdomain_matching:
            host = request.host
            subdomain = self._subdomain(request)
        else:
            host = ""
            subdomain = url_map.default_subdomain or ""
        websocket = ctx.websocket is not None
        try:
            rule, args = url_map.match(
                request.path, request.method, host, subdomain=subdomain, websocket=websocket
            )
        except RequestRedirect:
            try:
                url_map.match(
                    request.path,
                    request.method,
                    host=request.host,
                    scheme=request.scheme,
                    script_name=request.root_path,
                    query_string=request.query_string.decode("latin-1"),
                    subdomain=subdomain,
                    websocket=websocket,
                )
            except HTTPException as e:
                request.routing_exception = e
        except WebsocketMismatch as e:
            # HTTP to a WebSocket route: 426; a handshake to an HTTP route: 400.
            if websocket:
                request.routing_exception = e
            else:
                note_websocket_under_wsgi(self, request)
                request.routing_exception = WebSocketUpgradeRequired()
        except HTTPException as e:
            request.routing_exception = e
        else:
            request.url_rule = rule
            request.view_args = args
            if self.before_body_funcs:
                self._check_before_body(request)

    def _check_before_body(self, request: Request) -> None:
        """Run the before_body functions; the first refusal becomes the routing error."""
        for func in self.before_body_funcs:
            try:
                func(request)
            except HTTPException as e:
                request.routing_exception = e
                return

    # -- THE WebSocket lifecycle, beside the HTTP one -------------------------
    async def handle_websocket(self, ctx: RequestContext) -> None:
        """Run one WebSocket connection through the pipeline's match, checks and hooks.

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
            raise TypeError("handle_websocket() needs a context whose 'websocket' is set.")
        ctx.on_loop = True
        if not self._got_first_request:
            await self._first_request_async(ctx)
        ctx.push()
        error: BaseException | None = None
        try:
            refusal = await self._websocket_refusal(ctx)
            if refusal is not None:
                await ws.refuse(self.make_response(refusal))
                return
            await self._run_websocket_handler(ctx)
        except WebSocketDisconnect:
            pass  # The peer left: a normal end.
        except Exception as e:
            error = await self._websocket_error(ctx, ws, e)
        except BaseException as e:
            error = e
            raise
        finally:
            if not ws.closed:
                await ws.close(1000)
            await self._teardown(ctx, error)

    async def _run_websocket_handler(self, ctx: RequestContext) -> None:
        """Call the handler, then the after_websocket functions (it returned normally)."""
        request = ctx.request
        rule: Rule = request.url_rule  # type: ignore[assignment]
        rv = self.view_functions[rule.endpoint](**request.view_args)  # type: ignore[arg-type]
        if rv.__class__ is CoroutineType:
            await rv
        for func in self.after_websocket_funcs:
            rv = func()
            if rv.__class__ is CoroutineType:
                await rv

    async def _websocket_error(
        self, ctx: RequestContext, ws: WebSocket, e: Exception
    ) -> Exception | None:
        """Answer an error of a connection; return it when teardown should see it."""
        if isinstance(e, HTTPException) and not ws.accepted:
            await ws.refuse(e.get_response())  # abort() before accept: its status.
            return None
        if not isinstance(e, HTTPException):
            self.logger.error("Exception on WebSocket %s", ctx.request.path, exc_info=e)
        if not ws.accepted:
            await ws.refuse(InternalServerError().get_response())
        elif not ws.closed:
            await ws.close(1011)  # Too late for a status: the socket is open.
        return e

    async def _websocket_refusal(self, ctx: RequestContext) -> Any:
        """Match and check a handshake; return what refuses it, or None to go on."""
        self._match(ctx)
        request = ctx.request
        if request.routing_exception is not None:
            return await self._handle_user_exception(ctx, request.routing_exception)
        if not self._origin_allowed(ctx):
            return Forbidden("The WebSocket handshake's Origin is not allowed.")
        try:
            if self.url_value_preprocessors or self.before_request_funcs:
                rv = await self._preprocess(ctx)
                if rv is not None:
                    return rv
            for func in self.before_websocket_funcs:
                rv = func()
                if rv.__class__ is CoroutineType:
                    rv = await rv
                if rv is not None:
                    return rv
        except HTTPException as e:  # abort(401) in a hook refuses as it answers HTTP.
            return await self._handle_user_exception(ctx, e)
        return None

    def _origin_allowed(self, ctx: RequestContext) -> bool:
        """The default Origin rule of a handshake (a missing Origin passes: not a browser)."""
        return check_origin(self.config["WEBSOCKET_ALLOWED_ORIGINS"], ctx.websocket)

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """A URL adapter bound to ``request`` (or to SERVER_NAME outside one), as Flask's.

        Extensions match or build with it (Flask-RESTful asks whether an error's URL
        belongs to its API). None outside a request without SERVER_NAME.
        """
        if request is not None:
            return self.url_map.bind(
                request.host,
                script_name=request.root_path,
                subdomain=self._subdomain(request),
                url_scheme=request.scheme,
                default_method=request.method,
                path_info=request.path,
                query_args=request.query_string.decode("latin-1"),
            )
        server_name = self.config["SERVER_NAME"]
        if server_name is None:
            return None
        return self.url_map.bind(
            server_name,
            script_name=self.config["APPLICATION_ROOT"],
            url_scheme=self.config["PREFERRED_URL_SCHEME"],
        )

    def _subdomain(self, request: Request) -> str | None:
        url_map = self.url_map
        if url_map.host_matching:
            return None
        if not self.subdomain_matching:
            return url_map.default_subdomain or ""
        server_name = self.config["SERVER_NAME"]
        host = request.host.lower()
        if not server_name:
            return url_map.default_subdomain or ""
        # As request.host, without the scheme's default port ("example.com:443" on https).
        server_name = server_name.lower().removesuffix(":443" if request.is_secure else ":80")
        if host == server_name:
            return ""
        if host.endswith("." + server_name):
            return host[: -len(server_name) - 1]
        # Often a request by IP address: a 404 on matching, with Werkzeug's warning.
        warnings.warn(
            f"Current server name {host!r} doesn't match configured server name {server_name!r}",
            stacklevel=2,
        )
        return "<invalid>"

    async def _full_dispatch(self, ctx: RequestContext) -> Response:
        if request_started.receivers:
            request_started.send(self, _async_wrapper=self.ensure_sync)
        unhandled: HTTPException | None = None
        try:
            rv = None
            if self.url_value_preprocessors or self.before_request_funcs:
                rv = await self._preprocess(ctx)
            if rv is None:
                unhandled = ctx.request.routing_exception
                # (A routing error goes through dispatch when handlers or debug checks apply.)
                if unhandled is None or self.error_handler_spec or self.debug:
                    unhandled = None
                    rv = await self._dispatch_request(ctx)
        except Exception as e:
            rv = await self._user_exception(ctx, e)
        if unhandled is not None:
            # A routing error (404, 405) with no handler registered anywhere:
            # answered without raising it, the most common error path.
            rv = await self._user_exception(ctx, unhandled)
        return await self._finalize(ctx, rv)

    async def _preprocess(self, ctx: RequestContext) -> Any:
        request = ctx.request
        names = (None, *reversed(request.blueprints))
        for name in names:
            for func in self.url_value_preprocessors.get(name, ()):
                rv = func(request.endpoint, request.view_args)
                if rv.__class__ is CoroutineType:
                    await ctx.wait(rv)
        for name in names:
            for func in self.before_request_funcs.get(name, ()):
                rv = func()
                if rv.__class__ is CoroutineType:
                    rv = await ctx.wait(rv)
                if rv is not None:
                    return rv
        return None

    def raise_routing_exception(self, request: Request) -> NoReturn:
        """Raise the request's routing error, as Flask does.

        In debug mode a 301/302 routing redirect of a request that may carry a
        form body raises :class:`~kettle.debughelpers.FormDataRoutingRedirect`
        instead, because the browser would drop the body.
        """
        error = request.routing_exception
        assert error is not None
        if (
            self.debug
            and isinstance(error, RequestRedirect)
            and error.code not in (307, 308)
            and request.method not in ("GET", "HEAD", "OPTIONS")
        ):
            from kettle.debughelpers import FormDataRoutingRedirect

            raise FormDataRoutingRedirect(request)
        raise error

    async def _dispatch_request(self, ctx: RequestContext) -> Any:
        request = ctx.request
        if request.routing_exception is not None:
            self.raise_routing_exception(request)
        rule: Rule = request.url_rule  # type: ignore[assignment]
        if request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
            return self.make_default_options_response(ctx)
        rv = self.view_functions[rule.endpoint](**request.view_args)  # type: ignore[arg-type]
        if rv.__class__ is CoroutineType:
            rv = await ctx.wait(rv)
        return rv

    def make_default_options_response(self, ctx: RequestContext | None = None) -> Response:
        """Return the automatic OPTIONS response with its ``Allow`` header."""
        request = cast(Request, (ctx or _cv.get()).request)
        methods = self.url_map.allowed_methods(
            request.path, host=request.host, subdomain=self._subdomain(request)
        )
        response = self.response_class()
        response.headers.set("Allow", ", ".join(sorted(methods)))
        return response

    # -- Flask's pipeline steps, one by one, for code that calls them -----
    def _request_context(self) -> RequestContext:
        """Return the current request context, matched; a clear error outside one."""
        ctx = _cv.get(None)
        if not isinstance(ctx, RequestContext):
            raise RuntimeError(
                "This method can only be called when a request context is active,"
                " such as in a view function or 'app.test_request_context()'."
            )
        self._match(ctx)
        return ctx

    def full_dispatch_request(self) -> Response:
        """Dispatch the current request: before-request hooks, view, error handlers, after."""
        ctx = self._request_context()
        if not self._got_first_request:
            self._first_request_sync(ctx)
        return cast(Response, _loops.drive(self._full_dispatch(ctx)))

    def preprocess_request(self) -> Any:
        """Run the URL value preprocessors and before-request hooks; a non-None return wins."""
        return _loops.drive(self._preprocess(self._request_context()))

    def dispatch_request(self) -> Any:
        """Call the view of the current request (routing errors are raised) and return its value."""
        return _loops.drive(self._dispatch_request(self._request_context()))

    def process_response(self, response: Response) -> Response:
        """Run the after-request hooks on ``response`` and save the session."""
        ctx = self._request_context()
        return cast(Response, _loops.drive(self._process_response(ctx, response)))

    async def _finalize(
        self, ctx: RequestContext, rv: Any, from_error_handler: bool = False
    ) -> Response:
        response = self.make_response(rv)
        try:
            response = await self._process_response(ctx, response)
            if request_finished.receivers:
                request_finished.send(self, _async_wrapper=self.ensure_sync, response=response)
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    async def _process_response(self, ctx: RequestContext, response: Response) -> Response:
        funcs: Iterable[Callable[..., Any]] = ctx._after_request_functions
        if self.after_request_funcs:
            request = ctx.request
            for name in chain(request.blueprints, (None,)):
                if name in self.after_request_funcs:
                    funcs = chain(funcs, reversed(self.after_request_funcs[name]))
        for func in funcs:
            rv = func(response)
            if rv.__class__ is CoroutineType:
                rv = await ctx.wait(rv)
            response = rv
        session = ctx._session
        if session is None:
            session = self._session_to_refresh(ctx)
        if session is not None and not self.session_interface.is_null_session(session):
            self.session_interface.save_session(self, session, response)
        return response

    def _session_to_refresh(self, ctx: RequestContext) -> Any:
        """Open an untouched session whose cookie came in, so a permanent one is refreshed.

        Flask opens the session on every request, and with SESSION_REFRESH_EACH_REQUEST
        re-sends a permanent session's cookie (with ``Vary: Cookie``) even when the view
        never read it. Kettle opens it lazily, so it does that here, only when the
        request carries the session cookie at all.
        """
        request = ctx.request
        # The raw header, read without building ``request.headers`` when not built yet:
        # one dict lookup under WSGI, a scan of the scope's byte pairs under ASGI.
        environ = request.environ
        scope = request.scope
        raw: str | None = None
        if environ:
            raw = environ.get("HTTP_COOKIE")
        elif scope is not None and "headers" not in request.__dict__:
            for name, value in scope["headers"]:
                if name == b"cookie":
                    raw = (
                        value.decode("latin-1")
                        if raw is None
                        else f"{raw}; {value.decode('latin-1')}"
                    )
        else:
            raw = request.headers.get("cookie")
        if not raw or not self.config["SESSION_REFRESH_EACH_REQUEST"]:
            return None
        if self.session_interface.get_cookie_name(self) not in raw:
            return None
        return ctx._open_session()

    async def _teardown(self, ctx: RequestContext, error: BaseException | None) -> None:
        """Run the teardown functions (awaiting async ones), then pop the context."""
        try:
            if self.teardown_request_funcs or request_tearing_down.receivers:
                await self._teardown_request(ctx.request, error, ctx.wait)
            if ctx._owns_app and (
                self.teardown_appcontext_funcs or appcontext_tearing_down.receivers
            ):
                await self._teardown_appcontext(error, ctx.wait)
            request = ctx.request
            preserve = request.environ.get(_PRESERVE) or (request.scope or _NO_SCOPE).get(_PRESERVE)
            if preserve is not None:
                preserve(ctx)  # The test client's ``with client:`` keeps the context.
            elif "files" in request.__dict__ and not getattr(ctx, "streaming", False):
                # Uploaded files' temporary files, as Flask's ctx.pop; a body streamed
                # with stream_with_context closes them when it ends.
                request.close()
        finally:
            ctx._leave_quietly()
            if ctx._owns_app and appcontext_popped.receivers:
                appcontext_popped.send(self, _async_wrapper=self.ensure_sync)

    async def _teardown_request(
        self, request: Request, error: BaseException | None, wait: Callable[[Any], Any]
    ) -> None:
        """The teardown_request functions, innermost blueprint first, then the signal."""
        for name in chain(request.blueprints, (None,)):
            for func in reversed(self.teardown_request_funcs.get(name, ())):
                rv = func(error)
                if rv.__class__ is CoroutineType:
                    await wait(rv)
        if request_tearing_down.receivers:
            request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=error)

    async def _teardown_appcontext(
        self, error: BaseException | None, wait: Callable[[Any], Any]
    ) -> None:
        """The teardown_appcontext functions, last registered first, then the signal."""
        for func in reversed(self.teardown_appcontext_funcs):
            rv = func(error)
            if rv.__class__ is CoroutineType:
                await wait(rv)
        if appcontext_tearing_down.receivers:
            appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=error)

    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        """Run the teardown_request functions (for contexts popped by hand)."""
        request = cast(Request, _cv.get().request)
        _loops.drive(self._teardown_request(request, exc, _run_here))

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run the teardown_appcontext functions (for contexts popped by hand)."""
        _loops.drive(self._teardown_appcontext(exc, _run_here))

    # -- errors ------------------------------------------------------------
    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP error should propagate like any other error (Flask's rules)."""
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and self.debug and isinstance(e, BadRequestKeyError):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    def _find_error_handler(
        self, e: BaseException, blueprints: list[str]
    ) -> Callable[..., Any] | None:
        code = e.code if isinstance(e, HTTPException) else None
        spec = self.error_handler_spec
        if not spec:
            return None
        for c in (code, None) if code is not None else (None,):
            for name in (*blueprints, None):
                handler_map = spec.get(name, {}).get(c)
                if not handler_map:
                    continue
                for cls in type(e).__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None

    async def _call_handler(
        self, ctx: RequestContext, handler: Callable[..., Any], e: BaseException
    ) -> Any:
        rv = handler(e)
        if rv.__class__ is CoroutineType:
            rv = await ctx.wait(rv)
        return rv

    def _overridden(self, name: str) -> bool:
        """True when ``handle_exception``/``handle_user_exception`` was replaced (on the error
        path only: Flask-RESTful assigns its wrapper to the app instance)."""
        return name in self.__dict__ or getattr(type(self), name) is not getattr(Kettle, name)

    def handle_user_exception(self, e: Exception) -> Any:
        """Answer an error raised by a view or a hook, as Flask's method of that name.

        Returns the registered handler's value or the HTTPException itself, or re-raises
        ``e``. Extensions may replace it (``app.handle_user_exception = wrapper``, as
        Flask-RESTful does); the request pipeline then calls theirs. Called directly
        while an async handler must be awaited on an event loop, it raises RuntimeError.
        """
        ctx = _cv.get()
        assert isinstance(ctx, RequestContext)
        return _loops.drive(self._handle_user_exception(ctx, e))

    def handle_exception(self, e: Exception) -> Response:
        """Turn an unhandled error into the 500 response (or re-raise it), as Flask's method.

        Replaceable like :meth:`handle_user_exception`; a replacement's return value is
        sent as it is when it is a Response, else made into one.
        """
        ctx = _cv.get()
        assert isinstance(ctx, RequestContext)
        return cast(Response, _loops.drive(self._handle_exception(ctx, e)))

    async def _user_exception(self, ctx: RequestContext, e: Exception) -> Any:
        if self._overridden("handle_user_exception"):
            rv = self.handle_user_exception(e)
            if rv.__class__ is CoroutineType:
                rv = await ctx.wait(rv)
            return rv
        return await self._handle_user_exception(ctx, e)

    async def _handle_user_exception(self, ctx: RequestContext, e: Exception) -> Any:
        request = ctx.request
        if not isinstance(e, HTTPException) and (kettle_e := as_kettle_exception(e)) is not None:
            # werkzeug.exceptions.NotFound and the like; a handler registered for a class
            # derived from one elsewhere (Flask-WTF's CSRFError) gets the error itself.
            own_handler = self._find_error_handler(e, request.blueprints)
            if own_handler is not None:
                return await self._call_handler(ctx, own_handler, e)
            e = kettle_e
        elif isinstance(e, ClientDisconnected):
            # Not the app's fault and not worth a traceback: one line per client.
            self.logger.info("Client disconnected during %s %s", request.method, request.path)
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            if e.code is None or isinstance(e, RequestRedirect):
                return e
            handler = self._find_error_handler(e, request.blueprints)
            return e if handler is None else await self._call_handler(ctx, handler, e)
        handler = self._find_error_handler(e, request.blueprints)
        if handler is None:
            raise e
        return await self._call_handler(ctx, handler, e)

    async def _handle_exception(self, ctx: RequestContext, e: Exception) -> Response:
        """Turn an unhandled error into a 500 (or re-raise it in testing and debug)."""
        if got_request_exception.receivers:
            got_request_exception.send(self, _async_wrapper=self.ensure_sync, exception=e)
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.testing or self.debug
        if propagate:
            raise e
        self.log_exception((type(e), e, e.__traceback__))
        server_error = InternalServerError(original_exception=e)
        request = ctx.request
        handler = self._find_error_handler(server_error, request.blueprints)
        rv: Any = server_error
        if handler is not None:
            rv = await self._call_handler(ctx, handler, server_error)
        return await self._finalize(ctx, rv, from_error_handler=True)

    def log_exception(
        self,
        exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> None:
        """Log an unhandled error with the request line, through ``app.logger``.

        Called (as Flask's) with ``sys.exc_info()``-style ``exc_info`` inside the
        request context; override it to log elsewhere or not at all.
        """
        request = cast(Request, _cv.get().request)
        self.logger.error(f"Exception on {request.path} [{request.method}]", exc_info=exc_info)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, Any]
    ) -> str:
        """Try ``url_build_error_handlers``; re-raise ``error`` when none returns a URL."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if rv is not None:
                    return rv
        if error is sys.exc_info()[1]:
            raise
        raise error

    # -- responses ---------------------------------------------------------
    def make_response(self, rv: Any) -> Response:
        """Convert a view's return value into a response object (every Flask form)."""
        status: Any = None
        headers: Any = None
        if rv.__class__ is tuple:
            length = len(rv)
            if length == 3:
                rv, status, headers = rv
            elif length == 2:
                if isinstance(rv[1], Headers | dict | tuple | list):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple. The tuple must have"
                    " the form (body, status, headers), (body, status), or (body, headers)."
                )
        if rv is None:
            request = _cv.get().request
            endpoint = request.endpoint if request is not None else None
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid response. The"
                " function either returned None or ended without a return statement."
            )
        kind = rv.__class__
        if kind is dict or kind is list:
            rv = self.json.response(rv)
        elif _is_body(rv):
            # The body and its status/headers in one construction: the common case.
            return self.response_class(rv, status=status, headers=headers)
        else:
            rv = self._coerce_response(rv)
        if status is not None:
            rv.status = status
        if headers:
            rv.headers.update(headers)
        return cast(Response, rv)

    def _coerce_response(self, rv: Any) -> Response:
        if isinstance(rv, Response):
            return rv
        if isinstance(rv, dict | list):
            return self.json.response(rv)
        if isinstance(rv, HTTPException):
            return cast(Response, rv.get_response())
        from kettle.http.response import Response as _BaseResponse

        if isinstance(rv, _BaseResponse):
            return cast(Response, rv)
        if isinstance(rv, BaseException) and (translated := as_kettle_exception(rv)) is not None:
            return cast(Response, translated.get_response())
        if is_wsgi_app(rv):
            # A WSGI application (a Werkzeug Response is one), as Flask's make_response.
            return cast(Response, from_wsgi_app(rv, _cv.get().request))
        raise TypeError(
            "The view function did not return a valid response. The return type must be"
            " a string, dict, list, tuple with headers or status, Response instance, or"
            f" WSGI callable, but it was a {type(rv).__name__}."
        )

    # -- URL building ------------------------------------------------------
    def inject_url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Run the url_defaults functions of the app and of the endpoint's blueprints."""
        names: Iterable[str | None] = (None,)
        if "." in endpoint:
            parts = endpoint.rpartition(".")[0].split(".")
            names = chain(names, (".".join(parts[:i]) for i in range(1, len(parts) + 1)))
        for name in names:
            for func in self.url_default_functions.get(name, ()):
                func(endpoint, values)

    def url_for(
        self,
        endpoint: str,
        /,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """Build the URL of ``endpoint`` (see ``kettle.url_for``)."""
        from kettle.http.urls import url_quote

        ctx = _cv.get(None)
        request = ctx.request if ctx is not None else None
        if request is not None:
            blueprint = request.blueprint
            if endpoint[:1] == ".":
                endpoint = f"{blueprint}{endpoint}" if blueprint is not None else endpoint[1:]
            if _external is None:
                _external = _scheme is not None
            scheme, host, script_name = request.scheme, request.host, request.root_path
            # The current subdomain decides whether a rule's URL is relative.
            subdomain = self._subdomain(request) if self.subdomain_matching else None
        else:
            if endpoint[:1] == ".":
                endpoint = endpoint[1:]
            server_name = self.config["SERVER_NAME"]
            if not server_name:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without 'SERVER_NAME'"
                    " configured. Also configure 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME'"
                    " as needed."
                )
            if _external is None:
                _external = True
            scheme = self.config["PREFERRED_URL_SCHEME"]
            host = server_name
            script_name = (self.config["APPLICATION_ROOT"] or "/").rstrip("/")
            subdomain = None
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        self.inject_url_defaults(endpoint, values)
        try:
            rv = self.url_map.build(
                endpoint,
                values,
                _method,
                url_scheme=_scheme or scheme,
                host=host,
                script_name=script_name,
                force_external=_external,
                subdomain=subdomain,
            )
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            rv = f"{rv}#{url_quote(_anchor, safe='%!#$&' + chr(39) + '()*+,/:;=?@')}"
        return rv


#: Flask's name for the application base class (``flask.sansio.app.App``, also in
#: ``flask.app``): Kettle's application is one class, so it is ``Kettle`` itself.
#: Extensions type-check against it (Flask-SQLAlchemy-Lite imports it).
App = Kettle
