"""The usual first mistakes under ``kettle run``: a port in use, a syntax error while reloading."""

from __future__ import annotations

import socket
import subprocess
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from loopback_servers import KETTLE, free_port, live_env, serving

pytestmark = pytest.mark.live

APP = textwrap.dedent(
    """
    from kettle import Kettle

    app = Kettle(__name__)


    @app.route("/")
    def index():
        return "version one"
    """
)


def test_port_in_use_says_so_before_any_banner(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [KETTLE, "--app", "app", "run", "--port", str(port)],
            cwd=tmp_path, env=live_env(tmp_path), capture_output=True, text=True, timeout=60,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert f"Port {port} is in use by another program" in output
    assert "--port" in output
    # Nothing claims to be serving, and no server traceback follows.
    assert "Serving Kettle app" not in output
    assert "Running on" not in output
    assert "Traceback" not in output
    assert "Errno" not in output


def _poll(url: str, wanted: str, rewrite: tuple[Path, str], limit: float = 40) -> httpx.Response:
    """GET ``url`` until its body contains ``wanted``; write the file again while unseen."""
    path, text = rewrite
    deadline = time.monotonic() + limit
    written = 0.0
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        if time.monotonic() - written > 5:
            # A change made while the watcher takes its first look may go unnoticed once.
            path.write_text(text)
            written = time.monotonic()
        try:
            last = httpx.get(url, timeout=5)
        except httpx.TransportError:
            last = None  # Between the old worker and the new one.
        if last is not None and wanted in last.text:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered {wanted!r}; last: {last and last.text[:300]!r}")


def test_syntax_error_while_reloading_shows_a_debug_page_then_recovers(tmp_path: Path) -> None:
    app_file = tmp_path / "app.py"
    app_file.write_text(APP)
    port = free_port()
    command = [KETTLE, "--app", "app", "--debug", "run", "--port", str(port)]
    with serving(command, tmp_path, live_env(tmp_path), tmp_path / "log", port) as server:
        assert httpx.get(server.base + "/").text == "version one"
        broken = APP.replace('return "version one"', 'return "version one" +')
        page = _poll(server.base + "/", "SyntaxError", (app_file, broken))
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        # The page names the file and the line, as Flask's reloader does.
        line = broken.splitlines().index('    return "version one" +') + 1
        assert str(app_file) in page.text
        assert f"line {line}" in page.text
        # Every path shows it: the app could not be loaded at all.
        assert "SyntaxError" in httpx.get(server.base + "/anything").text
        fixed = APP.replace("version one", "version two")
        assert _poll(server.base + "/", "version two", (app_file, fixed)).status_code == 200
    assert "The app could not be loaded" in server.output()
