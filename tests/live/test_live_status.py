"""A custom status (the material's 666) reaches the client under every server the docs name."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from loopback_servers import KETTLE, free_port, live_env, require, serving

pytestmark = pytest.mark.live

APP_SOURCE = textwrap.dedent(
    """
    from kettle import Kettle

    app = Kettle(__name__)


    @app.route("/")
    def index():
        return "up"


    @app.route("/status/<int:code>")
    def status(code):
        return f"status {code}", code


    asgi = app.asgi  # gunicorn's app names take no dots: 'status_app:asgi'
    """
)

PY = sys.executable
#: Each server the docs name, as the command that serves status_app on ``port``.
SERVERS: dict[str, tuple[str | None, Callable[[int], list[str]]]] = {
    "kettle-run": (None, lambda port: [
        KETTLE, "--app", "status_app", "run", "--port", str(port), "--no-reload"]),
    "uvicorn-h11": (None, lambda port: [
        PY, "-m", "uvicorn", "status_app:app.asgi", "--http", "h11", "--port", str(port)]),
    "uvicorn-httptools": ("httptools", lambda port: [
        PY, "-m", "uvicorn", "status_app:app.asgi", "--http", "httptools", "--port", str(port)]),
    "granian": ("granian", lambda port: [
        PY, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
        "status_app:app.asgi"]),
    "gunicorn": (None, lambda port: [
        PY, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "status_app:app"]),
    "gunicorn-uvicorn-worker": (None, lambda port: [
        PY, "-m", "gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", f"127.0.0.1:{port}",
        "status_app:asgi"]),
}


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_custom_status_reaches_the_client(name: str, tmp_path: Path) -> None:
    needs, command = SERVERS[name]
    if needs:
        require(needs)
    (tmp_path / "status_app.py").write_text(APP_SOURCE)
    port = free_port()
    with serving(command(port), tmp_path, live_env(tmp_path), tmp_path / "log", port) as server:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            for code in (666, 299, 999, 418):
                response = client.get(f"/status/{code}")
                assert response.status_code == code
                assert response.text == f"status {code}"
            # The connection still serves after the custom codes.
            assert client.get("/").text == "up"
        assert "KeyError" not in server.output()
        assert "Traceback" not in server.output()
