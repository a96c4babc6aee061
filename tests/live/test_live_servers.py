"""Real servers on loopback: gunicorn (WSGI) and uvicorn (ASGI) serving one app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.live

APP_SOURCE = textwrap.dedent(
    """
    from kettle import Kettle, abort, request

    app = Kettle(__name__)


    @app.route("/")
    def index():
        return "hello"


    @app.route("/buy")
    def buy():
        return {"name": request.args.get("name"), "url": request.url, "host": request.host}


    @app.route("/form", methods=["POST"])
    def form():
        return {"fields": request.form.to_dict(flat=False)}


    @app.route("/json", methods=["POST"])
    def json_view():
        return {"got": request.get_json()}


    @app.route("/async")
    async def async_view():
        return "async " + request.method


    @app.route("/gone")
    def gone():
        abort(410)
    """
)

SERVERS = {
    "gunicorn": lambda port: [
        sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1",
        "--log-level", "warning", "live_app:app",
    ],
    "uvicorn": lambda port: [
        sys.executable, "-m", "uvicorn", "live_app:app.asgi", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning",
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(params=sorted(SERVERS))
def base_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "live_app.py").write_text(APP_SOURCE)
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        SERVERS[request.param](port), cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{request.param} exited early:\n{(tmp_path / 'server.log').read_text()}"
                )
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        stop(process)
        log.close()


def test_get_and_seed_urls(base_url: str) -> None:
    response = httpx.get(base_url + "/buy?name=apple")
    assert response.status_code == 200
    host = base_url.removeprefix("http://")
    assert response.json() == {"name": "apple", "url": f"{base_url}/buy?name=apple", "host": host}


def test_post_form(base_url: str) -> None:
    response = httpx.post(base_url + "/form", data={"a": ["1", "2"], "b": "x y"})
    assert response.status_code == 200
    assert response.json() == {"fields": {"a": ["1", "2"], "b": ["x y"]}}


def test_post_json(base_url: str) -> None:
    response = httpx.post(base_url + "/json", json={"k": [1, 2, {"n": None}]})
    assert response.status_code == 200
    assert response.json() == {"got": {"k": [1, 2, {"n": None}]}}


def test_errors(base_url: str) -> None:
    missing = httpx.get(base_url + "/missing")
    assert missing.status_code == 404
    assert "Not Found" in missing.text
    assert httpx.get(base_url + "/gone").status_code == 410
    wrong = httpx.delete(base_url + "/form")
    assert wrong.status_code == 405
    assert "POST" in wrong.headers["allow"]


def test_keep_alive_sequence(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        bodies = [client.get("/").text for _ in range(5)]
        bodies.append(client.get("/async").text)
        bodies.append(client.post("/json", json=[1]).text)
        bodies.append(client.get("/").text)
    assert bodies[:5] == ["hello"] * 5
    assert bodies[5] == "async GET"
    assert '"got":[1]' in bodies[6].replace(" ", "")
    assert bodies[7] == "hello"
