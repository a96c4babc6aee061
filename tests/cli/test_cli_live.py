"""The ``kettle`` command as a real process: run (with reload and TLS), routes, shell, commands.

Servers listen on free loopback ports and are stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.live

KETTLE = str(Path(sys.executable).with_name("kettle"))
REPO = Path(__file__).resolve().parents[2]

APP = """
from kettle import Kettle

app = Kettle(__name__)

@app.route("/")
def index():
    return "version one"

@app.route("/settings")
def settings():
    return SETTINGS

import os as _os
_cfg = _os.path.join(_os.path.dirname(__file__), "settings.cfg")
SETTINGS = open(_cfg).read() if _os.path.exists(_cfg) else "none"

@app.route("/fail")
def fail():
    marker_local = "visible-local-value"
    return str(1 / 0) + marker_local

@app.cli.command()
def hello():
    print("hello from", app.name)

@app.shell_context_processor
def extra():
    return {"answer": 42}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KETTLE_", "FLASK_"))}
    env["PYTHONUNBUFFERED"] = "1"
    # The servers run in other directories: keep a relative PYTHONPATH (PYTHONPATH=src)
    # pointing at this checkout rather than at whatever kettle is installed.
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(entry) for entry in env["PYTHONPATH"].split(os.pathsep) if entry
        )
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def _kettle(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KETTLE, *args], cwd=cwd, env=_env(), input=stdin, capture_output=True, text=True, timeout=60
    )


@contextmanager
def _server(
    args: list[str], cwd: Path, port: int, scheme: str = "http", env: dict[str, str] | None = None
) -> Iterator[Path]:
    """Start ``kettle ... run`` and wait until it answers; stop it by PID afterwards."""
    # The log goes to a temporary folder: cwd may be the repository itself.
    log = Path(tempfile.mkdtemp(prefix="kettle-server-")) / f"server-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [KETTLE, *args],
            cwd=cwd,
            env=env or _env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{scheme}://127.0.0.1:{port}/", verify=False, timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # Our own session: the reloader's worker too.
            proc.wait(timeout=5)


def test_run_serves_logs_requests_and_reloads(project: Path) -> None:
    port = _free_port()
    (project / "settings.cfg").write_text("first")
    args = ["run", "--port", str(port), "--reload", "--extra-files", "settings.cfg"]
    with _server(args, project, port) as log:
        response = httpx.get(f"http://127.0.0.1:{port}/?x=1")
        assert response.status_code == 200
        assert response.text == "version one"
        # A code change restarts the worker: poll (bounded) until the new code answers.
        app_file = project / "app.py"
        deadline = time.monotonic() + 30
        body = ""
        written = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() - written > 5:
                # Written again while unseen: a change made while the watcher is still
                # taking its first look (a loaded machine) may go unnoticed once.
                app_file.write_text(APP.replace("version one", "version two"))
                written = time.monotonic()
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
            except httpx.TransportError:
                pass  # Between the old worker and the new one.
            if body == "version two":
                break
            time.sleep(0.2)
        assert body == "version two"
        assert httpx.get(f"http://127.0.0.1:{port}/fail").status_code == 500
        # A file named in --extra-files restarts the server too (it is read at import).
        assert httpx.get(f"http://127.0.0.1:{port}/settings").text == "first"
        (project / "settings.cfg").write_text("second")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/settings", timeout=2).text
            except httpx.TransportError:
                pass
            if body == "second":
                break
            time.sleep(0.2)
        assert body == "second"
        time.sleep(0.3)  # Let the server write its last log line.
        output = log.read_text()
    assert " * Serving Kettle app 'app'" in output
    assert " * Debug mode: off" in output
    assert f" * Running on http://127.0.0.1:{port}" in output
    assert "Reloading" in output
    # One access-log line per request: client, request line, status, size, duration.
    lines = [line for line in output.splitlines() if '"GET /?x=1 HTTP/1.1"' in line]
    assert len(lines) == 1
    address, _, rest = lines[0].partition(" - ")
    assert address.startswith("127.0.0.1:")
    status, size, duration = rest.split('" ')[1].split()
    assert (status, size) == ("200", "11")
    assert duration.endswith("ms")
    float(duration[:-2])
    assert '"GET /fail HTTP/1.1" 500' in output
    # Debug off: the error is logged with the request line, the page is plain.
    assert "Exception on /fail [GET]" in output


