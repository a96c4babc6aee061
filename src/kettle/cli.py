"""The ``kettle`` command: app discovery, ``run``, ``routes``, ``shell`` and custom commands.

Theory of operation: ``kettle`` is a ``KettleGroup``. Its eager options
(``--env-file``, ``--app``, ``--debug``) run before any subcommand: they load
the dotenv files and record where the app is in the context's ``ScriptInfo``.
The app is imported only when a command needs it (``with_appcontext``, or an
unknown command name that may be one of ``app.cli``'s), so ``kettle --help``
works without one.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import sys
import traceback
from collections.abc import Callable
from functools import update_wrapper
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from kettle.app_discovery import NoAppException as NoAppException
from kettle.app_discovery import find_app_by_string as find_app_by_string
from kettle.app_discovery import find_best_app as find_best_app
from kettle.app_discovery import locate_app as locate_app
from kettle.app_discovery import prepare_import as prepare_import
from kettle.helpers import _env as _env
from kettle.helpers import get_debug_flag as get_debug_flag
from kettle.helpers import get_load_dotenv as get_load_dotenv

# Flask's kettle.cli names for the run command and its option types live with the server.
from kettle.serving import CertParamType as CertParamType
from kettle.serving import SeparatedPathType as SeparatedPathType
from kettle.serving import run_command as run_command
from kettle.serving import show_server_banner as show_server_banner

if TYPE_CHECKING:
    from kettle.app import Kettle

F = TypeVar("F", bound=Callable[..., Any])

#: Dotenv files loaded by default, highest precedence first (``.flaskenv`` eases migration).
DOTENV_FILES = (".env", ".kettleenv", ".flaskenv")


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Load ``path``, then ``.env``, ``.kettleenv`` and ``.flaskenv`` into ``os.environ``.

    Variables already set win, so the precedence is: the real environment,
    then ``path``, then ``.env``, then ``.kettleenv``, then ``.flaskenv``.
    Return True when at least one file was loaded.
    """
    try:
        import dotenv
    except ImportError:  # As Flask: without python-dotenv, a no-op with a hint.
        if path or any(os.path.isfile(name) for name in DOTENV_FILES):
            click.secho(
                " * Tip: There are .env files present. Install python-dotenv to use them.",
                fg="yellow",
                err=True,
            )
        return False
    loaded = False
    if path is not None and os.path.isfile(path):
        loaded = dotenv.load_dotenv(path, encoding="utf-8", override=False) or loaded
    if not load_defaults:
        return loaded
    for name in DOTENV_FILES:
        found = dotenv.find_dotenv(name, usecwd=True)
        if found:
            dotenv.load_dotenv(found, encoding="utf-8", override=False)
            loaded = True
    return loaded


class ScriptInfo:
    """Where the app is and how to load it; the ``obj`` of every ``kettle`` command's context."""

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[..., Kettle] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = load_dotenv_defaults
        self.data: dict[Any, Any] = {}
        self._loaded_app: Kettle | None = None

    def load_app(self) -> Kettle:
        """Load the app once: the factory, ``--app``/``KETTLE_APP``, or wsgi.py/app.py."""
        if self._loaded_app is not None:
            return self._loaded_app
        app: Kettle | None = None
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            # Split on the first ':' that is not a Windows drive or path separator.
            parts = re.split(r":(?![\\/])", self.app_import_path, maxsplit=1)
            app = locate_app(prepare_import(parts[0]), parts[1] if len(parts) > 1 else None)
        else:
            tried = []
            for filename in ("wsgi.py", "app.py"):
                if not os.path.exists(filename):
                    tried.append(f"{filename} (no such file)")
                    continue
                app = locate_app(prepare_import(filename), None, raise_if_not_found=False)
                if app is not None:
                    break
                tried.append(f"{filename} (could not import)")
            if app is None:
                raise NoAppException(
                    "Could not locate a Kettle application. Tried: the '--app' option (not"
                    " given), the KETTLE_APP and FLASK_APP environment variables (not set), "
                    + ", ".join(tried)
                    + f" in {os.getcwd()}. Use 'kettle --app module:name', the KETTLE_APP"
                    " environment variable, or a 'wsgi.py' or 'app.py' file in the current"
                    " directory."
                )
        if app is None:
            raise NoAppException("The app factory did not return a Kettle application.")
        if self.set_debug_flag:
            # As Flask: the CLI's --debug / KETTLE_DEBUG decides debug mode.
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run the decorated command inside the app's application context."""

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        from kettle.ctx import has_app_context

        if not has_app_context():
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return cast(F, update_wrapper(decorator, f))


