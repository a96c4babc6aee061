"""The debug page (under WSGI and ASGI), error logging, and ``app.run``."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from kettle import Kettle, request
from kettle.testing import KettleClient


def _failing_app(debug: bool = True, use_debugger: bool = True) -> Kettle:
    app = Kettle("debug_page_app")
    app.config.update(DEBUG=debug, SECRET_KEY="k")
    app.use_debugger = use_debugger  # As the development server sets it.

    @app.route("/fail", methods=["GET", "POST"])
    def fail() -> str:
        local_marker = "<b>visible & escaped</b>"
        api_token = "tok-should-not-show"
        huge = "x" * 5000
        del huge
        request.form  # noqa: B018 - parsed so the page can show it
        return str(1 / 0) + local_marker + api_token

    @app.route("/chained")
    def chained() -> str:
        try:
            {}["missing"]
        except KeyError as e:
            raise RuntimeError("while looking up") from e
        return ""

    return app


@pytest.fixture
def quiet_logger() -> Any:
    """Keep the page's error log off the test output."""
    logger = logging.getLogger("debug_page_app")
    logger.disabled = True
    yield logger
    logger.disabled = False


def test_debug_page_shows_traceback_locals_and_request(
    make_client: Callable[..., KettleClient], quiet_logger: Any
) -> None:
    client = make_client(_failing_app())
    client.set_cookie("session", "signed-session-value")
    client.set_cookie("theme", "dark")
    response = client.post(
        "/fail?q=1",
        data={"name": "ann", "password": "hunter2"},
        headers={"X-Api-Key": "key-should-not-show", "X-Trace": "trace-1"},
    )
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    page = response.text
    assert "<h1>ZeroDivisionError</h1>" in page
    assert "division by zero" in page
    # Source context of the failing line and the frame's locals, escaped.
    assert "return str(1 / 0) + local_marker + api_token" in page
    assert "local_marker" in page
    assert "&#x27;&lt;b&gt;visible &amp; escaped&lt;/b&gt;&#x27;" in page
    assert "<b>visible" not in page
    # Secrets masked: locals, form fields, headers, the session cookie.
    for secret in ("tok-should-not-show", "hunter2", "key-should-not-show", "signed-session-value"):
        assert secret not in page
    assert "********" in page
    # Framework frames are folded, without locals (the adapter's hold raw headers).
    assert '<details class="frame library">' in page
    assert "<th>environ</th>" not in page
    assert "<th>scope</th>" not in page
    # Request summary.
    assert "http://localhost/fail?q=1" in page
    assert "POST" in page
    assert "trace-1" in page
    assert "ann" in page
    assert "dark" in page
    # The plain traceback to copy.
    assert 'id="plain-traceback"' in page
    assert "Traceback (most recent call last):" in page


def test_long_values_are_cut(make_client: Callable[..., KettleClient], quiet_logger: Any) -> None:
    app = _failing_app()

    @app.route("/long")
    def long() -> str:
        blob = "y" * 10_000
        raise ValueError(blob[:10])

    page = make_client(app).get("/long").text
    # The repr is cut to 300 characters: its opening quote and 299 of the y's.
    assert "&#x27;" + "y" * 299 + "... (10002 characters)" in page
    assert "y" * 300 not in page
    assert "(10002 characters)" in page


def test_chained_exceptions_are_shown(
    make_client: Callable[..., KettleClient], quiet_logger: Any
) -> None:
    page = make_client(_failing_app()).get("/chained").text
    assert "builtins.RuntimeError: while looking up" in page
    assert "(earlier) builtins.KeyError: &#x27;missing&#x27;" in page
    assert "The above exception was the direct cause" in page


