"""Flask compatibility mode: the switch, the import hook and Werkzeug identity.

Each test runs a child interpreter, so the import hook never leaks into this
process. The ``site_python`` fixture builds a throwaway virtual environment
whose site-packages holds Kettle's real ``kettle_flask_compat.pth`` (as a wheel
or editable install puts it), so ``KETTLE_FLASK_COMPAT=1`` is exercised the
way users turn it on: for ``python -c``/``-m``, pytest, uvicorn, gunicorn,
granian and ``kettle run``, with real Flask installed next to Kettle.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import sysconfig
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

APP = textwrap.dedent(
    """
    import flask
    from flask import Flask, abort, request
    from werkzeug.datastructures import FileStorage, Headers, ImmutableMultiDict
    from werkzeug.exceptions import BadRequest, NotFound

    app = Flask(__name__)


    class CSRFError(BadRequest):  # as Flask-WTF defines it, outside Werkzeug
        description = "The CSRF token is missing."


    @app.route("/")
    def index():
        return f"{flask.__version__} {type(app).__module__}"


    @app.route("/missing")
    def missing():
        try:
            abort(404)
        except NotFound as e:
            return f"caught {e.code}"


    @app.route("/upload", methods=["POST"])
    def upload():
        f = request.files["f"]
        return (
            f"{isinstance(f, FileStorage)} {isinstance(request.headers, Headers)}"
            f" {isinstance(request.args, ImmutableMultiDict)} {f.read().decode()}"
        )


    @app.route("/csrf", methods=["POST"])
    def csrf():
        raise CSRFError()
    """
)


def _run(python: str, code: str, env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(
        [python, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _env(compat: bool, *paths: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KETTLE_FLASK_COMPAT"}
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in paths), str(SRC)])
    if compat:
        env["KETTLE_FLASK_COMPAT"] = "1"
    return env


@pytest.fixture(scope="module")
def site_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A virtual environment's python whose site-packages has Kettle's .pth hook."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120
    )
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    site = Path(purelib)
    # This test run's packages (Flask, Werkzeug, servers), as installed dependencies.
    (site / "deps.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n"
    )
    (site / "kettle_flask_compat.pth").write_text((SRC / "kettle_flask_compat.pth").read_text())
    return str(python)


def test_mode_off_imports_neither_flask_nor_werkzeug(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from kettle import Kettle, abort, request

        app = Kettle(__name__)

        @app.route("/")
        def index():
            return request.args.get("q", "")

        for protocol in ("wsgi", "asgi"):
            assert app.test_client(protocol=protocol).get("/?q=hi").text == "hi"
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "werkzeug"))
        print(loaded)
        """
    )
    assert _run(sys.executable, code, _env(False), tmp_path).strip() == "[]"


