"""Flask's app-level helpers: resources, the instance folder, redirect and abort hooks, debug."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import kettle
from kettle import Blueprint, Kettle, json, redirect
from kettle.globals import app_ctx, request_ctx
from kettle.helpers import get_debug_flag, get_load_dotenv
from kettle.http.exceptions import Aborter, HTTPException
from kettle.logging import default_handler, wsgi_errors_stream
from kettle.testing import KettleClient


def test_open_resource_reads_from_root_path(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("café", encoding="utf-8")
    app = Kettle("resources", root_path=str(tmp_path))
    with app.open_resource("schema.sql") as f:
        assert f.read() == "café".encode()
    with app.open_resource("schema.sql", "r") as f:
        assert f.read() == "café"
    (tmp_path / "le.txt").write_bytes("hé".encode("utf-16-le"))
    with app.open_resource("le.txt", "rt", encoding="utf-16-le") as f:
        assert f.read() == "hé"
    for mode in ("w", "x", "a", "r+"):
        with pytest.raises(ValueError, match="only be opened for reading"):
            app.open_resource("schema.sql", mode)
    bp = Blueprint("bp", __name__, root_path=str(tmp_path))
    with bp.open_resource("schema.sql", "r") as f:
        assert f.read() == "café"


def test_open_instance_resource_may_write(tmp_path: Path) -> None:
    app = Kettle("resources", instance_path=str(tmp_path))
    with app.open_instance_resource("notes.txt", "w") as f:
        f.write("kept")
    with app.open_instance_resource("notes.txt") as f:
        assert f.read() == b"kept"


def test_instance_path_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        Kettle("x", instance_path="instance")


def _write_app(folder: Path, module: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / module).write_text("import kettle\napp = kettle.Kettle(__name__)\n")


@pytest.fixture
def import_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path; the modules imported from it are forgotten afterwards."""
    folder = tmp_path / "code"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_instance_folder_next_to_an_uninstalled_module_or_package(import_dir: Path) -> None:
    import importlib

    _write_app(import_dir, "solo_app.py")
    _write_app(import_dir / "pkg_app", "__init__.py")
    _write_app(import_dir / "nspace" / "inner", "__init__.py")
    expected = str(import_dir / "instance")
    assert importlib.import_module("solo_app").app.instance_path == expected
    assert importlib.import_module("pkg_app").app.instance_path == expected
    # A namespace package: next to the namespace folder that holds the app's package.
    assert importlib.import_module("nspace.inner").app.instance_path == expected


def test_instance_folder_of_an_installed_package(
    import_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    prefix = import_dir.parent / "venv"
    site = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    _write_app(site / "site_pkg", "__init__.py")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(sys, "prefix", str(import_dir.parent / "elsewhere"))
    # Installed in a site-packages folder: <prefix>/var/<name>-instance.
    app = importlib.import_module("site_pkg").app
    assert app.instance_path == str(prefix / "var" / "site_pkg-instance")


def test_redirect_goes_through_app_redirect(app: Kettle, client: KettleClient) -> None:
    class Tracking(Kettle):
        def redirect(self, location: str, code: int = 302) -> Any:
            response = super().redirect(location, code)
            response.headers["X-Redirected-By"] = "app"
            return response

    tracking = Tracking("tracking")

    @tracking.route("/")
    def index() -> Any:
        return redirect("/elsewhere", 307)

    response = tracking.test_client().get("/")
    assert response.status_code == 307
    assert response.headers["Location"] == "/elsewhere"
    assert response.headers["X-Redirected-By"] == "app"
    assert redirect("/x").status_code == 302  # no app: the plain helper


def test_make_aborter_and_custom_codes(app: Kettle) -> None:
    class MyAborter(Aborter):
        pass

    class MyApp(Kettle):
        aborter_class = MyAborter

    assert isinstance(MyApp("a").aborter, MyAborter)

    class Teapot900(HTTPException):
        code = 900

    app.aborter.mapping[900] = Teapot900
    with app.app_context(), pytest.raises(Teapot900):
        kettle.abort(900)
    with pytest.raises(LookupError):
        kettle.abort(900)


def test_debug_setter_updates_template_reload(app: Kettle) -> None:
    assert app.jinja_env.auto_reload is False
    app.debug = True
    assert app.debug is True
    assert app.jinja_env.auto_reload is True
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    app.debug = False
    app.debug = True
    assert app.jinja_env.auto_reload is True  # TEMPLATES_AUTO_RELOAD set: left alone


def test_get_template_attribute(app: Kettle) -> None:
    from jinja2 import DictLoader

    app.jinja_loader = DictLoader({"_macro.html": "{% macro hello(name) %}Hi {{ name }}!{% endmacro %}"})
    with app.app_context():
        assert kettle.get_template_attribute("_macro.html", "hello")("Ann") == "Hi Ann!"


def test_context_proxies_for_extensions(app: Kettle) -> None:
    assert not app_ctx
    with pytest.raises(RuntimeError, match="application context"):
        app_ctx.g  # noqa: B018
    with app.app_context() as ctx:
        assert app_ctx._get_current_object() is ctx  # type: ignore[attr-defined]
        assert app_ctx.app is app
        assert not request_ctx
        with pytest.raises(RuntimeError, match="request context"):
            request_ctx.request  # noqa: B018
    with app.test_request_context("/x") as rctx:
        assert request_ctx._get_current_object() is rctx  # type: ignore[attr-defined]
        assert request_ctx.request.path == "/x"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("False", False), ("no", False), ("1", True), ("yes", True)],
)
def test_debug_flag_from_environment(monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool) -> None:
    monkeypatch.delenv("KETTLE_DEBUG", raising=False)
    if value is None:
        monkeypatch.delenv("FLASK_DEBUG", raising=False)
    else:
        monkeypatch.setenv("FLASK_DEBUG", value)
    assert get_debug_flag() is expected
    assert Kettle("dbg").debug is expected


def test_load_dotenv_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KETTLE_SKIP_DOTENV", raising=False)
    monkeypatch.delenv("FLASK_SKIP_DOTENV", raising=False)
    assert get_load_dotenv() is True
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    assert get_load_dotenv() is False


def test_json_dump_and_load_to_files(app: Kettle) -> None:
    out = io.StringIO()
    with app.app_context():  # the app's provider: sorted keys
        json.dump({"b": 1, "a": [1, 2]}, out)
    assert out.getvalue() == '{"a": [1, 2], "b": 1}'
    out.seek(0)
    assert json.load(out) == {"a": [1, 2], "b": 1}


def test_errors_stream_gets_the_request_log(
    app: Kettle, make_client: Callable[..., KettleClient], protocol: str
) -> None:
    @app.route("/")
    def index() -> str:
        app.logger.error("logged here")
        return ""

    assert default_handler.stream is wsgi_errors_stream
    app.logger.addHandler(logging.StreamHandler(wsgi_errors_stream))
    assert wsgi_errors_stream._get_current_object() is sys.stderr  # type: ignore[attr-defined]
    stream = io.StringIO()
    with app.test_request_context(errors_stream=stream):
        assert wsgi_errors_stream._get_current_object() is stream  # type: ignore[attr-defined]
    if protocol == "wsgi":  # ASGI has no wsgi.errors: the log goes to stderr
        make_client(app).get("/", errors_stream=stream)
        assert "logged here" in stream.getvalue()


def test_module_names_kept_for_ported_code() -> None:
    from kettle import testing

    assert testing.FlaskClient is testing.KettleClient
    assert testing.FlaskCliRunner is testing.KettleCliRunner
    assert os.path.isabs(Kettle("anything").instance_path)
