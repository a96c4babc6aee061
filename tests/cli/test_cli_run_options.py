"""``kettle run``'s options as Flask parses them, ``app.run(ssl_context=...)``, Flask's CLI names."""

from __future__ import annotations

import os
import ssl
import sys
import types
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

import kettle.cli
import kettle.serving
from kettle import Kettle
from kettle.cli import KettleGroup, ScriptInfo, load_dotenv, run_command


@pytest.fixture
def cert(tmp_path: Path) -> str:
    path = tmp_path / "cert.pem"
    path.write_text("certificate")
    return str(path)


@pytest.fixture
def key(tmp_path: Path) -> str:
    path = tmp_path / "key.pem"
    path.write_text("key")
    return str(path)


def _params(args: list[str]) -> dict[str, Any]:
    return dict(run_command.make_context("run", args).params)


def test_flask_cli_names_are_available() -> None:
    assert kettle.cli.FlaskGroup is KettleGroup
    for name in ("run_command", "shell_command", "routes_command", "get_version"):
        assert callable(getattr(kettle.cli, name))
    assert isinstance(kettle.cli.version_option, click.Option)
    assert isinstance(kettle.cli.CertParamType(), click.ParamType)
    assert isinstance(kettle.cli.SeparatedPathType(), click.Path)
    assert "run" in KettleGroup().commands


def test_cert_and_key_files_become_one_pair(cert: str, key: str) -> None:
    assert _params(["--cert", cert, "--key", key])["cert"] == (cert, key)
    assert _params(["--key", key, "--cert", cert])["cert"] == (cert, key)
    assert _params([])["cert"] is None


def test_cert_file_needs_a_key_and_key_needs_a_cert(cert: str, key: str) -> None:
    with pytest.raises(click.BadParameter, match='"--key" is required'):
        _params(["--cert", cert])
    with pytest.raises(click.BadParameter, match='"--cert" must also be specified'):
        _params(["--key", key])
    with pytest.raises(click.BadParameter, match="does not exist"):
        _params(["--cert", "missing.pem", "--key", key])


def test_adhoc_cert_needs_cryptography_and_no_key(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(click.BadParameter, match="requires the cryptography library"):
        _params(["--cert", "adhoc"])
    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))
    assert _params(["--cert", "adhoc"])["cert"] == "adhoc"
    with pytest.raises(click.BadParameter, match='When "--cert" is "adhoc"'):
        _params(["--cert", "adhoc", "--key", key])


