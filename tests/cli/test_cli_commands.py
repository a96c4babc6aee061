"""The ``kettle`` command through click's runner: discovery, routes, shell, custom commands."""

from __future__ import annotations

import os
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from kettle import Kettle
from kettle.cli import (
    AppGroup,
    KettleGroup,
    NoAppException,
    ScriptInfo,
    cli,
    find_best_app,
    load_dotenv,
    with_appcontext,
)

_ENV_NAMES = (
    "KETTLE_APP",
    "KETTLE_DEBUG",
    "KETTLE_RUN_FROM_CLI",
    "KETTLE_SKIP_DOTENV",
    "KETTLE_SERVE_APP",
    "FLASK_APP",
    "FLASK_DEBUG",
    "FLASK_SKIP_DOTENV",
    "CLI_TEST_A",
    "CLI_TEST_B",
    "CLI_TEST_C",
    "CLI_TEST_D",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test runs in an empty directory with the CLI's variables unset and restored after."""
    for name in _ENV_NAMES:
        # setenv first so the original state (often: unset) is restored after the test.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))


def _module(tmp_path: Path, body: str, name: str | None = None) -> str:
    """Write a uniquely named module (sys.modules is shared by the tests of a worker)."""
    name = name or f"cli_app_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    return name


SIMPLE = """
    from kettle import Kettle
    app = Kettle(__name__)

    @app.route("/")
    def index():
        return "hi"

    @app.cli.command()
    def hello():
        print("hello from", app.name)
"""


def _invoke(args: list[str], **kwargs: Any) -> Any:
    return CliRunner().invoke(cli, args, prog_name="kettle", **kwargs)


# -- discovery ----------------------------------------------------------------
def test_app_option_module_name(tmp_path: Path) -> None:
    name = _module(tmp_path, SIMPLE)
    result = _invoke(["--app", name, "hello"])
    assert result.exit_code == 0, result.output
    assert result.output == f"hello from {name}\n"


def test_app_option_file_path_and_attribute(tmp_path: Path) -> None:
    name = _module(
        tmp_path,
        """
        from kettle import Kettle
        first = Kettle("first")
        second = Kettle("second")

        @second.cli.command()
        def which():
            print("second")
        """,
    )
    result = _invoke(["--app", f"{tmp_path / name}.py:second", "which"])
    assert result.exit_code == 0, result.output
    assert result.output == "second\n"
    result = _invoke(["--app", f"{tmp_path / name}.py", "which"])
    assert result.exit_code != 0
    assert "Detected multiple Kettle applications" in result.output


def test_factory_call_with_literal_arguments(tmp_path: Path) -> None:
    name = _module(
        tmp_path,
        """
        from kettle import Kettle

        def create_app(flavour, strength=1):
            app = Kettle("tea")

            @app.cli.command()
            def show():
                print(flavour, strength)

            return app
        """,
    )
    result = _invoke(["--app", f"{name}:create_app('green', strength=3)", "show"])
    assert result.exit_code == 0, result.output
    assert result.output == "green 3\n"
    result = _invoke(["--app", f"{name}:create_app(__import__('os'))", "show"])
    assert "Failed to parse arguments as literal values" in result.output
    result = _invoke(["--app", f"{name}:create_app()", "show"])
    assert "could not be called with the specified arguments" in result.output


def test_kettle_app_and_flask_app_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _module(tmp_path, SIMPLE)
    monkeypatch.setenv("FLASK_APP", name)
    assert _invoke(["hello"]).output == f"hello from {name}\n"
    other = _module(tmp_path, SIMPLE)
    monkeypatch.setenv("KETTLE_APP", other)  # KETTLE_APP wins over FLASK_APP.
    assert _invoke(["hello"]).output == f"hello from {other}\n"


@pytest.mark.parametrize("filename", ["app.py", "wsgi.py"])
def test_discovers_app_or_wsgi_file_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filename: str
) -> None:
    module = filename[:-3]
    monkeypatch.delitem(sys.modules, module, raising=False)
    (tmp_path / filename).write_text(textwrap.dedent(SIMPLE))
    result = _invoke(["hello"])
    assert result.exit_code == 0, result.output
    assert result.output == f"hello from {module}\n"
    monkeypatch.delitem(sys.modules, module, raising=False)


