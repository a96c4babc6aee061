"""The Kettle application: configuration, registries, decorators (setup only).

``Kettle`` holds what an app is made of: its config, its URL map, its view
functions, hooks and error handlers (registered through the decorators of
``Scaffold``), and thin public methods. Serving a request is elsewhere:
the adapters (``kettle.adapters``) translate the server's input, the
lifecycle is ``kettle.pipeline``, user code is called by ``kettle.runner``
and a view's return value becomes a response in ``kettle.return_values``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterable, Iterator
from datetime import timedelta
from functools import cached_property
from itertools import chain
from types import FunctionType, TracebackType
from typing import IO, TYPE_CHECKING, Any, NoReturn, cast

from kettle import _loops, pipeline, teardown
from kettle.adapters.wsgi import serve as _serve_wsgi
from kettle.config import DEFAULT_CONFIG, Config, ConfigAttribute
from kettle.ctx import AppContext, RequestContext, _AppCtxGlobals, _cv, _MatchingRequestContext
from kettle.error_handling import handle_user_exception, routing_error, traps_http_exception
from kettle.helpers import get_debug_flag
from kettle.http.exceptions import Aborter
from kettle.json import DefaultJSONProvider, JSONProvider
from kettle.return_values import make_response
from kettle.routing import BuildError, Map, MapAdapter, Rule
from kettle.runner import ON_LOOP, to_sync
from kettle.scaffold import Scaffold, _endpoint_from_view_func, find_package, setupmethod
from kettle.sessions import SecureCookieSessionInterface, SessionInterface
from kettle.templating import TemplatingMixin, _default_template_ctx_processor
from kettle.url_building import build_url, url_adapter, url_build_error
from kettle.wrappers import Request, Response

if TYPE_CHECKING:
    import logging

    from kettle.blueprints import Blueprint
    from kettle.cli import AppGroup
    from kettle.testing import KettleClient, KettleCliRunner
    from kettle.typing import ASGIApplication, StartResponse, WSGIEnvironment


def _as_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class StaticHostError(ValueError, AssertionError):
    """``static_host`` given without ``host_matching`` (or the reverse).

    A ValueError (misuse), and an AssertionError as Flask's check is an assert.
    """


def _static_view(app_ref: weakref.ref[Kettle]) -> Callable[..., Response]:
    """The ``static`` endpoint's view, holding the app weakly (no app<->view cycle)."""

    def static(filename: str) -> Response:
        app = app_ref()
        assert app is not None
        return app.send_static_file(filename)

    return static


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
    #: The classes ``test_client()`` and ``test_cli_runner()`` make (None: Kettle's own).
    test_client_class: type[KettleClient] | None = None
    test_cli_runner_class: type[KettleCliRunner] | None = None

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
        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise StaticHostError(
                    "Invalid static_host/host_matching combination: static_host is needed"
                    " exactly when host_matching is on."
                )
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=_static_view(weakref.ref(self)),
            )

    @cached_property
    def asgi(self) -> ASGIApplication:
        """The ASGI 3 application (``uvicorn module:app.asgi``), made on first use; wrap it."""
        from kettle.adapters.asgi import ASGIAdapter

        return ASGIAdapter(self)

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
        # Kettle's route options (stream_body, inline): see Scaffold._pop_route_options.
        stream_body, inline = self._pop_route_options(options, view_func)
        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options
        rule_obj.stream_body = stream_body
        rule_obj.inline = inline
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
                await ON_LOOP.call(func)

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

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        """Return a request context for a WSGI environ."""
        from kettle.adapters.wsgi import request_from_environ

        return _MatchingRequestContext(self, request_from_environ(self, environ))

    def test_request_context(self, *args: Any, **kwargs: Any) -> RequestContext:
        """Return a request context for a made-up request (EnvironBuilder arguments)."""
        from kettle.adapters.environ import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        return self.request_context(builder.get_environ())

    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> KettleClient:
        """Return a test client; ``protocol="asgi"`` drives the ASGI side."""
        from kettle.testing import KettleClient

        cls = self.test_client_class or KettleClient
        return cls(self, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: Any) -> KettleCliRunner:
        """Return a CLI runner whose ``invoke(args)`` runs ``app.cli`` with this app."""
        from kettle.testing import KettleCliRunner

        cls = self.test_cli_runner_class or KettleCliRunner
        return cls(self, **kwargs)

    # -- the WSGI entry points ---------------------------------------------
    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application; wrap this attribute to add WSGI middleware."""
        return _serve_wsgi(self, environ, start_response, True)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # Through ``self.wsgi_app`` when it was wrapped or overridden (the adapter tells).
        return _serve_wsgi(self, environ, start_response)

    if not TYPE_CHECKING and isinstance(_serve_wsgi, FunctionType):  # Not compiled (mypyc):
        __call__ = _serve_wsgi  # then it binds as the method itself (one frame fewer).

    # -- running user code (kettle.runner) and the lifecycle (kettle.pipeline) --
    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``func``, or for an async function a sync wrapper that runs it."""
        return to_sync(func)

    def async_to_sync(self, func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        """Wrap a coroutine function to run to the end from sync code."""
        return to_sync(func)

    def _request_context(self) -> RequestContext:
        """Return the current request context, matched; a clear error outside one."""
        ctx = _cv.get(None)
        if not isinstance(ctx, RequestContext):
            raise RuntimeError(
                "This method can only be called when a request context is active,"
                " such as in a view function or 'app.test_request_context()'."
            )
        pipeline.match(self, ctx)
        return ctx

    def full_dispatch_request(self) -> Response:
        """Dispatch the current request: before-request hooks, view, error handlers, after."""
        ctx = self._request_context()
        if not self._got_first_request:
            pipeline.first_request_sync(self, ctx)
        return cast(Response, _loops.drive(pipeline.full_dispatch(self, ctx)))

    def preprocess_request(self) -> Any:
        """Run the URL value preprocessors and before-request hooks; a non-None return wins."""
        ctx = self._request_context()
        return _loops.drive(pipeline.preprocess(self, ctx))

    def dispatch_request(self) -> Any:
        """Call the view of the current request (routing errors are raised) and return its value."""
        return _loops.drive(pipeline.dispatch(self, self._request_context()))

    def process_response(self, response: Response) -> Response:
        """Run the after-request hooks on ``response`` and save the session."""
        ctx = self._request_context()
        return cast(Response, _loops.drive(pipeline.process_response(self, ctx, response)))

    def make_default_options_response(self, ctx: RequestContext | None = None) -> Response:
        """Return the automatic OPTIONS response with its ``Allow`` header."""
        return pipeline.default_options_response(self, cast(Request, (ctx or _cv.get()).request))

    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        """Run the teardown_request functions (for contexts popped by hand)."""
        ctx = _cv.get()
        request = cast(Request, ctx.request)
        _loops.drive(teardown.teardown_request(self, request, exc, ctx.runner))

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run the teardown_appcontext functions (for contexts popped by hand)."""
        runner = _cv.get().runner
        _loops.drive(teardown.teardown_appcontext(self, exc, runner))

    # -- errors ------------------------------------------------------------
    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP error should propagate like any other error (Flask's rules)."""
        return traps_http_exception(self, e)

    def handle_user_exception(self, e: Exception) -> Any:
        """Answer an error raised by a view or a hook, as Flask's method of that name.

        Returns the registered handler's value or the HTTPException itself, or re-raises
        ``e``. Extensions may replace it (``app.handle_user_exception = wrapper``, as
        Flask-RESTful does); the pipeline then calls theirs. Called directly while an
        async handler must be awaited on an event loop, it raises RuntimeError.
        """
        ctx = self._request_context()
        return _loops.drive(handle_user_exception(self, ctx, e))

    def handle_exception(self, e: Exception) -> Response:
        """Turn an unhandled error into the 500 response (or re-raise it), as Flask's method.

        Replaceable like ``handle_user_exception``; a replacement's return value is
        sent as it is when it is a Response, else made into one.
        """
        ctx = self._request_context()
        return cast(Response, _loops.drive(pipeline.handle_exception(self, ctx, e)))

    def raise_routing_exception(self, request: Request) -> NoReturn:
        """Raise the request's routing error, as Flask does (a debug-mode check first)."""
        raise routing_error(self, request)

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
        return url_build_error(self, error, endpoint, values)

    # -- responses ---------------------------------------------------------
    #: Convert a view's return value into a response object (every Flask form); see
    #: ``kettle.return_values`` for the table. The function itself, not a method that
    #: calls it: one call less for every response.
    make_response = make_response

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

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """A URL adapter bound to ``request`` (or to SERVER_NAME outside one), as Flask's.

        Extensions match or build with it (Flask-RESTful asks whether an error's URL
        belongs to its API). None outside a request without SERVER_NAME.
        """
        return url_adapter(self, request)

    def url_for(self, endpoint: str, /, **values: Any) -> str:
        """Build the URL of ``endpoint`` (see ``kettle.url_for`` and ``kettle.url_building``).

        Takes ``_anchor``, ``_method``, ``_scheme`` and ``_external`` besides
        the rule's values; unknown values become the query string.
        """
        return build_url(self, endpoint, **values)


#: Flask's name for the application base class (``flask.sansio.app.App``, also in
#: ``flask.app``): Kettle's application is one class, so it is ``Kettle`` itself.
#: Extensions type-check against it (Flask-SQLAlchemy-Lite imports it).
App = Kettle