class AppGroup(click.Group):
    """A click group whose commands run in the app context (``app.cli``, ``bp.cli``)."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """Like ``click.Group.command``, wrapped in ``with_appcontext`` unless told not to."""
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f: Callable[..., Any]) -> click.Command:
            if wrap:
                f = with_appcontext(f)
            command: click.Command = click.Group.command(self, *args, **kwargs)(f)
            return command

        return decorator

    def group(self, *args: Any, **kwargs: Any) -> Any:
        """Like ``click.Group.group``, making an ``AppGroup`` by default."""
        kwargs.setdefault("cls", AppGroup)
        return click.Group.group(self, *args, **kwargs)


# -- options of the root group ------------------------------------------------
def _set_app(ctx: click.Context, param: click.Option, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


def _set_debug(ctx: click.Context, param: click.Option, value: bool) -> bool | None:
    source = ctx.get_parameter_source(param.name or "debug")
    if source is not None and source in (
        click.core.ParameterSource.DEFAULT,
        click.core.ParameterSource.DEFAULT_MAP,
    ):
        return None
    # Set the variable so the app, loaded later (or in the reloader's child), sees it.
    os.environ["KETTLE_DEBUG"] = "1" if value else "0"
    return value


def _env_file_callback(ctx: click.Context, param: click.Option, value: str | None) -> str | None:
    info = ctx.ensure_object(ScriptInfo)
    load_dotenv(value, load_defaults=info.load_dotenv_defaults and get_load_dotenv())
    return value


_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help="Load environment variables from this file (before .env, .kettleenv and .flaskenv).",
    is_eager=True,
    expose_value=False,
    callback=_env_file_callback,
)
_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    envvar=["KETTLE_APP", "FLASK_APP"],
    help=(
        "The Kettle application or factory function to load, in the form 'module:name'."
        " Module can be a dotted import or file path. Name is optional, or a factory call"
        " with literal arguments: 'module:create_app(\"dev\")'."
    ),
    is_eager=True,
    expose_value=False,
    callback=_set_app,
)
_debug_option = click.Option(
    ["--debug/--no-debug"],
    envvar=["KETTLE_DEBUG", "FLASK_DEBUG"],
    help="Set debug mode.",
    is_eager=True,
    expose_value=False,
    callback=_set_debug,
)


def _version_text() -> str:
    from kettle import __version__

    text = (
        f"Python {platform.python_version()}\nKettle {__version__}\n"
        f"Click {importlib.metadata.version('click')}"
    )
    compat = sys.modules.get("kettle.compat")
    if compat is not None and compat.is_installed():
        text += f"\nFlask {compat.FLASK_VERSION} (Kettle's Flask compatibility mode)"
        try:  # real Werkzeug serves what Kettle has no twin for (werkzeug.security...)
            text += f"\nWerkzeug {importlib.metadata.version('werkzeug')}"
        except importlib.metadata.PackageNotFoundError:
            pass
    return text


def get_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """The ``--version`` callback: print the Python, Kettle and Click versions and exit."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(_version_text(), color=ctx.color)
    ctx.exit()


version_option = click.Option(
    ["--version"],
    help="Show the Kettle version.",
    expose_value=False,
    callback=get_version,
    is_flag=True,
    is_eager=True,
)


