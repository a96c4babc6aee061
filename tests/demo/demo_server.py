"""Serve the HTTP demo with ``kettle run`` on a free loopback port, for live and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "http" / "app.py"
KETTLE = Path(sys.executable).with_name("kettle")


def free_port() -> int:
    """Ask the OS for a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_demo(log_path: Path) -> Iterator[str]:
    """Run ``kettle --app examples/http/app.py run`` and yield its base URL; stop it by PID."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KETTLE_DEBUG", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(KETTLE), "--app", str(DEMO), "run", "--host", "127.0.0.1", "--port", str(port),
             "--no-reload"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"kettle run exited: {log_path.read_text(errors='replace')}")
            try:
                if httpx.get(base + "/hello", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"kettle run did not start: {log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield base
    finally:
        # Ctrl+C; a request still at work (a page's long poll) is waited for, so a second
        # Ctrl+C after a while, as a user would: the server exits at once and cleans up.
        for signum, wait in ((signal.SIGINT, 5), (signal.SIGINT, 10), (signal.SIGKILL, 5)):
            process.send_signal(signum)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
