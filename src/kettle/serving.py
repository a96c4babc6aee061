"""The development server: ``kettle run`` and ``app.run()`` on uvicorn, with an access log.

The server speaks ASGI (``app.asgi``), so server push and WebSocket work in
development as in production. uvicorn's reloader (watchfiles) needs an
import string, so with reload on the app is named in ``KETTLE_SERVE_APP``
and each worker process loads it through ``kettle.serving:_reload_app``.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import ssl

    from kettle.app import Kettle
    from kettle.typing import ASGIApplication, Message, Receive, Scope, Send

#: Names the app (``--app`` syntax) for the reloader's worker processes.
_SERVE_APP_ENV = "KETTLE_SERVE_APP"
#: Tells the reloader's workers whether to show the debug page ("1") or not.
_DEBUGGER_ENV = "KETTLE_USE_DEBUGGER"

access_logger = logging.getLogger("kettle.serving")

# Status classes to terminal colours, as Werkzeug's request log colours them.
_STATUS_COLOURS = {1: None, 2: None, 3: "cyan", 4: "yellow", 5: "red"}


def show_server_banner(debug: bool, app_name: str) -> None:
    """Print Flask's start-up lines: which app is served and whether debug mode is on."""
    click.echo(f" * Serving Kettle app '{app_name}'")
    click.echo(f" * Debug mode: {'on' if debug else 'off'}")