def test_factory_discovered_without_arguments(tmp_path: Path) -> None:
    name = _module(
        tmp_path,
        """
        from kettle import Kettle

        def create_app():
            app = Kettle("made")

            @app.cli.command()
            def made():
                print("made by factory")

            return app
        """,
    )
    result = _invoke(["--app", name, "made"])
    assert result.output == "made by factory\n"


def test_no_app_found_lists_what_was_tried(tmp_path: Path) -> None:
    result = _invoke(["routes"])
    assert result.exit_code == 2
    assert "Could not locate a Kettle application" in result.output
    assert "wsgi.py (no such file)" in result.output
    assert "app.py (no such file)" in result.output
    assert "KETTLE_APP" in result.output


def test_import_errors_are_reported(tmp_path: Path) -> None:
    name = _module(tmp_path, "import no_such_module_for_kettle_cli\n")
    result = _invoke(["--app", name, "routes"])
    assert result.exit_code == 2
    assert f"While importing '{name}', an ImportError was raised" in result.output
    result = _invoke(["--app", "no_such_module_for_kettle_cli", "routes"])
    assert "Could not import 'no_such_module_for_kettle_cli'." in result.output
    result = _invoke(["--app", f"{name}:app", "routes"])
    assert result.exit_code == 2


def test_find_best_app_errors_without_app() -> None:
    module = type(sys)("cli_empty_module")
    with pytest.raises(NoAppException, match="Failed to find Kettle application"):
        find_best_app(module)


