"""The development server: ``kettle run`` and ``app.run()`` on uvicorn, with an access log.

The server speaks ASGI (``app.asgi``), so server push and WebSocket work in
development as in production. uvicorn's reloader (watchfiles) needs an
import string, so with reload on the app is named in ``KETTLE_SERVE_APP``
and each worker process loads it through ``kettle.serving:_reload_app``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from kettle.app import Kettle

#: Names the app (``--app`` syntax) for the reloader's worker processes.
_SERVE_APP_ENV = "KETTLE_SERVE_APP"

access_logger = logging.getLogger("kettle.serving")

# Status classes to terminal colours, as Werkzeug's request log colours them.
_STATUS_COLOURS = {1: None, 2: None, 3: "cyan", 4: "yellow", 5: "red"}


def show_server_banner(debug: bool, app_name: str) -> None:
    """Print Flask's start-up lines: which app is served and whether debug mode is on."""
    click.echo(f" * Serving Kettle app '{app_name}'")
    click.echo(f" * Debug mode: {'on' if debug else 'off'}")


def _format_size(size: int) -> str:
    return str(size) if size else "-"


class AccessLogMiddleware:
    """ASGI middleware writing one line per request: client, request line, status, size, time."""

    def __init__(self, app: Callable[..., Any], colour: bool | None = None) -> None:
        self.app = app
        self.colour = sys.stderr.isatty() if colour is None else colour

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        size = 0

        async def logging_send(message: dict[str, Any]) -> None:
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

    def log(self, scope: dict[str, Any], status: int, size: int, duration: float) -> None:
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


def _asgi_for(app: Kettle) -> Callable[..., Any]:
    _configure_access_log()
    return AccessLogMiddleware(app.asgi)


def _reload_app() -> Callable[..., Any]:
    """Load the app named in ``KETTLE_SERVE_APP`` (the reloader's worker factory)."""
    from kettle.cli import ScriptInfo

    info = ScriptInfo(app_import_path=os.environ.get(_SERVE_APP_ENV) or None)
    return _asgi_for(info.load_app())


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
    cert: str | None = None,
    key: str | None = None,
    extra_files: tuple[str, ...] = (),
    exclude_patterns: tuple[str, ...] = (),
) -> None:
    """Serve ``app.asgi`` with uvicorn until interrupted; reload on code changes when asked."""
    import uvicorn

    scheme = "https" if cert else "http"
    display_host = f"[{host}]" if ":" in host else host
    click.echo(f" * Running on {scheme}://{display_host}:{port}")
    click.echo("Press CTRL+C to quit")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,  # Ours, with size and duration, replaces uvicorn's.
        "ssl_certfile": cert,
        "ssl_keyfile": key,
        "lifespan": "on",
    }
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


def _split_paths(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(item for item in value.split(os.pathsep) if item)


@click.command("run", short_help="Run a development server.")
@click.option("--host", "-h", default="127.0.0.1", help="The interface to bind to.")
@click.option("--port", "-p", default=5000, type=int, help="The port to bind to.")
@click.option(
    "--cert", type=click.Path(exists=True, dir_okay=False), help="An SSL certificate file."
)
@click.option(
    "--key", type=click.Path(exists=True, dir_okay=False), help="The key file for --cert."
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Restart the server when code changes. On by default in debug mode.",
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    help="Show the debug page on unhandled errors. On by default in debug mode.",
)
@click.option(
    "--extra-files",
    default=None,
    callback=_split_paths,
    help=f"Extra files that restart the server when changed, separated by {os.pathsep!r}.",
)
@click.option(
    "--exclude-patterns",
    default=None,
    callback=_split_paths,
    help=f"Glob patterns of files the reloader ignores, separated by {os.pathsep!r}.",
)
@click.option("--debug/--no-debug", "debug_flag", default=None, help="Set debug mode.")
@click.pass_context
def run_command(
    ctx: click.Context,
    host: str,
    port: int,
    cert: str | None,
    key: str | None,
    reload: bool | None,
    debugger: bool | None,
    extra_files: tuple[str, ...],
    exclude_patterns: tuple[str, ...],
    debug_flag: bool | None,
) -> None:
    """Run a local development server (uvicorn, serving the app's ASGI side).

    The reloader and the debug page are on when debug mode is on. This server
    is for development: use gunicorn or uvicorn workers in production.
    """
    from kettle.cli import ScriptInfo

    if key and not cert:
        raise click.BadParameter('"--cert" must also be specified.', ctx, param_hint="'--key'")
    if cert and not key:
        raise click.BadParameter('"--key" is required with "--cert".', ctx, param_hint="'--cert'")
    if debug_flag is not None:
        os.environ["KETTLE_DEBUG"] = "1" if debug_flag else "0"
    info = ctx.ensure_object(ScriptInfo)
    app = info.load_app()
    if debugger is not None:
        app.debug = debugger  # The page is shown exactly when app.debug is on.
        os.environ["KETTLE_DEBUG"] = "1" if debugger else "0"
    debug = bool(app.debug)
    if reload is None:
        reload = debug
    show_server_banner(debug, app.name)
    if debug:
        click.echo(" * Debug page is active!")
    run_server(
        app,
        info.app_import_path,
        host=host,
        port=port,
        reload=reload,
        cert=cert,
        key=key,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
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
    show_server_banner(bool(app.debug), app.name)
    run_server(
        app,
        import_path,
        host=host,
        port=port,
        reload=reload,
        cert=options.get("ssl_certfile"),
        key=options.get("ssl_keyfile"),
        extra_files=tuple(options.get("extra_files") or ()),
        exclude_patterns=tuple(options.get("exclude_patterns") or ()),
    )


def _attribute_name(module: Any, app: Kettle) -> str | None:
    for name, value in vars(module).items():
        if value is app:
            return str(name)
    return None