def ensure_port_free(host: str, port: int) -> None:
    """Exit with Flask's message, before any banner, when ``host:port`` cannot be bound."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the server will bind: reuse a port left in TIME_WAIT, refuse one in use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                message = (
                    f"Address already in use\nPort {port} is in use by another program. Either"
                    " identify and stop that program, or start the server with a different"
                    " port (--port)."
                )
            else:
                message = f"Cannot listen on {host}:{port}: {e.strerror or e}."
            click.secho(message, fg="red", err=True)
            sys.exit(1)


def _format_size(size: int) -> str:
    return str(size) if size else "-"


class AccessLogMiddleware:
    """ASGI middleware writing one line per request: client, request line, status, size, time."""

    def __init__(self, app: ASGIApplication, colour: bool | None = None) -> None:
        self.app = app
        self.colour = sys.stderr.isatty() if colour is None else colour

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        size = 0

        async def logging_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            self.log(scope, status or 500, size, time.perf_counter() - start)

    def log(self, scope: Scope, status: int, size: int, duration: float) -> None:
        """Write the line for one finished request."""
        client = scope.get("client")
        address = f"{client[0]}:{client[1]}" if client else "-"
        path = scope.get("raw_path") or scope["path"].encode("utf-8")
        if isinstance(path, bytes):
            path = path.decode("latin-1")
        query = scope.get("query_string", b"")
        if query:
            path = f"{path}?{query.decode('latin-1')}"
        request_line = f"{scope['method']} {path} HTTP/{scope.get('http_version', '1.1')}"
        text = f"{status} {_format_size(size)} {duration * 1000:.1f}ms"
        colour = _STATUS_COLOURS.get(status // 100) if self.colour else None
        if colour is not None:
            text = click.style(text, fg=colour, bold=True if status >= 500 else None)
        access_logger.info('%s - "%s" %s', address, request_line, text)


def _configure_access_log() -> None:
    if not access_logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_logger.addHandler(handler)
    access_logger.setLevel(logging.INFO)
    access_logger.propagate = False


def _asgi_for(app: Kettle) -> ASGIApplication:
    _configure_access_log()
    return AccessLogMiddleware(app.asgi)


def _reload_app() -> Callable[..., Any]:
    """Load the app named in ``KETTLE_SERVE_APP`` (the reloader's worker factory)."""
    from kettle.cli import ScriptInfo

    info = ScriptInfo(app_import_path=os.environ.get(_SERVE_APP_ENV) or None)
    use_debugger = os.environ.get(_DEBUGGER_ENV) == "1"
    try:
        app = info.load_app()
    except Exception as e:
        # A syntax error saved while the reloader runs: serve the error until the next change
        # restarts this worker (as Flask's reloader does), instead of refusing connections.
        app = _load_error_app(e, use_debugger)
    app.use_debugger = use_debugger
    return _asgi_for(app)


def _load_error_app(error: Exception, use_debugger: bool) -> Kettle:
    """An app answering every request with ``error`` (the debug page names file and line)."""
    import traceback

    from kettle.app import Kettle

    click.secho(" * The app could not be loaded; fix it and save to reload:", fg="red", err=True)
    click.echo("".join(traceback.format_exception(error)), err=True)
    stand_in = Kettle("kettle_load_error")
    stand_in.debug = use_debugger
    original = error.__traceback__
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @stand_in.route("/", defaults={"path": ""}, methods=methods)
    @stand_in.route("/<path:path>", methods=methods)
    def load_failed(path: str) -> None:
        raise error.with_traceback(original)

    return stand_in


def _watch_root(app: Kettle) -> str:
    """The directory holding the app's top-level package or module: the tree to watch."""
    top = sys.modules.get(app.import_name.partition(".")[0])
    filename: str | None = getattr(top, "__file__", None)
    if not filename:
        return os.getcwd()
    directory = os.path.dirname(os.path.abspath(filename))
    if os.path.basename(filename) == "__init__.py":
        directory = os.path.dirname(directory)  # Watch the package and its siblings.
    return directory


def run_server(
    app: Kettle,
    import_path: str | None,
    host: str = "127.0.0.1",
    port: int = 5000,
    reload: bool = False,
    ssl_context: Any = None,
    extra_files: Iterable[str] = (),
    exclude_patterns: Iterable[str] = (),
    use_debugger: bool | None = None,
) -> None:
    """Serve ``app.asgi`` with uvicorn until interrupted; reload on code changes when asked.

    ``use_debugger`` (default: debug mode) shows the debug page for errors
    that propagate in debug mode.

    ``ssl_context`` turns HTTPS on: a ``(cert_file, key_file)`` pair (the key
    may be None when the certificate file holds it), ``"adhoc"`` or an
    ``ssl.SSLContext``, as for Flask's ``app.run``.
    """
    import uvicorn

    if use_debugger is None:
        use_debugger = bool(app.debug)
    app.use_debugger = use_debugger
    os.environ[_DEBUGGER_ENV] = "1" if use_debugger else "0"
    scheme = "https" if ssl_context is not None else "http"
    display_host = f"[{host}]" if ":" in host else host
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,  # Ours, with size and duration, replaces uvicorn's.
        "lifespan": "on",
    }
    context = _tls_options(ssl_context, reload, options)
    click.echo(f" * Running on {scheme}://{display_host}:{port}")
    click.echo("Press CTRL+C to quit")
    if context is not None:
        # uvicorn builds its context from files; a ready one is installed after load().
        config = uvicorn.Config(_asgi_for(app), **options)
        config.load()
        config.ssl = context
        uvicorn.Server(config).run()
        return
    if not reload:
        uvicorn.run(_asgi_for(app), **options)
        return
    click.echo(" * Restarting with watchfiles")
    os.environ[_SERVE_APP_ENV] = import_path or ""
    reload_dirs = [_watch_root(app)]
    includes = ["*.py"]
    for name in extra_files:
        path = os.path.abspath(name)
        reload_dirs.append(os.path.dirname(path))
        includes.append(os.path.basename(path))
    uvicorn.run(
        "kettle.serving:_reload_app",
        factory=True,
        reload=True,
        reload_dirs=sorted(set(reload_dirs)),
        reload_includes=includes,
        reload_excludes=list(exclude_patterns) or None,
        **options,
    )


# -- HTTPS ------------------------------------------------------------------------
def _tls_options(ssl_context: Any, reload: bool, options: dict[str, Any]) -> ssl.SSLContext | None:
    """Put the certificate files for ``ssl_context`` in ``options``; return a ready context."""
    import ssl

    if ssl_context is None:
        return None
    if isinstance(ssl_context, ssl.SSLContext):
        if reload:
            raise click.UsageError(
                "An ssl.SSLContext cannot be handed to the reloader's worker processes: pass"
                " certificate files, or turn the reloader off with '--no-reload'."
            )
        return ssl_context
    if ssl_context == "adhoc":
        # mkdtemp's directory is private (0700); it lives as long as this process.
        directory = tempfile.mkdtemp(prefix="kettle-tls-")
        atexit.register(shutil.rmtree, directory, True)
        ssl_context = _adhoc_certificate(directory)
    if not isinstance(ssl_context, tuple | list) or len(ssl_context) != 2:
        raise TypeError(
            "ssl_context must be a (cert_file, key_file) pair, 'adhoc' or an ssl.SSLContext."
        )
    options["ssl_certfile"], options["ssl_keyfile"] = ssl_context
    return None


