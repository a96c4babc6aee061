"""Start and stop real servers on loopback for the live tests (free ports, stopped by PID)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

KETTLE = str(Path(sys.executable).with_name("kettle"))
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Ask the OS for a loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require(module: str) -> None:
    """Skip when ``module`` is not installed; under CI=true fail instead (dev extra installs it)."""
    if importlib.util.find_spec(module) is not None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{module} is missing; `make test` installs it with the dev extra.")
    pytest.skip(f"{module} is not installed (pip install -e '.[dev]')")


def live_env(*paths: str | Path) -> dict[str, str]:
    """The environment for a server process: ``paths``, then this interpreter's sys.path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KETTLE_", "FLASK_"))}
    env["PYTHONUNBUFFERED"] = "1"
    entries = [str(path) for path in paths] + [os.path.abspath(p) for p in sys.path if p]
    env["PYTHONPATH"] = os.pathsep.join(entries)
    return env


class Server:
    """A started server process: its base URL, its log file and its output so far."""

    def __init__(self, process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
        self.process = process
        self.base = base
        self.log_path = log_path

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr together)."""
        return self.log_path.read_text(errors="replace")

    def interrupt(self, timeout: float = 15) -> int:
        """Send SIGINT (Ctrl+C) and wait for the exit code; fail the test when it hangs."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not exit {timeout}s after SIGINT:\n{self.output()}")


@contextmanager
def serving(
    command: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    port: int,
    ready_path: str = "/",
    start_timeout: float = 40,
) -> Iterator[Server]:
    """Run ``command`` until ``ready_path`` answers; stop it (SIGINT, then kill) afterwards."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[:3]} exited early:\n{server.output()}")
            try:
                httpx.get(server.base + ready_path, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[:3]} did not start:\n{server.output()}") from None
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
