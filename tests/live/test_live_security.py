"""Security behaviour that depends on the server, on loopback: uvicorn and gunicorn.

WebSocket handshakes (uvicorn), refusals without receiving the body, slow
clients on a streaming route (uvicorn's thread pool), and a client that
resets the connection mid-upload. Every loop is bounded in count and time.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from test_live_servers import SERVERS, free_port, stop

pytestmark = pytest.mark.live

APP_SOURCE = textwrap.dedent(
    """
    import logging
    import os

    from kettle import Kettle, request
    from kettle.csrf import CSRFProtect

    logging.basicConfig(level=logging.INFO)  # The INFO disconnect lines reach the log.
    app = Kettle(__name__)
    app.config.update(SECRET_KEY="live", TRUSTED_HOSTS=["127.0.0.1"], ASGI_THREADS=8)
    csrf = CSRFProtect(app)
    EVENTS = os.environ["LIVE_EVENTS"]


    def note(text):
        with open(EVENTS, "a") as events:
            events.write(text + "\\n")


    @app.route("/")
    def index():
        return "hello"


    @app.route("/form", methods=["POST"])
    def form():
        return "posted"


    @app.route("/upload", methods=["POST"])
    @csrf.exempt
    def upload():
        try:
            return {"size": len(request.files["file"].read())}
        except Exception as e:
            note("view " + type(e).__name__)
            raise


    @app.route("/slow", methods=["POST"], stream_body=True)
    @csrf.exempt
    def slow():
        return {"size": len(request.stream.read())}


    @app.teardown_request
    def teardown(exc):
        if request.path == "/upload":
            note("teardown /upload")
    """
)

WS_SOURCE = textwrap.dedent(
    """
    import os

    from kettle import Kettle, g, request, websocket

    app = Kettle(__name__, subdomain_matching=True)
    port = os.environ["LIVE_PORT"]
    app.config.update(SERVER_NAME=f"good.test:{port}", TRUSTED_HOSTS=["good.test", ".good.test"])


    @app.route("/")
    def index():
        return "hello"


    @app.before_request
    def who():
        g.user = request.headers.get("X-User", "anon")


    @app.websocket("/ws")
    async def main():
        await websocket.accept()
        await websocket.send_text(f"main {g.user}")


    @app.websocket("/ws", subdomain="chat")
    async def chat():
        await websocket.accept()
        await websocket.send_text(f"chat {g.user}")
    """
)


@contextmanager
def serve(
    server: str, source: str, tmp_path: Path, host: str = "127.0.0.1", options: tuple[str, ...] = ()
) -> Iterator[dict[str, str]]:
    """Run ``source`` as live_app under ``server``; yield its port and its files."""
    (tmp_path / "live_app.py").write_text(source)
    port = free_port()
    events = tmp_path / "events.txt"
    events.write_text("")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]),
        LIVE_PORT=str(port),
        LIVE_EVENTS=str(events),
    )
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    command = [*SERVERS[server](port), *options]
    if server == "gunicorn":
        command[command.index("warning")] = "info"
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{server} exited early:\n{log_path.read_text()}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": f"{host}:{port}"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield {"port": str(port), "log": str(log_path), "events": str(events)}
    finally:
        stop(process)
        log.close()


def raw_request(port: int, head: str, body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    sock.sendall(head.encode("latin-1") + body)
    return sock


def read_head(sock: socket.socket) -> tuple[int, bytes]:
    """Read the response head; return the status and whatever came after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