class KettleGroup(AppGroup):
    """The ``kettle`` group: app discovery options, default commands, and ``app.cli``'s."""

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: Callable[..., Kettle] | None = None,
        addversion_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: Any,
    ) -> None:
        params = list(extra.pop("params", None) or ())
        params.extend((_env_file_option, _app_option, _debug_option))
        if addversion_option:
            params.append(version_option)
        extra.setdefault("context_settings", {}).setdefault("auto_envvar_prefix", "KETTLE")
        super().__init__(params=params, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(shell_command)
            self.add_command(routes_command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Find a built-in command, else one of the app's."""
        rv = super().get_command(ctx, cmd_name)
        if rv is not None:
            return rv
        info = ctx.ensure_object(ScriptInfo)
        try:
            app = info.load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None
        from kettle.ctx import _cv_get

        current = _cv_get(None)
        if current is None or current.app is not app:
            ctx.with_resource(app.app_context())
        command: click.Command | None = app.cli.get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The built-in commands and the app's, for ``--help``."""
        rv = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)
        try:
            rv.update(info.load_app().cli.list_commands(ctx))
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception:
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        return sorted(rv)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Make the context with a ``ScriptInfo`` and mark that the CLI is running."""
        # Tells app.run() not to start a second server inside `kettle run`.
        os.environ["KETTLE_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in (self.context_settings or {}):
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """With no arguments, still read --env-file and --app so help lists the app's commands."""
        if not args and self.no_args_is_help:
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)


#: Flask's name for the group, so ``from kettle.cli import FlaskGroup`` works too.
FlaskGroup = KettleGroup


# -- routes -------------------------------------------------------------------
@click.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    help="Method to sort routes by. 'match' is the order that Kettle will match routes.",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show all registered routes with endpoints and methods."""
    from kettle.globals import current_app

    url_map = current_app.url_map
    rules = list(url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    ignored = set() if all_methods else {"HEAD", "OPTIONS"}
    host_matching = url_map.host_matching
    has_domain = any(rule.host if host_matching else rule.subdomain for rule in rules)
    rows = []
    for rule in rules:
        row = [str(rule.endpoint), ", ".join(sorted((rule.methods or set()) - ignored))]
        if has_domain:
            row.append((rule.host if host_matching else rule.subdomain) or "")
        row.append(rule.rule)
        rows.append(row)
    headers = ["Endpoint", "Methods"]
    sorts = ["endpoint", "methods"]
    if has_domain:
        headers.append("Host" if host_matching else "Subdomain")
        sorts.append("domain")
    headers.append("Rule")
    sorts.append("rule")
    if sort in sorts:
        rows.sort(key=itemgetter(sorts.index(sort)))  # 'match' keeps registration order.
    widths = [max(len(header), *(len(row[i]) for row in rows)) for i, header in enumerate(headers)]
    template = "  ".join(f"{{{i}:<{width}}}" for i, width in enumerate(widths))
    # Every cell is padded, the last column too: the output is Flask's, byte for byte.
    click.echo(template.format(*headers))
    click.echo(template.format(*("-" * width for width in widths)))
    for row in rows:
        click.echo(template.format(*row))


# -- shell --------------------------------------------------------------------
@click.command("shell", short_help="Run a shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the app's context, with ``app`` and ``g`` defined."""
    import code

    from kettle.globals import current_app

    app = cast("Kettle", current_app._get_current_object())  # type: ignore[attr-defined]
    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {app.import_name}{' [debug]' if app.debug else ''}\n"
        f"Instance: {app.instance_path}"
    )
    namespace: dict[str, Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup) as f:
            eval(compile(f.read(), startup, "exec"), namespace)  # Python's own startup-file rule.
    namespace.update(app.make_shell_context())
    interactive_hook = getattr(sys, "__interactivehook__", None)
    if interactive_hook is not None and sys.stdin.isatty():
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            readline.set_completer(Completer(namespace).complete)
        interactive_hook()
    code.interact(banner=banner, local=namespace)


cli = KettleGroup(
    name="kettle",
    help=(
        "A general utility script for Kettle applications.\n\nAn application to load must be"
        " given with the '--app' option, the 'KETTLE_APP' environment variable, or with a"
        " 'wsgi.py' or 'app.py' file in the current directory."
    ),
)


def main() -> None:
    """Run the ``kettle`` command."""
    cli.main(prog_name="kettle")