def test_no_debug_page_with_debug_off(
    make_client: Callable[..., KettleClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(_failing_app(debug=False))
    with caplog.at_level(logging.ERROR, logger="debug_page_app"):
        response = client.get("/fail")
    assert response.status_code == 500
    assert "Traceback" not in response.text
    assert "ZeroDivisionError" not in response.text
    assert "Internal Server Error" in response.text
    records = [r for r in caplog.records if r.name == "debug_page_app"]
    assert records[0].getMessage() == "Exception on /fail [GET]"
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is ZeroDivisionError


def test_debug_mode_without_the_debugger_propagates(
    make_client: Callable[..., KettleClient],
) -> None:
    # As Flask: in debug mode the error propagates (PROPAGATE_EXCEPTIONS is
    # None); only the development server's debugger turns it into a page.
    app = _failing_app(use_debugger=False)
    assert Kettle.use_debugger is False
    with pytest.raises(ZeroDivisionError):
        make_client(app).get("/fail")


def test_testing_mode_propagates_instead_of_page(make_client: Callable[..., KettleClient]) -> None:
    app = _failing_app()
    app.config["TESTING"] = True
    with pytest.raises(ZeroDivisionError):
        make_client(app).get("/fail")


def test_debug_page_error_is_logged(
    make_client: Callable[..., KettleClient], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="debug_page_app"):
        make_client(_failing_app()).get("/fail")
    messages = [r.getMessage() for r in caplog.records if r.name == "debug_page_app"]
    assert messages == ["Exception on /fail [GET]"]


def test_logger_is_named_after_app_and_debug_level() -> None:
    app = Kettle("logger_app_cli_test")
    app.debug = True
    assert app.logger.name == "logger_app_cli_test"
    assert app.logger.level == logging.DEBUG


# -- app.run ------------------------------------------------------------------------
@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record run_server's arguments instead of serving."""
    calls: list[dict[str, Any]] = []

    def fake(app: Kettle, import_path: str | None, **kwargs: Any) -> None:
        calls.append({"app": app, "import_path": import_path, **kwargs})

    monkeypatch.setattr("kettle.serving.run_server", fake)
    # Nothing binds: the port check (tested live) would see whatever holds 5000 here.
    monkeypatch.setattr("kettle.serving.ensure_port_free", lambda host, port: None)
    for name in ("KETTLE_RUN_FROM_CLI", "KETTLE_DEBUG", "FLASK_DEBUG", "KETTLE_SKIP_DOTENV"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return calls


def test_app_run_defaults_and_server_name(served: list[dict[str, Any]], tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    app = Kettle("runner")
    app.run()
    assert served[-1]["host"] == "127.0.0.1"
    assert served[-1]["port"] == 5000
    assert served[-1]["reload"] is False
    assert " * Serving Kettle app 'runner'\n * Debug mode: off\n" in capsys.readouterr().out
    app.config["SERVER_NAME"] = "example.test:8123"
    app.run(port=0)
    assert (served[-1]["host"], served[-1]["port"]) == ("example.test", 0)
    app.run(host="0.0.0.0", use_reloader=False, debug=True)
    assert (served[-1]["host"], served[-1]["port"], served[-1]["reload"]) == ("0.0.0.0", 8123, False)
    assert served[-1]["use_debugger"] is None  # The server's default: on in debug mode.
    app.run(use_reloader=False, debug=True, use_debugger=False)
    assert served[-1]["use_debugger"] is False
    assert app.debug is True
    assert "Debug mode: on" in capsys.readouterr().out
    # Reload needs an import string: the app's module and attribute.
    module = type(os)("runner")
    module.the_app = app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "runner", module)
    app.run(debug=True)
    assert served[-1]["reload"] is True
    assert served[-1]["import_path"] == "runner:the_app"
    assert os.environ["KETTLE_DEBUG"] == "1"


def test_app_run_debug_with_a_name_that_is_no_module(
    served: list[dict[str, Any]], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "not_a_module", raising=False)
    app = Kettle("not_a_module")
    # Not importable and not in the main script: served, without the reloader.
    app.run("localhost", 8000, debug=True)
    assert (served[-1]["host"], served[-1]["port"], served[-1]["reload"]) == (
        "localhost",
        8000,
        False,
    )
    # Defined in the main script under another name: the script is reloaded.
    main = type(os)("__main__")
    main.__file__ = str(tmp_path / "serve.py")
    main.application = app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "__main__", main)
    app.run(debug=True)
    assert served[-1]["reload"] is True
    assert served[-1]["import_path"] == f"{tmp_path / 'serve.py'}:application"


def test_app_run_refuses_inside_kettle_run(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KETTLE_RUN_FROM_CLI", "true")
    Kettle("inside").run()
    assert served == []
    assert "Ignoring a call to 'app.run()'" in capsys.readouterr().out


def test_app_run_reads_debug_from_dotenv(
    served: list[dict[str, Any]], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".kettleenv").write_text("KETTLE_DEBUG=1\n")
    app = Kettle("dotenv_runner")
    app.run(use_reloader=False)
    assert app.debug is True
    monkeypatch.delenv("KETTLE_DEBUG")
    app2 = Kettle("dotenv_runner2")
    app2.run(load_dotenv=False, use_reloader=False)
    assert app2.debug is False


def test_default_handler_writes_to_wsgi_errors_in_a_request(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from kettle.logging import default_handler

    app = Kettle("handler_app")
    stream = io.StringIO()
    record = logging.LogRecord("handler_app", logging.ERROR, __file__, 1, "in a request", None, None)
    with app.test_request_context(environ_overrides={"wsgi.errors": stream}):
        default_handler.handle(record)
    assert "ERROR in test_cli_debug_page: in a request" in stream.getvalue()
    outside = logging.LogRecord("handler_app", logging.ERROR, __file__, 1, "outside", None, None)
    default_handler.handle(outside)
    assert "ERROR in test_cli_debug_page: outside" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("debug", "use_debugger", "expected"),
    [(True, None, True), (True, False, False), (False, None, False), (False, True, True)],
)
def test_the_development_server_turns_the_debugger_on(
    monkeypatch: pytest.MonkeyPatch,
    debug: bool,
    use_debugger: bool | None,
    expected: bool,
) -> None:
    import uvicorn

    from kettle import serving

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: started.append(target))
    monkeypatch.setenv(serving._DEBUGGER_ENV, "")
    app = _failing_app(debug=debug, use_debugger=False)
    serving.run_server(app, None, port=0, use_debugger=use_debugger)
    assert started and app.use_debugger is expected
    # The reloader's workers load the app again and read the choice from the environment.
    assert os.environ[serving._DEBUGGER_ENV] == ("1" if expected else "0")
