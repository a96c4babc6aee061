"""Issue 13 items 3 and 5 under real servers: gunicorn, wsgiref (WSGI) and uvicorn (ASGI).

Raw bytes over a socket, so the test sees exactly what the server wrote: a
bad Host is a 400 and never reaches a URL; a CR/LF or non-latin-1 header
value set by the app is the app's 500, never a split response or a dropped
connection.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_live_servers import free_port, stop

pytestmark = pytest.mark.live

APP_SOURCE = textwrap.dedent(
    """
    from kettle import Kettle, Response, request, url_for

    app = Kettle(__name__)
    app.config["TRUSTED_HOSTS"] = ["good.test", ".corp.test", "127.0.0.1"]


    @app.route("/where")
    def where():
        return {"host": request.host, "external": url_for("where", _external=True)}


    @app.route("/dir/")
    def directory():
        return "dir"


    @app.route("/mimetype")
    def mimetype():
        return Response("x", mimetype=request.args["m"])


    @app.route("/echo")
    def echo():
        return "x", {"X-Echo": request.args["m"]}
    """
)

SERVERS = {
    "gunicorn": lambda port: [
        sys.executable,
        "-m",
        "gunicorn",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
        "--log-level",
        "warning",
        "sec_app:app",
    ],
    # The reproduction: the stdlib server writes whatever header it is given.
    "wsgiref": lambda port: [
        sys.executable,
        "-c",
        "from wsgiref.simple_server import make_server; from sec_app import app;"
        f" make_server('127.0.0.1', {port}, app).serve_forever()",
    ],
    "uvicorn": lambda port: [
        sys.executable,
        "-m",
        "uvicorn",
        "sec_app:app.asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ],
}


def raw(port: int, path: str, host: bytes) -> bytes:
    """Send one GET with exactly this Host and return everything the server wrote."""
    request = b"GET " + path.encode("ascii") + b" HTTP/1.1\r\nHost: " + host
    request += b"\r\nConnection: close\r\n\r\n"
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def head_of(response: bytes) -> bytes:
    return response.partition(b"\r\n\r\n")[0]


@pytest.fixture(params=sorted(SERVERS))
def port(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    (tmp_path / "sec_app.py").write_text(APP_SOURCE)
    number = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        SERVERS[request.param](number), cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{request.param} exited early:\n{(tmp_path / 'server.log').read_text()}"
                )
            try:
                if status_of(raw(number, "/where", b"127.0.0.1")) == 200:
                    break
            except (OSError, IndexError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{request.param} did not start")
            time.sleep(0.1)
        yield number
    finally:
        stop(process)
        log.close()


@pytest.mark.parametrize(
    "host",
    [
        b"good.test:@evil.test",
        b"evil.test/.corp.test",
        b"evil.test?.corp.test",
        b"evil.test#.corp.test",
        b"evil.test\\.corp.test",
        b"good.test:99999",
        b"evil.test",
    ],
)
def test_bad_or_untrusted_host_is_400_live(port: int, host: bytes) -> None:
    for path in ("/where", "/dir"):
        response = raw(port, path, host)
        assert status_of(response) == 400, response[:200]
        assert b"location:" not in head_of(response).lower()
        assert b"http://good.test:@" not in response and b"http://evil" not in response


def test_trusted_host_builds_urls_from_the_parsed_host_live(port: int) -> None:
    response = raw(port, "/where", b"Shop.Corp.Test:80")
    assert status_of(response) == 200
    assert b'"external":"http://shop.corp.test/where"' in response
    redirect = raw(port, "/dir", b"good.test")
    assert status_of(redirect) == 308
    assert b"\r\nlocation: http://good.test/dir/" in head_of(redirect).lower()


@pytest.mark.parametrize(
    "query",
    [
        "/mimetype?m=text/html%0d%0aSet-Cookie:%20pwned=1",
        "/mimetype?m=text/html%00",
        "/echo?m=a%0d%0aSet-Cookie:%20pwned=1",
        "/echo?m=%C4%B0%E2%80%A8",
    ],
)
def test_header_injection_is_the_apps_500_live(port: int, query: str) -> None:
    response = raw(port, query, b"127.0.0.1")
    assert status_of(response) == 500, response[:200]
    head = head_of(response).lower()
    assert b"set-cookie" not in head and b"pwned" not in head
    assert head.count(b"\r\n") == head.count(b": ")  # one line per header, no split