def _make_certificate(project: Path) -> None:
    """Write a self-signed cert.pem and key.pem for 127.0.0.1 into ``project``."""
    if shutil.which("openssl") is None and os.environ.get("CI") != "true":
        pytest.skip("openssl is needed to make a test certificate")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-keyout", "key.pem", "-out", "cert.pem"],
        cwd=project, check=True, capture_output=True, timeout=60,
    )


def test_run_debug_page_and_tls(project: Path) -> None:
    _make_certificate(project)
    port = _free_port()
    args = ["--debug", "run", "--port", str(port), "--no-reload", "--cert", "cert.pem", "--key", "key.pem"]
    with _server(args, project, port, scheme="https") as log:
        response = httpx.get(f"https://127.0.0.1:{port}/fail", verify=False)
        assert response.status_code == 500
        assert "ZeroDivisionError" in response.text
        assert "visible-local-value" in response.text
    output = log.read_text()
    assert " * Debug mode: on" in output
    assert f" * Running on https://127.0.0.1:{port}" in output


TLS_SETTINGS = """
import ssl

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("cert.pem", "key.pem")
"""


def test_run_with_an_imported_ssl_context(project: Path) -> None:
    _make_certificate(project)
    (project / "tls_settings.py").write_text(TLS_SETTINGS)
    port = _free_port()
    args = ["run", "--port", str(port), "--no-reload", "--cert", "tls_settings:context"]
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project), env.get("PYTHONPATH")]))
    with _server(args, project, port, scheme="https", env=env):
        assert httpx.get(f"https://127.0.0.1:{port}/", verify=False).text == "version one"


def test_run_with_an_adhoc_certificate(project: Path) -> None:
    pytest.importorskip("cryptography")
    port = _free_port()
    with _server(["run", "--port", str(port), "--reload", "--cert", "adhoc"], project, port, scheme="https"):
        response = httpx.get(f"https://127.0.0.1:{port}/", verify=False)
        assert response.text == "version one"


def test_run_rejects_key_without_cert(project: Path) -> None:
    (project / "key.pem").write_text("x")
    result = _kettle(["run", "--key", "key.pem"], project)
    assert result.returncode == 2
    assert '"--cert" must also be specified' in result.stderr


def test_routes_shell_and_custom_command_as_processes(project: Path) -> None:
    routes = _kettle(["routes"], project)
    assert routes.returncode == 0, routes.stderr
    assert routes.stdout.splitlines()[0].split() == ["Endpoint", "Methods", "Rule"]
    assert "fail      GET" in routes.stdout
    hello = _kettle(["hello"], project)
    assert hello.stdout == "hello from app\n"
    shell = _kettle(["shell"], project, stdin="print(answer, app.name)\n")
    assert shell.returncode == 0, shell.stderr
    assert "42 app" in shell.stdout
    assert "App: app" in shell.stderr  # code.interact writes its banner to stderr.
    assert f"Instance: {project / 'instance'}" in shell.stderr
    version = _kettle(["--version"], project)
    assert "Kettle 0.1.0" in version.stdout


def test_no_app_error_as_process(tmp_path: Path) -> None:
    result = _kettle(["routes"], tmp_path)
    assert result.returncode == 2
    assert "Could not locate a Kettle application" in result.stderr


def test_app_file_path_from_another_directory(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    port = _free_port()
    with _server(["--app", str(project / "app.py"), "run", "--port", str(port)], elsewhere, port):
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "version one"


def test_demo_app_as_make_demo_runs_it() -> None:
    port = _free_port()
    args = ["--app", "examples/http/app.py", "run", "--host", "127.0.0.1", "--port", str(port)]
    with _server(args, REPO, port):
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200


def test_app_run_from_a_script(tmp_path: Path) -> None:
    port = _free_port()
    script = tmp_path / "serve_me.py"
    script.write_text(APP + textwrap.dedent(f"""
        if __name__ == "__main__":
            app.run(port={port})
    """))
    log = tmp_path / "script.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(script)], cwd=tmp_path, env=_env(), stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text == "version one"
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert " * Serving Kettle app 'serve_me'" in log.read_text()