def test_import_kettle_compat_resolves_flask_to_kettle_modules(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import importlib, importlib.metadata, sys
        import kettle.compat
        from kettle.compat import FLASK_MODULES, is_installed
        assert is_installed()
        import flask, flask.json.tag, flask.sansio.scaffold
        from flask import Flask, request
        from flask.globals import request_ctx
        from flask.app import Flask as FlaskInApp  # Where Flask keeps it (Flask-Assets' tests).
        import kettle, kettle.globals
        assert Flask is kettle.Kettle and request is kettle.request and FlaskInApp is Flask
        assert flask.globals is kettle.globals and flask.json.tag is sys.modules["kettle.json.tag"]
        for name, target in FLASK_MODULES.items():
            if name == "flask.__main__":
                continue  # run by python -m flask (tested with the environment switch)
            module = importlib.import_module(name)
            assert module is importlib.import_module(target), name
            assert sys.modules[name] is module
            assert module.__spec__.name == target  # its own spec, not the alias's
        # Real Flask is installed (extensions depend on it) but never executed.
        print(importlib.metadata.version("flask"), flask.__version__)
        print(any(getattr(m, "__file__", "") and "site-packages/flask/" in m.__file__
                  for m in list(sys.modules.values())))
        """
    )
    out = _run(sys.executable, code, _env(False), tmp_path).split()
    assert out[1] == "3.1.3"
    assert out[2] == "False"


def test_turning_the_mode_on_after_flask_was_imported_is_refused(tmp_path: Path) -> None:
    code = "import flask\ntry:\n    import kettle.compat\nexcept RuntimeError as e:\n    print(e)"
    out = _run(sys.executable, code, _env(False), tmp_path)
    assert "imported before Kettle's compatibility mode" in out
    assert "KETTLE_FLASK_COMPAT=1" in out


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_werkzeug_identity_through_the_test_client(tmp_path: Path, protocol: str) -> None:
    (tmp_path / "compat_app.py").write_text(APP)
    code = textwrap.dedent(
        f"""
        import io
        import kettle.compat
        import werkzeug.test
        from compat_app import app

        client = app.test_client(protocol={protocol!r})
        rv = client.get("/missing")
        print(rv.text, isinstance(rv, werkzeug.test.TestResponse))
        rv = client.post("/upload?x=1", data={{"f": (io.BytesIO(b"data"), "a.txt")}})
        print(rv.text)
        rv = client.post("/csrf")
        print(rv.status_code, "CSRF token is missing" in rv.text)
        """
    )
    out = _run(sys.executable, code, _env(False, tmp_path), tmp_path).splitlines()
    assert out == ["caught 404 True", "True True True data", "400 True"]


def test_environment_switch_for_python_c_and_unset(site_python: str, tmp_path: Path) -> None:
    code = "import sys, flask; print(flask.__name__, 'kettle' in sys.modules)"
    on = _run(site_python, code, _env(True), tmp_path).split()
    assert on == ["kettle.compat.flask_module", "True"]
    # python -m flask is Kettle's command line.
    proc = subprocess.run(
        [site_python, "-m", "flask", "--version"], env=_env(True), cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Kettle " in proc.stdout and "Flask 3.1.3 (Kettle's Flask compatibility mode)" in proc.stdout
    # Unset: real Flask, and Kettle is not even imported.
    off = _run(site_python, code, _env(False), tmp_path).split()
    assert off == ["flask", "False"]


def test_environment_switch_for_pytest(site_python: str, tmp_path: Path) -> None:
    (tmp_path / "compat_app.py").write_text(APP)
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            """
            import io
            from compat_app import app


            def test_upload():
                rv = app.test_client().post("/upload", data={"f": (io.BytesIO(b"x"), "a")})
                assert rv.text == "True True True x"
            """
        )
    )
    proc = subprocess.run(
        [site_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"],
        env=_env(True, tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVERS = {
    "uvicorn": ["-m", "uvicorn", "compat_app:app.asgi", "--host", "127.0.0.1", "--port"],
    "gunicorn": ["-m", "gunicorn", "-w", "1", "compat_app:app", "-b"],
    "granian": ["-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                "compat_app:app", "--port"],
    "kettle run": ["-m", "kettle", "--app", "compat_app:app", "run", "--host", "127.0.0.1",
                   "--port"],
}


@pytest.fixture(params=sorted(SERVERS))
def live_url(request: pytest.FixtureRequest, site_python: str, tmp_path: Path) -> Iterator[str]:
    name = request.param
    if name == "granian" and importlib.util.find_spec("granian") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("granian is required under CI (make test installs Kettle's dev extra).")
        pytest.skip("granian is not installed here (it is in Kettle's dev extra)")
    (tmp_path / "compat_app.py").write_text(APP)
    port = _free_port()
    args = [*SERVERS[name], f"127.0.0.1:{port}" if name == "gunicorn" else str(port)]
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [site_python, *args], env=_env(True, tmp_path), cwd=tmp_path, stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{(tmp_path / 'server.log').read_text()}")
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.mark.live
def test_environment_switch_for_servers(live_url: str) -> None:
    assert httpx.get(live_url + "/").text == "3.1.3 kettle.app"
    assert httpx.get(live_url + "/missing").text == "caught 404"
    rv = httpx.post(live_url + "/upload?x=1", files={"f": ("a.txt", b"up")})
    assert rv.text == "True True True up"
    rv = httpx.post(live_url + "/csrf")
    assert rv.status_code == 400
    assert "The CSRF token is missing." in rv.text


def test_werkzeug_client_drives_any_wsgi_application(tmp_path: Path) -> None:
    # Flask-Admin's tests: werkzeug.test.Client(DispatcherMiddleware(app, {...})).
    (tmp_path / "compat_app.py").write_text(APP)
    code = textwrap.dedent(
        """
        import kettle.compat
        from werkzeug.middleware.dispatcher import DispatcherMiddleware
        from werkzeug.test import Client
        from compat_app import app

        def other(environ, start_response):
            start_response("200 OK", [("Set-Cookie", "seen=1; Path=/")])
            return [b"other " + environ.get("HTTP_COOKIE", "").encode()]

        client = Client(DispatcherMiddleware(app, {"/other": other}))
        print(client.get("/").text)
        print(client.get("/other/x").text)
        print(client.get("/other/x").text)
        """
    )
    out = _run(sys.executable, code, _env(False, tmp_path), tmp_path).splitlines()
    assert out == ["3.1.3 kettle.app", "other ", "other seen=1"]


def test_werkzeug_imported_before_the_mode_is_rebound_at_install(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import werkzeug.exceptions, werkzeug.datastructures
        early = werkzeug.exceptions.NotFound
        import kettle.compat
        from kettle.http.exceptions import NotFound
        from kettle.http.files import FileStorage
        print(werkzeug.exceptions.NotFound is NotFound,
              werkzeug.datastructures.FileStorage is FileStorage, early is NotFound)
        """
    )
    assert _run(sys.executable, code, _env(False), tmp_path).split() == ["True", "True", "False"]