def _adhoc_certificate(directory: str) -> tuple[str, str]:
    """Write a throw-away self-signed certificate for localhost and its key; return the paths."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kettle ad-hoc certificate"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    addresses = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), *(x509.IPAddress(address) for address in addresses)]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "adhoc.crt")
    key_path = os.path.join(directory, "adhoc.key")
    with open(cert_path, "wb") as f:
        f.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class CertParamType(click.Path):
    """``--cert``: a certificate file, ``adhoc``, or the import name of an ``ssl.SSLContext``.

    ``adhoc`` serves a throw-away self-signed certificate and needs the
    ``cryptography`` package. Files are resolved to absolute paths.
    """

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, resolve_path=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the absolute file path, ``"adhoc"`` or the imported ``SSLContext``."""
        try:
            import ssl
        except ImportError:  # A Python built without OpenSSL.
            self.fail('Using "--cert" requires Python to be compiled with SSL support.', param, ctx)
        if isinstance(value, ssl.SSLContext):
            return value
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            if str(value).lower() == "adhoc":
                try:
                    import cryptography  # noqa: F401
                except ImportError:
                    self.fail(
                        "Using ad-hoc certificates requires the cryptography library.", param, ctx
                    )
                return "adhoc"
            from kettle.utils import import_string

            if isinstance(found := import_string(str(value), silent=True), ssl.SSLContext):
                return found
            raise