def wait_for(check: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


# -- WebSocket handshakes (uvicorn) -----------------------------------------


def handshake(port: int, host: str, path: str = "/ws", **headers: str) -> tuple[int, str | None]:
    """Open a WebSocket by hand; return the status and, on 101, the first text frame."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
    ]
    with raw_request(port, "\r\n".join(lines) + "\r\n\r\n") as sock:
        status, rest = read_head(sock)
        if status != 101:
            return status, None
        while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        opcode, length = rest[0] & 0x0F, rest[1] & 0x7F
        assert opcode == 1 and length < 126
        text = rest[2 : 2 + length].decode()
        with suppress(OSError):
            sock.sendall(struct.pack("!BB", 0x88, 0x80) + b"\x00" * 4)  # Masked close frame.
        return status, text


@pytest.mark.parametrize("implementation", ["websockets", "wsproto"])
def test_websocket_handshakes_under_uvicorn(implementation: str, tmp_path: Path) -> None:
    pytest.importorskip(implementation)
    # Both of uvicorn's WebSocket protocols offer websocket.http.response, so a
    # refusal carries the status HTTP would get (the close-before-accept path,
    # for servers without it, is tested in-process).
    options = ("--ws", implementation)
    with serve("uvicorn", WS_SOURCE, tmp_path, host="good.test", options=options) as server:
        port = int(server["port"])
        good = f"good.test:{port}"
        assert handshake(port, f"evil.test:{port}") == (400, None)
        assert handshake(port, good, X_User="ann") == (101, "main ann")  # before_request ran.
        assert handshake(port, f"chat.good.test:{port}") == (101, "chat anon")  # Subdomain rule.
        assert handshake(port, f"other.good.test:{port}") == (404, None)
        assert handshake(port, good, Origin="https://evil.test") == (403, None)
        assert handshake(port, good, Origin=f"http://{good}") == (101, "main anon")
        assert handshake(port, good) == (101, "main anon")  # No Origin: not a browser.
        assert handshake(port, good, path="/nowhere") == (404, None)


# -- The body is received only when it will be used --------------------------

SIZE = 8 * 1024 * 1024


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_refusals_come_before_the_body(server: str, tmp_path: Path) -> None:
    with serve(server, APP_SOURCE, tmp_path) as info:
        port = int(info["port"])
        cases = [
            ("POST /nowhere", f"127.0.0.1:{port}", "", 404),
            ("PUT /", f"127.0.0.1:{port}", "", 405),
            ("POST /form", f"evil.test:{port}", "", 400),
            ("POST /form", f"127.0.0.1:{port}", "Origin: https://evil.test\r\n", 403),
        ]
        for request_line, host, extra, status in cases:
            head = (
                f"{request_line} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {SIZE}\r\n"
                f"Content-Type: application/octet-stream\r\n{extra}\r\n"
            )
            # 64 KiB of 8 MiB sent: the answer can only come if the rest is not awaited.
            with raw_request(port, head, b"x" * 65536) as sock:
                assert read_head(sock)[0] == status, request_line
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text == "hello"


# -- Slow clients on a streaming sync route (uvicorn's worker pool) ----------


def test_slow_uploads_do_not_starve_other_routes(tmp_path: Path) -> None:
    with serve("uvicorn", APP_SOURCE, tmp_path) as info:
        port = int(info["port"])
        head = (
            f"POST /slow HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        slow = [raw_request(port, head, b"x") for _ in range(12)]  # The pool has 8 threads.
        try:
            time.sleep(1)  # Let them reach the app (a bound, not a measurement).
            with httpx.Client(timeout=15) as client:
                answers = [client.get(f"http://127.0.0.1:{port}/").text for _ in range(10)]
            assert answers == ["hello"] * 10
            for sock in slow[:2]:  # The slow ones still complete once they send the rest.
                sock.sendall(b"y" * 999)
                status, _ = read_head(sock)
                assert status == 200
        finally:
            for sock in slow:
                sock.close()


# -- A client that resets the connection mid-upload --------------------------

BOUNDARY = "liveboundary"
UPLOAD = (
    f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
).encode() + b"x" * 1_000_000 + f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_reset_mid_upload_is_one_info_line(server: str, tmp_path: Path) -> None:
    resets = 5
    with serve(server, APP_SOURCE, tmp_path) as info:
        port = int(info["port"])
        log = Path(info["log"])
        events = Path(info["events"])
        head = (
            f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Length: {len(UPLOAD)}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
        )
        for _ in range(resets):
            sock = raw_request(port, head, UPLOAD[:300_000])
            time.sleep(0.2)  # The server reads what was sent, then waits for more.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # SO_LINGER 0: the close is a TCP reset.

        def lines() -> list[str]:
            return [
                line for line in log.read_text().splitlines() if "Client disconnected" in line
            ]

        assert wait_for(lambda: len(lines()) >= resets), log.read_text()[-3000:]
        # Everything is still served, and a whole upload works.
        response = httpx.post(
            f"http://127.0.0.1:{port}/upload",
            content=UPLOAD,
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            timeout=15,
        )
        assert response.json() == {"size": 1_000_000}
        text = log.read_text()
    assert len(lines()) == resets
    assert all("INFO" in line for line in lines())
    assert "Traceback" not in text
    assert "ConnectionResetError" not in text
    recorded = events.read_text().splitlines()
    if server == "gunicorn":
        # WSGI reads the body in the view: it meets ClientDisconnected, teardown runs.
        assert recorded.count("view ClientDisconnected") == resets
        assert recorded.count("teardown /upload") == resets + 1
    else:
        # ASGI receives the body before any hook: nothing runs for a request that
        # never arrived whole (the INFO line says so).
        assert recorded == ["teardown /upload"]