def test_werkzeug_environ_builders_stay_werkzeugs(tmp_path: Path) -> None:
    # Werkzeug's create_environ and Request.from_values build through its own
    # EnvironBuilder (path first); Kettle's client also takes such a builder.
    (tmp_path / "compat_app.py").write_text(APP)
    code = textwrap.dedent(
        """
        import kettle.compat
        from werkzeug.test import EnvironBuilder, create_environ
        from werkzeug.wrappers import Request
        from compat_app import app

        print(create_environ("/p?x=1")["QUERY_STRING"], Request.from_values("/p?x=2").args["x"])
        print(app.test_client().open(EnvironBuilder("/missing")).text)
        """
    )
    out = _run(sys.executable, code, _env(False, tmp_path), tmp_path).splitlines()
    assert out == ["x=1 2", "caught 404"]


NAMES_APP = textwrap.dedent(
    """
    import warnings
    {compat}
    from kettle import Kettle, g, request

    app = Kettle("names", subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/")
    def index():
        werkzeug_request = request.environ.get("werkzeug.request")
        same = werkzeug_request is request._get_current_object()
        return f"{{g!r}} {{request.user_agent.string.split('/')[0]}} {{same}}"

    client = app.test_client(protocol={protocol!r})
    print(client.get("/", base_url="http://example.test/").text)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        # Flask's own tests silence this warning by its module, "flask.app".
        warnings.filterwarnings("ignore", "Current server name", UserWarning, "flask.app")
        status = client.get("/", base_url="http://10.0.0.1/").status_code
    print(status, [str(w.message).split(" '")[0] for w in seen])
    """
)


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
@pytest.mark.parametrize("compat", [True, False])
def test_flask_names_only_in_the_mode(tmp_path: Path, protocol: str, compat: bool) -> None:
    code = NAMES_APP.format(compat="import kettle.compat" if compat else "", protocol=protocol)
    out = _run(sys.executable, code, _env(False), tmp_path).splitlines()
    # Werkzeug's server sets environ["werkzeug.request"]: so does Kettle, in the mode, under
    # WSGI and in the environ built from the scope under ASGI.
    if compat:
        assert out == ["<flask.g of 'names'> Werkzeug True", "404 []"]
    else:
        assert out == ["<kettle.g of 'names'> Kettle False", "404 ['Current server name']"]


@pytest.mark.parametrize("compat", [True, False])
def test_request_from_a_bare_environ_only_in_the_mode(tmp_path: Path, compat: bool) -> None:
    code = textwrap.dedent(
        f"""
        {"import kettle.compat" if compat else ""}
        from kettle import Kettle, Request

        try:
            r = Request({{"REQUEST_METHOD": "POST", "PATH_INFO": "/p", "QUERY_STRING": "a=1"}})
        except TypeError:
            print("TypeError")
        else:
            print(r.method, r.path, r.args["a"], r.environ["PATH_INFO"])
        # Requests the adapters build still work in the mode.
        app = Kettle("bare")
        app.post("/p")(lambda: "posted")
        print(app.test_client().post("/p").text, app.test_client(protocol="asgi").post("/p").text)
        """
    )
    out = _run(sys.executable, code, _env(False), tmp_path).splitlines()
    assert out == ["POST /p 1 /p" if compat else "TypeError", "posted posted"]