def test_version_option() -> None:
    result = _invoke(["--version"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("Python 3.")
    assert lines[1] == "Kettle 0.1.0"
    assert lines[2].startswith("Click ")


def test_help_lists_builtin_and_app_commands(tmp_path: Path) -> None:
    name = _module(tmp_path, SIMPLE)
    result = _invoke(["--app", name, "--help"])
    assert result.exit_code == 0
    for command in ("hello", "routes", "run", "shell"):
        assert f"  {command}" in result.output


# -- routes ---------------------------------------------------------------------
ROUTES = """
    from kettle import Kettle
    app = Kettle(__name__)

    @app.route("/zebra", methods=["GET", "POST"])
    def zebra():
        return ""

    @app.route("/aardvark/<int:id>")
    def aardvark(id):
        return ""

    @app.delete("/b")
    def bee():
        return ""
"""


def test_routes_table_as_flask_prints_it(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    name = _module(tmp_path, ROUTES)
    result = _invoke(["--app", name, "routes"])
    assert result.exit_code == 0, result.output
    # Flask pads every column, the last one too.
    assert result.output.splitlines() == [
        "Endpoint  Methods    Rule                   ",
        "--------  ---------  -----------------------",
        "aardvark  GET        /aardvark/<int:id>     ",
        "bee       DELETE     /b                     ",
        "static    GET        /static/<path:filename>",
        "zebra     GET, POST  /zebra                 ",
    ]


def test_routes_sort_and_all_methods(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    name = _module(tmp_path, ROUTES)
    rule_order = _invoke(["--app", name, "routes", "--sort", "rule"]).output.splitlines()[2:]
    assert [line.split()[0] for line in rule_order] == ["aardvark", "bee", "static", "zebra"]
    match_order = _invoke(["--app", name, "routes", "-s", "match"]).output.splitlines()[2:]
    assert [line.split()[0] for line in match_order] == ["static", "zebra", "aardvark", "bee"]
    by_methods = _invoke(["--app", name, "routes", "--sort", "methods"]).output.splitlines()[2:]
    assert [line.split()[0] for line in by_methods] == ["bee", "static", "aardvark", "zebra"]  # stable: ties keep match order
    everything = _invoke(["--app", name, "routes", "--all-methods"]).output
    assert "zebra     GET, HEAD, OPTIONS, POST  /zebra" in everything
    bad = _invoke(["--app", name, "routes", "--sort", "size"])
    assert bad.exit_code == 2


def test_routes_subdomain_column_and_empty_map() -> None:
    app = Kettle("subs", static_folder=None)
    assert app.test_cli_runner().invoke(cli, ["routes"]).output == "No routes were registered.\n"
    app.add_url_rule("/", "index", lambda: "", subdomain="api")
    runner = app.test_cli_runner()
    output = runner.invoke(cli, ["routes"]).output
    assert output.splitlines()[0].split() == ["Endpoint", "Methods", "Subdomain", "Rule"]
    assert output.splitlines()[2].split() == ["index", "GET", "api", "/"]


# -- shell ----------------------------------------------------------------------
def test_shell_banner_namespace_and_context_processor() -> None:
    app = Kettle("shelly", instance_path="/srv/instance")

    @app.shell_context_processor
    def extra() -> dict[str, Any]:
        return {"answer": 42}

    result = app.test_cli_runner().invoke(
        cli,
        ["shell"],
        input="print(answer, app.name, g is not None)\nfrom kettle import current_app\nprint(current_app.name)\n",
    )
    assert result.exit_code == 0, result.output
    assert f"Python {sys.version} on {sys.platform}" in result.output
    assert "App: shelly\n" in result.output
    assert "Instance: /srv/instance" in result.output
    assert "42 shelly True" in result.output
    assert "\nshelly\n" in result.output.replace(">>> ", "\n")


# -- custom commands, groups and the test runner ------------------------------
def test_app_cli_command_options_and_app_context() -> None:
    app = Kettle("custom")

    @app.cli.command()
    @click.argument("name")
    @click.option("--times", default=1, type=int)
    def greet(name: str, times: int) -> None:
        from kettle import current_app

        for _ in range(times):
            click.echo(f"hello {name} from {current_app.name}")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["greet", "tea", "--times", "2"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello tea from custom\nhello tea from custom\n"
    result = runner.invoke(args=["greet"])
    assert result.exit_code == 2
    assert "Missing argument 'NAME'" in result.output


def test_app_cli_group_and_command_without_context() -> None:
    app = Kettle("grouped")
    database = app.cli.group("db")(lambda: None)
    assert isinstance(database, AppGroup)

    @database.command("init")
    def init() -> None:
        from kettle import current_app

        click.echo(f"init {current_app.name}")

    @app.cli.command(with_appcontext=False)
    def plain() -> None:
        from kettle import has_app_context

        click.echo(f"context: {has_app_context()}")

    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "init"]).output == "init grouped\n"
    assert runner.invoke(args=["plain"]).output == "context: False\n"
    # Through the kettle group too, found via the app.
    assert runner.invoke(cli, ["db", "init"]).output == "init grouped\n"


def test_blueprint_style_group_registered_on_app_cli() -> None:
    app = Kettle("bps")
    bp_cli = AppGroup("admin")

    @bp_cli.command("create-user")
    @click.argument("username")
    def create_user(username: str) -> None:
        click.echo(f"created {username}")

    app.cli.add_command(bp_cli)
    result = app.test_cli_runner().invoke(args=["admin", "create-user", "ann"])
    assert result.output == "created ann\n"


@pytest.mark.parametrize(
    ("cli_group", "args"),
    [("unset", ["shop", "stock"]), ("store", ["store", "stock"]), (None, ["stock"])],
)
def test_blueprint_cli_groups(cli_group: Any, args: list[str]) -> None:
    from kettle.blueprints import Blueprint

    app = Kettle("with_blueprint")
    bp = Blueprint("shop", __name__) if cli_group == "unset" else Blueprint("shop", __name__, cli_group=cli_group)

    @bp.cli.command()
    def stock() -> None:
        from kettle import current_app

        click.echo(f"stock of {current_app.name}")

    app.register_blueprint(bp)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert result.output == "stock of with_blueprint\n"


def test_with_appcontext_and_custom_kettle_group() -> None:
    def create_app() -> Kettle:
        return Kettle("factory_made")

    @click.command()
    @with_appcontext
    def name() -> None:
        from kettle import current_app

        click.echo(current_app.name)

    group = KettleGroup(create_app=create_app, name="manage")
    group.add_command(name)
    result = CliRunner().invoke(group, ["name"])
    assert result.exit_code == 0, result.output
    assert result.output == "factory_made\n"
    info = ScriptInfo(create_app=create_app)
    assert info.load_app() is info.load_app()


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    name = _module(tmp_path, SIMPLE)
    result = _invoke(["--app", name, "nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


# -- debug flag and dotenv -------------------------------------------------------
DEBUG_REPORT = """
    from kettle import Kettle
    import os
    app = Kettle(__name__)

    @app.cli.command()
    def report():
        print("debug", app.debug, os.environ.get("CLI_TEST_A"), os.environ.get("CLI_TEST_B"),
              os.environ.get("CLI_TEST_C"), os.environ.get("CLI_TEST_D"))
"""


def test_debug_option_and_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _module(tmp_path, DEBUG_REPORT)
    assert _invoke(["--app", name, "report"]).output.startswith("debug False")
    assert _invoke(["--app", name, "--debug", "report"]).output.startswith("debug True")
    monkeypatch.setenv("KETTLE_DEBUG", "1")
    assert _invoke(["--app", name, "report"]).output.startswith("debug True")
    assert _invoke(["--app", name, "--no-debug", "report"]).output.startswith("debug False")
    monkeypatch.delenv("KETTLE_DEBUG")
    monkeypatch.setenv("FLASK_DEBUG", "true")
    assert _invoke(["--app", name, "report"]).output.startswith("debug True")


def test_dotenv_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _module(tmp_path, DEBUG_REPORT)
    (tmp_path / ".env").write_text("CLI_TEST_A=dotenv\nCLI_TEST_B=dotenv\n")
    (tmp_path / ".kettleenv").write_text("CLI_TEST_A=kettleenv\nCLI_TEST_B=kettleenv\nCLI_TEST_C=kettleenv\n")
    (tmp_path / ".flaskenv").write_text("CLI_TEST_C=flaskenv\nCLI_TEST_D=flaskenv\n")
    monkeypatch.setenv("CLI_TEST_A", "real")
    result = _invoke(["--app", name, "report"])
    assert result.output == "debug False real dotenv kettleenv flaskenv\n"


def test_env_file_option_and_app_from_dotenv(tmp_path: Path) -> None:
    name = _module(tmp_path, DEBUG_REPORT)
    (tmp_path / ".kettleenv").write_text(f"KETTLE_APP={name}\nKETTLE_DEBUG=1\nCLI_TEST_B=kettleenv\n")
    (tmp_path / "custom.env").write_text("CLI_TEST_B=custom\nCLI_TEST_D=custom\n")
    result = _invoke(["-e", "custom.env", "report"])
    assert result.exit_code == 0, result.output
    assert result.output == "debug True None custom None custom\n"


def test_skip_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _module(tmp_path, DEBUG_REPORT)
    (tmp_path / ".env").write_text("CLI_TEST_A=dotenv\n")
    (tmp_path / "custom.env").write_text("CLI_TEST_B=custom\n")
    monkeypatch.setenv("KETTLE_SKIP_DOTENV", "1")
    result = _invoke(["--app", name, "--env-file", "custom.env", "report"])
    assert result.output == "debug False None custom None None\n"


def test_load_dotenv_reports_whether_anything_loaded(tmp_path: Path) -> None:
    assert load_dotenv() is False
    (tmp_path / ".kettleenv").write_text("CLI_TEST_C=1\n")
    assert load_dotenv() is True
    assert os.environ["CLI_TEST_C"] == "1"


def test_cli_runner_class_is_exported_from_testing() -> None:
    from kettle.testing import KettleCliRunner

    app = Kettle("runner_export")
    runner = app.test_cli_runner()
    assert isinstance(runner, KettleCliRunner)
    assert runner.app is app
