"""examples/extensions: migrations by the flask command, then the CRUD page as a user uses it.

The example is copied to a temporary folder (its instance folder, database and
migrations are made there). ``flask db init/migrate/upgrade`` and the app's
``create-user`` command run in a subprocess, as a user types them; in
compatibility mode the ``flask`` command the runner puts first on PATH is
Kettle's. Sessions are kept in a real redis-server.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import redis

from conftest import ON_KETTLE
from redis_server import free_port

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "extensions"


def flask_cmd(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, SECRET_KEY="example-test-key", DATABASE_URL=f"sqlite:///{folder}/notes.sqlite"
    )
    env.pop("REDIS_URL", None)
    return subprocess.run(
        ["flask", "--app", "app", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ModuleType]]:
    folder = tmp_path_factory.mktemp("example")
    for name in ("app.py", "asgi.py"):
        shutil.copy(EXAMPLE / name, folder / name)
    shutil.copytree(EXAMPLE / "templates", folder / "templates")
    for step in (("db", "init"), ("db", "migrate", "-m", "notes"), ("db", "upgrade")):
        done = flask_cmd(folder, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    for name, password in (("ada", "lovelace"), ("grace", "hopper")):
        done = flask_cmd(folder, "notes", "create-user", name, "--password", password)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"created {name}" in done.stdout
    spec = importlib.util.spec_from_file_location("notes_example", folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["notes_example"] = module
    spec.loader.exec_module(module)
    try:
        yield folder, module
    finally:
        sys.modules.pop("notes_example", None)


@pytest.fixture
def app(example: tuple[Path, ModuleType], redis_client: redis.Redis) -> Any:
    folder, module = example
    return module.create_app(
        {
            "SECRET_KEY": "example-test-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/notes.sqlite",
            "SESSION_TYPE": "redis",
            "SESSION_REDIS": redis_client,
        }
    )


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def log_in(client: Any, username: str = "ada", password: str = "lovelace") -> Any:
    page = client.get("/login").text
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token(page)}
    )


def test_the_flask_command_is_the_one_of_the_mode(example: tuple[Path, ModuleType]) -> None:
    folder, _ = example
    version = flask_cmd(folder, "--version")
    assert version.returncode == 0, version.stderr
    if ON_KETTLE:
        assert "Kettle's Flask compatibility mode" in version.stdout
    else:
        assert "Werkzeug" in version.stdout


def test_migrations_made_the_tables(example: tuple[Path, ModuleType]) -> None:
    folder, _ = example
    assert (folder / "migrations" / "env.py").exists()
    with sqlite3.connect(folder / "notes.sqlite") as conn:
        tables = {
            row[0] for row in conn.execute("select name from sqlite_master where type='table'")
        }
        users = [row[0] for row in conn.execute("select username from user order by id")]
    assert {"user", "note", "alembic_version"} <= tables
    assert users == ["ada", "grace"]
    current = flask_cmd(folder, "db", "current")
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout


def test_pages_need_a_login(app: Any, make_client: Callable[..., Any]) -> None:
    client = make_client(app)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2F"
    assert "Please log in to access this page." in client.get("/login").text


def test_wrong_password_and_missing_csrf_token_do_not_log_in(
    app: Any, make_client: Callable[..., Any]
) -> None:
    client = make_client(app)
    response = log_in(client, password="wrong")
    assert response.status_code == 200
    assert "Wrong username or password." in response.text
    no_token = client.post("/login", data={"username": "ada", "password": "lovelace"})
    assert no_token.status_code == 400  # Flask-WTF's CSRFError, a BadRequest
    assert "The CSRF token is missing." in no_token.text
    assert client.get("/").status_code == 302


def test_crud_round_trip(
    app: Any, make_client: Callable[..., Any], redis_client: redis.Redis
) -> None:
    client = make_client(app)
    response = log_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    sid = client.get_cookie("session").value
    assert redis_client.exists(f"session:{sid}")  # the session is on the server

    page = client.get("/").text
    assert "Signed in as ada" in page
    created = client.post(
        "/notes", data={"title": "Tea & <cake>", "body": "at four", "csrf_token": token(page)}
    )
    assert created.status_code == 302
    page = client.get("/").text
    assert "Created “Tea &amp; &lt;cake&gt;”." in page
    note_id = int(re.findall(r'href="/notes/(\d+)"', page)[-1])

    edit_page = client.get(f"/notes/{note_id}").text
    assert 'value="Tea &amp; &lt;cake&gt;"' in edit_page
    empty = client.post(f"/notes/{note_id}", data={"title": "", "csrf_token": token(edit_page)})
    assert empty.status_code == 400
    assert "This field is required." in empty.text
    saved = client.post(
        f"/notes/{note_id}",
        data={"title": "Tea", "body": "at five", "csrf_token": token(edit_page)},
    )
    assert saved.status_code == 302
    page = client.get("/").text
    assert f'<a href="/notes/{note_id}">Tea</a>' in page

    deleted = client.post(f"/notes/{note_id}/delete", data={"csrf_token": token(page)})
    assert deleted.status_code == 302
    page = client.get("/").text
    assert "Deleted “Tea”." in page
    assert f'href="/notes/{note_id}"' not in page
    assert client.get(f"/notes/{note_id}").status_code == 404


def test_someone_elses_note_is_not_found(app: Any, make_client: Callable[..., Any]) -> None:
    ada, grace = make_client(app), make_client(app)
    log_in(ada)
    page = ada.get("/").text
    ada.post("/notes", data={"title": "private", "csrf_token": token(page)})
    note_id = int(re.findall(r'href="/notes/(\d+)"', ada.get("/").text)[-1])
    log_in(grace, "grace", "hopper")
    assert grace.get(f"/notes/{note_id}").status_code == 404
    grace_page = grace.get("/").text
    assert "private" not in grace_page
    refused = grace.post(f"/notes/{note_id}/delete", data={"csrf_token": token(grace_page)})
    assert refused.status_code == 404
    assert "private" in ada.get("/").text


def test_server_side_session_counts_and_logout_clears_it(
    app: Any, make_client: Callable[..., Any], redis_client: redis.Redis
) -> None:
    client = make_client(app)
    log_in(client)
    client.get("/")
    page = client.get("/").text
    assert "Page views this session: 2" in page
    sid = client.get_cookie("session").value
    response = client.post("/logout", data={"csrf_token": token(page)})
    assert response.status_code == 302
    assert not redis_client.exists(f"session:{sid}")
    assert client.get("/").status_code == 302


SERVERS = ["gunicorn", "uvicorn"] if ON_KETTLE else ["gunicorn"]


@pytest.fixture(params=SERVERS)
def live_url(
    request: pytest.FixtureRequest, example: tuple[Path, ModuleType], redis_port: int
) -> Iterator[str]:
    """The example under a real server (gunicorn: WSGI, uvicorn: ASGI) on a free port."""
    folder, _ = example
    port = free_port()
    switch = "import kettle.compat_switch; " if ON_KETTLE else ""
    if request.param == "gunicorn":
        code = switch + "from gunicorn.app.wsgiapp import run; run()"
        args = ["--bind", f"127.0.0.1:{port}", "--workers", "1", "app:create_app()"]
    else:
        code = switch + "import uvicorn; uvicorn.main()"
        args = ["--host", "127.0.0.1", "--port", str(port), "asgi:app"]
    env = dict(
        os.environ,
        SECRET_KEY="example-test-key",
        DATABASE_URL=f"sqlite:///{folder}/notes.sqlite",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/login", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"{request.param} did not start: {err[-2000:]}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_under_a_real_server(live_url: str, redis_client: redis.Redis) -> None:
    with httpx.Client(base_url=live_url, timeout=10) as client:
        assert client.get("/").headers["location"] == "/login?next=%2F"
        login = client.post(
            "/login",
            data={
                "username": "ada",
                "password": "lovelace",
                "csrf_token": token(client.get("/login").text),
            },
        )
        assert login.status_code == 302
        assert redis_client.exists(f"session:{client.cookies['session']}")
        # Kettle's default SESSION_COOKIE_SAMESITE is "Lax" (Flask's is None): the server
        # really runs the app on Kettle.
        assert ("SameSite=Lax" in login.headers["set-cookie"]) is ON_KETTLE
        page = client.get("/").text
        title = f"live {live_url.rsplit(':', 1)[1]}"
        created = client.post("/notes", data={"title": title, "csrf_token": token(page)})
        assert created.status_code == 302
        assert f">{title}</a>" in client.get("/").text
        refused = client.post("/notes", data={"title": "no token"})
        assert refused.status_code == 400