def _pair_key_with_cert(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Check ``--key`` against ``--cert`` (eager, so parsed first); make ``cert`` the pair."""
    cert = ctx.params.get("cert")
    cert_is_file = isinstance(cert, str) and cert != "adhoc"
    if value is None:
        if cert_is_file:
            raise click.BadParameter('"--key" is required with "--cert".', ctx, param)
        return
    if cert is None:
        raise click.BadParameter('"--cert" must also be specified.', ctx, param)
    if not cert_is_file:
        kind = '"adhoc"' if cert == "adhoc" else "an SSLContext object"
        raise click.BadParameter(f'When "--cert" is {kind}, "--key" is not used.', ctx, param)
    ctx.params["cert"] = (cert, value)


class SeparatedPathType(click.Path):
    """A list of paths in one value, separated by ``os.pathsep``; each is checked as a ``Path``."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Split ``value`` and convert each item; return the list."""
        if isinstance(value, list):
            return value
        convert_one = super().convert
        return [convert_one(item, param, ctx) for item in self.split_envvar_value(value)]


def _run_env(name: str) -> list[str]:
    """``KETTLE_RUN_<name>``, then Flask's ``FLASK_RUN_<name>`` (a ``.flaskenv`` keeps working)."""
    return [f"KETTLE_RUN_{name}", f"FLASK_RUN_{name}"]


@click.command("run", short_help="Run a development server.")
@click.option(
    "--host", "-h", default="127.0.0.1", envvar=_run_env("HOST"), help="The interface to bind to."
)
@click.option(
    "--port", "-p", default=5000, type=int, envvar=_run_env("PORT"), help="The port to bind to."
)
@click.option(
    "--cert",
    envvar=_run_env("CERT"),
    type=CertParamType(),
    is_eager=True,
    help="Serve HTTPS: a certificate file, 'adhoc', or the import name of an ssl.SSLContext.",
)
@click.option(
    "--key",
    envvar=_run_env("KEY"),
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    callback=_pair_key_with_cert,
    expose_value=False,
    help="The key file for a --cert certificate file.",
)
@click.option(
    "--reload/--no-reload",
    envvar=_run_env("RELOAD"),
    default=None,
    help="Restart the server when code changes. On by default in debug mode.",
)
@click.option(
    "--debugger/--no-debugger",
    envvar=_run_env("DEBUGGER"),
    default=None,
    help="Show the debug page on unhandled errors. On by default in debug mode.",
)
@click.option(
    "--extra-files",
    envvar=_run_env("EXTRA_FILES"),
    default=None,
    type=SeparatedPathType(),
    help=f"Extra files that restart the server when changed, separated by {os.pathsep!r}.",
)
@click.option(
    "--exclude-patterns",
    envvar=_run_env("EXCLUDE_PATTERNS"),
    default=None,
    type=SeparatedPathType(),
    help=f"Glob patterns of files the reloader ignores, separated by {os.pathsep!r}.",
)
@click.option("--debug/--no-debug", "debug_flag", default=None, help="Set debug mode.")
@click.pass_context
def run_command(
    ctx: click.Context,
    host: str,
    port: int,
    cert: Any,
    reload: bool | None,
    debugger: bool | None,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
    debug_flag: bool | None,
) -> None:
    """Run a local development server (uvicorn, serving the app's ASGI side).

    The reloader and the debug page are on when debug mode is on. This server
    is for development: use gunicorn or uvicorn workers in production.
    """
    from kettle.cli import ScriptInfo

    if debug_flag is not None:
        os.environ["KETTLE_DEBUG"] = "1" if debug_flag else "0"
    info = ctx.ensure_object(ScriptInfo)
    app = info.load_app()
    debug = bool(app.debug)
    if reload is None:
        reload = debug
    if debugger is None:
        debugger = debug
    ensure_port_free(host, port)
    show_server_banner(debug, app.name)
    if debug and debugger:
        click.echo(" * Debug page is active!")
    run_server(
        app,
        info.app_import_path,
        host=host,
        port=port,
        reload=reload,
        ssl_context=cert,
        extra_files=extra_files or (),
        exclude_patterns=exclude_patterns or (),
        use_debugger=debugger,
    )


def run_app(
    app: Kettle,
    host: str | None = None,
    port: int | None = None,
    debug: bool | None = None,
    load_dotenv: bool = True,
    **options: Any,
) -> None:
    """Run ``app`` on the development server (``app.run``); refuse inside ``kettle run``."""
    from kettle import cli

    if os.environ.get("KETTLE_RUN_FROM_CLI") == "true":
        click.secho(
            " * Ignoring a call to 'app.run()' that would block the current 'kettle' CLI"
            " command.\n   Only call 'app.run()' in an 'if __name__ == \"__main__\"' guard.",
            fg="red",
        )
        return
    if cli.get_load_dotenv(load_dotenv):
        cli.load_dotenv()
        if cli._env("DEBUG") is not None:
            app.debug = cli.get_debug_flag()
    if debug is not None:
        app.debug = bool(debug)
    server_name = app.config.get("SERVER_NAME")
    sn_host, _, sn_port = (server_name or "").partition(":")
    host = host or sn_host or "127.0.0.1"
    if not port and port != 0:
        port = int(sn_port) if sn_port else 5000
    reload = bool(options.pop("use_reloader", options.pop("reload", app.debug)))
    import_path = None
    if reload:
        # The reloader's workers import the script by path, so its __main__ guard stays shut.
        # An import name that is no loaded module (``Kettle("name")`` in a script) counts
        # as the script; when the app cannot be found again, there is no reloading.
        main = sys.modules.get("__main__")
        script = getattr(main, "__file__", None)
        module = sys.modules.get(app.import_name) if app.import_name != "__main__" else None
        if module is not None:
            import_path = f"{app.import_name}:{_attribute_name(module, app) or 'app'}"
        elif script and (app.import_name == "__main__" or _attribute_name(main, app)):
            import_path = f"{script}:{_attribute_name(main, app) or 'app'}"
        else:
            reload = False
    if reload:
        os.environ["KETTLE_RUN_FROM_CLI"] = "true"
        os.environ["KETTLE_DEBUG"] = "1" if app.debug else "0"
    ssl_context = options.get("ssl_context")
    if ssl_context is None and options.get("ssl_certfile"):
        ssl_context = (options["ssl_certfile"], options.get("ssl_keyfile"))
    ensure_port_free(host, port)
    show_server_banner(bool(app.debug), app.name)
    run_server(
        app,
        import_path,
        host=host,
        port=port,
        reload=reload,
        ssl_context=ssl_context,
        extra_files=options.get("extra_files") or (),
        exclude_patterns=options.get("exclude_patterns") or (),
        use_debugger=options.get("use_debugger"),
    )


def _attribute_name(module: Any, app: Kettle) -> str | None:
    for name, value in vars(module).items():
        if value is app:
            return str(name)
    return None