def test_cert_can_name_an_ssl_context(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    module = types.ModuleType("cli_tls_settings")
    module.context = context  # type: ignore[attr-defined]
    module.other = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cli_tls_settings", module)
    assert _params(["--cert", "cli_tls_settings:context"])["cert"] is context
    assert _params(["--cert", "cli_tls_settings.context"])["cert"] is context
    with pytest.raises(click.BadParameter, match="SSLContext object"):
        _params(["--cert", "cli_tls_settings:context", "--key", key])
    for value in ("cli_tls_settings:other", "no_such_module_for_tls"):
        with pytest.raises(click.BadParameter, match="does not exist"):
            _params(["--cert", value])


def test_cert_needs_ssl_support(monkeypatch: pytest.MonkeyPatch, cert: str) -> None:
    monkeypatch.setitem(sys.modules, "ssl", None)
    with pytest.raises(click.BadParameter, match="compiled with SSL support"):
        _params(["--cert", cert])


def test_extra_files_and_exclude_patterns_are_lists(tmp_path: Path) -> None:
    first, second = str(tmp_path / "a.cfg"), str(tmp_path / "b.cfg")
    params = _params(["--extra-files", f"{first}{os.pathsep}{second}", "--exclude-patterns", "*.tmp"])
    assert params["extra_files"] == [first, second]
    assert params["exclude_patterns"] == ["*.tmp"]
    assert _params([])["extra_files"] is None


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record run_server's keyword arguments instead of serving."""
    calls: list[dict[str, Any]] = []

    def fake(app: Kettle, import_path: str | None, **kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(kettle.serving, "run_server", fake)
    # Nothing binds: the port check (tested live) would see whatever holds 5000 here.
    monkeypatch.setattr("kettle.serving.ensure_port_free", lambda host, port: None)
    for name in ("KETTLE_RUN_FROM_CLI", "KETTLE_DEBUG", "FLASK_DEBUG"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return calls


def test_run_command_hands_the_pair_and_lists_to_the_server(
    served: list[dict[str, Any]], cert: str, key: str, tmp_path: Path
) -> None:
    app = Kettle("run_options_app")
    extra = str(tmp_path / "settings.cfg")
    args = ["run", "--no-reload", "--cert", cert, "--key", key, "--extra-files", extra]
    result = CliRunner().invoke(
        KettleGroup(create_app=lambda: app), args, obj=ScriptInfo(create_app=lambda: app)
    )
    assert result.exit_code == 0, result.output
    assert served[-1]["ssl_context"] == (cert, key)
    assert served[-1]["extra_files"] == [extra]
    assert list(served[-1]["exclude_patterns"]) == []


def test_app_run_takes_flasks_ssl_context(served: list[dict[str, Any]]) -> None:
    app = Kettle("run_options_app")
    app.run(ssl_context=("cert.pem", "key.pem"), load_dotenv=False)
    assert served[-1]["ssl_context"] == ("cert.pem", "key.pem")
    app.run(ssl_context="adhoc", load_dotenv=False)
    assert served[-1]["ssl_context"] == "adhoc"
    app.run(ssl_certfile="c.pem", ssl_keyfile="k.pem", load_dotenv=False)
    assert served[-1]["ssl_context"] == ("c.pem", "k.pem")
    app.run(load_dotenv=False)
    assert served[-1]["ssl_context"] is None


def test_ssl_context_with_the_reloader_is_a_clear_error() -> None:
    app = Kettle("run_options_app")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with pytest.raises(click.UsageError, match="--no-reload"):
        kettle.serving.run_server(app, None, reload=True, ssl_context=context)
    with pytest.raises(TypeError, match="ssl_context must be"):
        kettle.serving.run_server(app, None, ssl_context="cert.pem")


def test_load_dotenv_without_python_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "dotenv", None)
    assert load_dotenv() is False
    assert capsys.readouterr().err == ""
    (tmp_path / ".env").write_text("RUN_OPTIONS_TEST=1\n")
    monkeypatch.delenv("RUN_OPTIONS_TEST", raising=False)
    assert load_dotenv() is False
    assert "Install python-dotenv" in capsys.readouterr().err
    assert "RUN_OPTIONS_TEST" not in os.environ


def test_run_options_from_kettle_and_flask_variables(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    app = Kettle("run_options_app")
    group = KettleGroup(create_app=lambda: app)
    for name in ("KETTLE_RUN_PORT", "FLASK_RUN_PORT", "FLASK_RUN_HOST", "FLASK_RUN_EXTRA_FILES"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    # A project's .flaskenv keeps working: Flask reads FLASK_RUN_* for `flask run`.
    (tmp_path / ".flaskenv").write_text(
        f"FLASK_RUN_PORT=8123\nFLASK_RUN_HOST=0.0.0.0\nFLASK_RUN_EXTRA_FILES=a.cfg{os.pathsep}b.cfg\n"
    )
    result = CliRunner().invoke(group, ["run", "--no-reload"])
    assert result.exit_code == 0, result.output
    assert (served[-1]["host"], served[-1]["port"]) == ("0.0.0.0", 8123)
    assert served[-1]["extra_files"] == ["a.cfg", "b.cfg"]
    result = CliRunner().invoke(group, ["run", "--no-reload"], env={"KETTLE_RUN_PORT": "8124"})
    assert served[-1]["port"] == 8124
    result = CliRunner().invoke(group, ["run", "--no-reload", "--port", "8125"])
    assert served[-1]["port"] == 8125


def test_make_shell_context_feeds_the_shell() -> None:
    from kettle import g

    class Custom(Kettle):
        def make_shell_context(self) -> dict[str, Any]:
            return {**super().make_shell_context(), "extra": "from a subclass"}

    app = Custom("shell_context_app")

    @app.shell_context_processor
    def answer() -> dict[str, Any]:
        return {"answer": 42, "g": "processors win"}

    with app.app_context():
        namespace = app.make_shell_context()
    assert namespace == {"app": app, "g": "processors win", "answer": 42, "extra": "from a subclass"}
    app.shell_context_processors.clear()
    with app.app_context():
        assert app.make_shell_context()["g"] is g
    result = app.test_cli_runner().invoke(kettle.cli.cli, ["shell"], input="print(extra, app.name)\n")
    assert result.exit_code == 0, result.output
    assert "from a subclass shell_context_app" in result.output


def test_python_dash_m_kettle_runs_the_command(tmp_path: Path) -> None:
    import subprocess

    src = str(Path(kettle.cli.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", "kettle", "--version"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "Kettle 0.1.0"
